// The runs page: GET /api/runs for the table, GET /api/runs/{name} for curves and details; polled every
// two seconds so a run in training grows on screen. The run shown is in the URL (#name), so a reload or a
// link keeps it; by default it is the run training, else the newest with a finished epoch.
(function () {
  const $ = id => document.getElementById(id);
  const ticked = new Set();
  const details = new Map();
  let focus = null, firstLoad = true, training = null;
  const pct = x => (x === null || x === undefined ? "–" : (x * 100).toFixed(2) + " %");
  const esc = s => String(s === null || s === undefined ? "" : s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  async function getJson(url) {
    const r = await fetch(url);
    const body = await r.json();
    if (!r.ok) throw new Error(body.error);
    return body;
  }

  async function loadDetail(name) {
    const d = await getJson("/api/runs/" + encodeURIComponent(name));
    details.set(name, d);
    return d;
  }

  function table(runs) {
    const body = $("runs").querySelector("tbody");
    body.innerHTML = runs.map(r => `<tr class="${r.name === focus ? "selected" : ""}" data-run="${esc(r.name)}">
      <td><input type="checkbox" ${ticked.has(r.name) ? "checked" : ""} data-tick="${esc(r.name)}"></td>
      <td><a data-focus="${esc(r.name)}" href="#${encodeURIComponent(r.name)}">${esc(r.name)}</a>${r.validation ? ` <span class="note" title="evaluated on ${r.validation} held-out training images, not the test set">(validation)</span>` : ""}</td><td>${esc(r.model)}</td><td>${esc(r.recipe)}</td>
      <td>${r.params === null ? "–" : Number(r.params).toLocaleString("en")}</td><td>${r.epochs_done}/${r.epochs}</td>
      <td>${pct(r.best_test_accuracy)}</td><td class="final" data-value="${r.final_test_accuracy ?? ""}">${pct(r.final_test_accuracy)}</td>
      <td>${pct(r.final_train_accuracy)}</td><td class="status-${esc(r.status)}">${esc(r.status)}</td></tr>`).join("");
    $("empty").textContent = runs.length ? "" : "No runs yet: nnlab mnist train --out runs/NAME writes one.";
    body.querySelectorAll("[data-tick]").forEach(box => box.addEventListener("change", () => {
      if (box.checked) ticked.add(box.dataset.tick); else ticked.delete(box.dataset.tick);
      charts();
    }));
    body.querySelectorAll("[data-focus]").forEach(a => a.addEventListener("click", () => choose(a.dataset.focus)));
  }

  function charts() {
    const chosen = [...ticked].map(n => details.get(n)).filter(d => d && d.metrics);
    const series = key => chosen.map(d => ({ name: d.name, points: d.metrics.epochs.map(e => [e.epoch, e[key]]) }));
    const percent = v => `${Number((v * 100).toPrecision(4))} %`;
    nnChart.line($("acc-chart"), { series: series("test_accuracy"), xLabel: "epoch", yLabel: "test accuracy (%)", yFormat: percent, integerX: true, legend: true, legendAt: "bottom", height: 280, empty: "tick a run with finished epochs" });
    nnChart.line($("loss-chart"), { series: series("test_loss"), xLabel: "epoch", yLabel: "test loss", integerX: true, legend: true, height: 280, empty: "tick a run with finished epochs" });
  }

  let shownDetail = "";
  function detail(d) {
    // Redrawn only when something changed, so a button in it is not replaced under the pointer.
    const key = d ? JSON.stringify([d, training]) : "";
    if (key === shownDetail) return;
    shownDetail = key;
    if (!d) { $("detail").innerHTML = ""; return; }
    const p = d.progress;
    let progress = "";
    if (d.status === "training" && p) {
      const done = ((p.epoch - 1) + p.batch / p.batches) / p.epochs;
      progress = `<p>epoch ${p.epoch}/${p.epochs}, step ${p.batch}/${p.batches} · loss ${Number(p.loss).toFixed(4)} · train accuracy ${pct(p.accuracy)} · ${Math.round(p.images_per_sec)} images/s</p>
        <div class="progress" id="progress"><div style="width:${(done * 100).toFixed(1)}%"></div></div>`;
    }
    const brief = d.metrics && d.metrics.brief ? `<h2>Brief ${esc(d.metrics.brief.brief)}: ${d.metrics.brief.met ? '<span class="verdict-ok">met</span>' : '<span class="verdict-no">not met</span>'}</h2>
      <ul>${d.metrics.brief.verdicts.map(v => `<li class="${v.ok ? "verdict-ok" : "verdict-no"}">${v.ok ? "✓" : "✗"} ${esc(v.clause)} — ${esc(v.detail)}</li>`).join("")}</ul>` : "";
    const epochs = d.metrics ? d.metrics.epochs : [];
    const log = epochs.length ? `<table class="runs"><thead><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>seconds</th></tr></thead><tbody>${
      epochs.map(e => `<tr><td>${e.epoch}</td><td>${Number(e.lr).toPrecision(3)}</td><td>${e.train_loss.toFixed(4)}</td><td>${pct(e.train_accuracy)}</td><td>${e.test_loss.toFixed(4)}</td><td>${pct(e.test_accuracy)}</td><td>${e.seconds.toFixed(1)}</td></tr>`).join("")}</tbody></table>` : d.metrics_error ? `<p class="error" id="metrics-error">${esc(d.metrics_error)}</p>` : "<p class=\"note\">no epoch has finished yet</p>";
    const config = Object.assign({}, d.config);
    delete config.model_text; // shown on its own, line by line
    const stop = d.status === "training" && training === d.name ? `<button id="stop-run" class="secondary">Stop</button> <span class="note" id="stop-note"></span>` : "";
    $("detail").innerHTML = `<h2>${esc(d.name)} — <span class="status-${esc(d.status)}" id="detail-status">${esc(d.status)}</span> ${stop}</h2>${progress}
      <p class="stat">final test accuracy <b id="final-accuracy" data-value="${d.final_test_accuracy ?? ""}">${pct(d.final_test_accuracy)}</b> · best ${pct(d.best_test_accuracy)} · ${d.params === null ? "" : Number(d.params).toLocaleString("en") + " parameters"}</p>
      ${brief}<div class="scroll">${log}</div>
      <div class="halves" style="margin-top:12px"><div><h2>model</h2><pre class="wrap">${esc(d.model_text)}</pre></div><div><h2>recipe (config.json)</h2><pre class="wrap">${esc(JSON.stringify(config, null, 2))}</pre></div></div>`;
  }

  // POST /api/runs/{name}/stop: the clean stop of Ctrl-C (after the current step, checkpoint kept).
  async function stopRun(name) {
    $("stop-run").disabled = true;
    try {
      const r = await fetch(`/api/runs/${encodeURIComponent(name)}/stop`, { method: "POST" });
      const body = await r.json();
      $("stop-note").textContent = r.ok ? "stopping after this step…" : body.error;
    } catch (e) {
      $("stop-note").textContent = e.message;
    }
  }

  $("detail").addEventListener("click", e => { if (e.target.id === "stop-run") stopRun(focus); });

  function choose(name) {
    focus = name;
    ticked.add(name);
    if (decodeURIComponent(location.hash.slice(1)) !== name) history.replaceState(null, "", "#" + encodeURIComponent(name));
    refresh();
  }

  // The run to show first: the URL's, else the one training, else the newest with a finished epoch.
  function firstFocus(runs) {
    const named = decodeURIComponent(location.hash.slice(1));
    if (runs.some(r => r.name === named)) return named;
    const live = runs.find(r => r.status === "training");
    if (live) return live.name;
    const done = runs.filter(r => r.epochs_done > 0 && !r.metrics_error).sort((a, b) => (b.modified || 0) - (a.modified || 0));
    return done.length ? done[0].name : runs.length ? runs[0].name : null;
  }

  window.addEventListener("hashchange", () => {
    const named = decodeURIComponent(location.hash.slice(1));
    if (named && named !== focus) choose(named);
  });

  // Searches (folders with a search.json): state, counts, best and the live leaderboard.
  function searches(list) {
    $("searches").hidden = !list.length;
    if (!list.length) { $("searches").innerHTML = ""; return; }
    $("searches").innerHTML = "<h2>Searches</h2>" + list.map(s => {
      const best = s.best ? `best <b>${esc(s.best.id)}</b>, ${Number(s.best.params).toLocaleString("en")} parameters, ${Number(s.best.metric).toFixed(2)} %` : "no winner yet";
      const tests = s.tests ? ` · test set: brief met on ${s.test_met} of ${s.tests} seeds` : "";
      const rows = s.leaderboard.map(t => `<tr><td>${esc(t.id)}</td><td>${esc(t.status)}</td><td>${Number(t.params).toLocaleString("en")}</td>
        <td>${t.metric === null ? "–" : Number(t.metric).toFixed(2) + " %"}</td><td>${t.epochs ?? "–"}</td>
        <td class="choices">${esc(Object.entries(t.choices).map(([k, v]) => k + "=" + v).join(", "))}</td></tr>`).join("");
      return `<h3>${esc(s.name)} — <span class="status-${esc(s.state)}">${esc(s.state)}</span></h3>
        <p class="note">${esc(s.space)} under ${esc(s.brief)}: ${s.counts.enumerated} points, ${s.counts.admitted} within the brief, ${s.counts.trials} trained; rungs at ${s.rung_epochs.join(", ")} epochs · ${best}${tests}</p>
        <div class="scroll"><table class="runs"><thead><tr><th>trial</th><th>status</th><th>params</th><th>validation</th><th>epochs</th><th>choices</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    }).join("");
  }

  async function refresh() {
    document.body.dataset.busy = "true";
    try {
      const list = await getJson("/api/runs");
      const runs = list.runs;
      training = list.training;
      if (firstLoad || (focus === null && runs.length)) {
        focus = firstFocus(runs);
        if (focus) ticked.add(focus);
        firstLoad = false;
      }
      table(runs);
      $("skipped").innerHTML = (list.skipped || []).map(k => `<p class="note">not shown: <b>${esc(k.name)}</b> — ${esc(k.reason)}</p>`).join("");
      // Details: every ticked run and the focused one, reloaded while they train or when not loaded yet.
      const wanted = new Set([...ticked, focus].filter(Boolean));
      for (const r of runs) {
        const had = details.get(r.name);
        if (wanted.has(r.name) && (!had || r.status === "training" || had.status !== r.status || had.epochs_done !== r.epochs_done)) {
          await loadDetail(r.name);
        }
      }
      charts();
      detail(focus && details.get(focus));
      searches((await getJson("/api/searches")).searches);
    } catch (e) {
      $("empty").textContent = e.message;
    } finally {
      document.body.dataset.busy = "false";
    }
  }

  refresh();
  setInterval(refresh, 2000);
})();
