// The model designer: the model file in an editor with line numbers; on every pause in typing,
// POST /api/summary gives the summary table and the brief's clauses, or the error and its line (marked in
// the gutter). Train starts a run (POST /api/runs), followed here and on the runs page, with Stop.
(function () {
  const $ = id => document.getElementById(id);
  const text = $("text"), gutter = $("gutter");
  let timer = null, asked = 0, valid = false, running = null, poll = null;
  const fmt = n => n.toLocaleString("en-US");

  function numberLines(bad) {
    const n = text.value.split("\n").length;
    gutter.innerHTML = Array.from({ length: n }, (_, i) =>
      `<span${i + 1 === bad ? ' class="bad"' : ""}>${i + 1}</span>`).join("\n");
    gutter.scrollTop = text.scrollTop;
  }

  function showError(message, line) {
    valid = false;
    $("model-error").textContent = line ? `line ${line}: ${message}` : message;
    $("model-error").dataset.line = line ? String(line) : "";
    numberLines(line);
    $("train").disabled = true;
  }

  function showSummary(doc) {
    valid = true;
    $("model-error").textContent = "";
    $("model-error").dataset.line = "";
    numberLines(null);
    $("train").disabled = running !== null;
    $("totals").innerHTML = `<b id="total-params" data-value="${doc.params}">${fmt(doc.params)}</b> parameters · ${(doc.macs / 1e6).toFixed(2)} M multiply-adds per image`;
    const head = "<tr><th>line</th><th>layer</th><th>output</th><th>params</th><th>RF</th><th>jump</th><th>mult-adds</th></tr>";
    const rows = doc.layers.map(l => {
      const shape = l.output[1] === 1 && l.output[2] === 1 ? `${l.output[0]}` : l.output.join("×");
      return `<tr><td>${l.line}</td><td title="${l.module}">${l.name}</td><td>${shape}</td><td>${fmt(l.params)}</td><td>${l.rf}</td><td>${l.jump}</td><td>${fmt(l.macs)}</td></tr>`;
    });
    $("summary").innerHTML = head + rows.join("");
    const clauses = doc.brief ? doc.brief.clauses : [];
    $("clauses").innerHTML = clauses.map(c =>
      `<li class="${c.ok ? "verdict-ok" : "verdict-no"}">${c.ok ? "✓" : "✗"} ${c.clause} <span class="note">${c.detail}</span></li>`).join("");
    if (!doc.brief) $("clauses").innerHTML = '<li class="note">no brief given</li>';
  }

  async function summarise() {
    const id = ++asked;
    $("brief").classList.remove("bad");
    try {
      const r = await fetch("/api/summary", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text.value, brief: $("brief").value.trim() || null,
                               epochs: /^\d+$/.test($("epochs").value.trim()) ? Number($("epochs").value) : null }),
      });
      const doc = await r.json();
      if (id !== asked) return; // a newer edit has been sent
      if (r.ok) showSummary(doc);
      else if (doc.field === "brief") { $("brief").classList.add("bad"); $("clauses").innerHTML = `<li class="verdict-no">brief: ${doc.error}</li>`; }
      else showError(doc.error, doc.line);
    } catch (e) {
      if (id === asked) showError(`the server did not answer: ${e.message}`, null);
    } finally {
      if (id === asked) document.body.dataset.summaries = String(id);
    }
  }

  function edited() {
    numberLines(Number($("model-error").dataset.line) || null);
    clearTimeout(timer);
    timer = setTimeout(summarise, 300);
  }

  // Whole numbers in range, or blank when allowed; a bad field is outlined and named.
  function whole(id, min, max, blankOk) {
    const el = $(id), v = el.value.trim();
    el.classList.remove("bad");
    if (v === "" && blankOk) return null;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      el.classList.add("bad");
      throw new Error(`${el.parentElement.firstChild.textContent.trim()}: enter a whole number from ${min} to ${fmt(max)}`);
    }
    return Number(v);
  }

  async function train() {
    $("train-error").textContent = "";
    let body;
    try {
      if (!valid) throw new Error("fix the model first");
      body = {
        model_text: text.value, recipe: $("recipe").value,
        seed: whole("seed", 0, 2 ** 32, false), epochs: whole("epochs", 1, 1000, false),
        train_limit: whole("train-limit", 1, 60000, true), test_limit: whole("test-limit", 1, 10000, true),
        brief: $("brief").value.trim() || null,
      };
    } catch (e) { $("train-error").textContent = e.message; return; }
    $("train").disabled = true;
    try {
      const r = await fetch("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const doc = await r.json();
      if (!r.ok) throw new Error(doc.error);
      follow(doc.name);
    } catch (e) {
      $("train-error").textContent = e.message;
      $("train").disabled = !valid;
    }
  }

  function follow(name) {
    running = name;
    $("stop").hidden = false;
    $("train-progress").hidden = false;
    $("train-status").innerHTML = `training <a href="/runs#${encodeURIComponent(name)}" id="run-link">${name}</a>`;
    clearInterval(poll);
    poll = setInterval(watch, 1000);
    watch();
  }

  async function watch() {
    if (!running) return;
    try {
      const r = await fetch("/api/runs/" + encodeURIComponent(running));
      if (!r.ok) return;
      const run = await r.json();
      const p = run.progress;
      const done = p && p.batches ? ((p.epoch - 1) + p.batch / p.batches) / p.epochs : run.epochs_done / run.epochs;
      $("train-progress").firstElementChild.style.width = `${(100 * Math.min(done, 1)).toFixed(1)}%`;
      document.body.dataset.trainStatus = run.status;
      if (run.status !== "training") {
        const acc = run.final_test_accuracy == null ? "" : ` · test accuracy ${(run.final_test_accuracy * 100).toFixed(2)} %`;
        $("train-status").innerHTML = `<a href="/runs#${encodeURIComponent(running)}" id="run-link">${running}</a> ${run.status}${acc}`;
        clearInterval(poll);
        running = null;
        $("stop").hidden = true;
        $("train").disabled = !valid;
      }
    } catch (e) { /* the next poll tries again */ }
  }

  async function stop() {
    if (!running) return;
    const r = await fetch(`/api/runs/${encodeURIComponent(running)}/stop`, { method: "POST" });
    if (!r.ok) $("train-error").textContent = (await r.json()).error;
    else $("train-status").textContent = `stopping ${running} after this step…`;
  }

  async function open() {
    const v = $("open").value;
    if (!v) return;
    if (v.startsWith("model:")) {
      const list = await (await fetch("/api/models")).json();
      text.value = list.models.find(m => m.name === v.slice(6)).text;
    } else {
      const run = await (await fetch("/api/runs/" + encodeURIComponent(v.slice(4)))).json();
      text.value = run.model_text || "";
    }
    edited();
  }

  async function load() {
    const list = await (await fetch("/api/models")).json();
    const runs = await (await fetch("/api/runs")).json();
    const models = list.models.map(m => new Option(`model ${m.name}`, "model:" + m.name));
    const fromRuns = runs.runs.map(r => new Option(`run ${r.name}`, "run:" + r.name));
    $("open").append(...models, ...fromRuns);
    $("recipe").replaceChildren(...list.recipes.map(r => new Option(r, r, false, r === "small8k")));
    const start = new URLSearchParams(location.search).get("model") || "small8k";
    $("open").value = "model:" + start;
    await open();
  }

  text.addEventListener("input", edited);
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  $("brief").addEventListener("input", edited);
  $("epochs").addEventListener("input", edited); // the brief's epochs clause judges the epochs to train
  $("open").addEventListener("change", open);
  $("train").addEventListener("click", train);
  $("stop").addEventListener("click", stop);
  load().catch(e => showError(e.message, null));
})();
