// The backprop playground: every number comes from GET /api/backprop (nnlab's engine), never from JS math.
// Every field and N are checked before any request (a bad one is outlined and named, and nothing moves);
// typing is debounced, so half-typed values are never sent.
(function () {
  const $ = id => document.getElementById(id);
  const NAMES = ["i1", "i2", "t1", "t2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "lr"];
  const MAX_ITERATIONS = 100000; // the server's limit on one table (GET /api/backprop)
  const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  let iterations = 1, shown = 1, pending = 0, typing = null;
  window.nnRequests = 0;

  // The first bad field as "name: why", outlining every bad one; null when all are good.
  function checkFields() {
    let first = null;
    for (const id of NAMES) {
      const el = $(id), v = el.value.trim();
      let why = null;
      if (!NUMBER.test(v) || !Number.isFinite(Number(v))) why = `'${v}' is not a number`;
      else if (id === "lr" && !(Number(v) > 0)) why = "the learning rate must be > 0";
      el.classList.toggle("bad", why !== null);
      if (why && !first) first = `${id === "lr" ? "η" : id}: ${why}`;
    }
    return first;
  }

  // N as a whole number that keeps the run within the server's limit, or an Error naming N.
  function checkN(extra) {
    const el = $("n"), v = el.value.trim();
    el.classList.remove("bad");
    const room = MAX_ITERATIONS - iterations;
    let why = null;
    if (!/^\d+$/.test(v) || Number(v) < 1) why = `N: '${v}' is not a whole number ≥ 1 (write 10000, not 1e4 or 10^4)`;
    else if (extra && Number(v) > room) why = `N: ${Number(v).toLocaleString("en-US")} more would pass the ${MAX_ITERATIONS.toLocaleString("en-US")}-iteration limit (room for ${room.toLocaleString("en-US")} more; Reset starts again)`;
    if (why) { el.classList.add("bad"); throw new Error(why); }
    return Number(v);
  }

  // Moves the run forward by `by` iterations, only when every field (and N) is good.
  function advance(by) {
    clearTimeout(typing); // the refresh below reads the fields as they are now
    const bad = checkFields();
    if (bad) { $("error").textContent = bad; return; }
    if (iterations + by > MAX_ITERATIONS) { $("error").textContent = `the run is at the ${MAX_ITERATIONS.toLocaleString("en-US")}-iteration limit; Reset starts again`; return; }
    iterations += by;
    refresh();
  }

  function query(iters) {
    const v = id => $(id).value.trim();
    const q = new URLSearchParams({
      inputs: `${v("i1")},${v("i2")}`,
      targets: `${v("t1")},${v("t2")}`,
      weights: ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"].map(v).join(","),
      lr: v("lr"),
      iterations: String(iters),
    });
    if ($("use-biases").checked || $("learn-biases").checked) q.set("biases", `${v("b1")},${v("b2")}`);
    if ($("learn-biases").checked) q.set("learn_biases", "true");
    return q;
  }

  async function getJson(url) {
    const r = await fetch(url);
    const body = await r.json();
    if (!r.ok) throw new Error(body.field ? `${body.field}: ${body.error}` : body.error);
    return body;
  }

  function diagram(row, col, showGrads, biases) {
    const get = n => row[col[n]];
    const f = x => (x === undefined ? "" : Number(x).toPrecision(6));
    const fg = x => (x === undefined ? "" : Number(x).toExponential(3));
    const W = 660, H = biases ? 420 : 360;
    const pos = { i1: [80, 90], i2: [80, 270], h1: [330, 90], h2: [330, 270], o1: [580, 90], o2: [580, 270] };
    const edges = [["i1", "h1", 1], ["i2", "h1", 2], ["i1", "h2", 3], ["i2", "h2", 4], ["h1", "o1", 5], ["h2", "o1", 6], ["h1", "o2", 7], ["h2", "o2", 8]];
    let s = `<svg viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`;
    if (biases) {
      [["b1", 205, ["h1", "h2"]], ["b2", 455, ["o1", "o2"]]].forEach(([b, x, units]) => {
        units.forEach(u => { s += `<line x1="${x}" y1="385" x2="${pos[u][0]}" y2="${pos[u][1]}" stroke="#999" stroke-width="1.5"/>`; });
        s += `<rect x="${x - 62}" y="368" width="124" height="34" rx="5" fill="#f4f4f4" stroke="#888"/>`;
        s += `<text x="${x}" y="386" text-anchor="middle" font-size="13">${b} = ${f(get(b))}</text>`;
        if (showGrads && col["dE_d" + b] !== undefined) s += `<text x="${x}" y="399" text-anchor="middle" font-size="10" fill="#c0392b">∂E/∂${b} = ${fg(get("dE_d" + b))}</text>`;
      });
    }
    edges.forEach(([a, b, k]) => {
      const [x1, y1] = pos[a], [x2, y2] = pos[b];
      const w = get("w" + k);
      const color = w >= 0 ? "#2856c8" : "#c0392b";
      s += `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color}" stroke-width="${1 + Math.min(4, Math.abs(w) * 3)}"/>`;
      const t = y1 === y2 ? 0.5 : 0.27;
      const lx = x1 + (x2 - x1) * t, ly = y1 + (y2 - y1) * t;
      s += `<rect x="${lx - 58}" y="${ly - 12}" width="116" height="${showGrads ? 34 : 20}" rx="4" fill="#fff" opacity="0.92"/>`;
      s += `<text x="${lx}" y="${ly + 3}" text-anchor="middle" font-size="12" fill="${color}">w${k} = ${f(w)}</text>`;
      if (showGrads) s += `<text x="${lx}" y="${ly + 18}" text-anchor="middle" font-size="10.5" fill="#c0392b" class="grad" data-weight="w${k}">∂E/∂w${k} = ${fg(get("dE_dw" + k))}</text>`;
    });
    const unit = (name, lines, fill) => {
      const [x, y] = pos[name];
      s += `<circle cx="${x}" cy="${y}" r="30" fill="${fill}" stroke="#222" stroke-width="1.5"/>`;
      s += `<text x="${x}" y="${y + 6}" text-anchor="middle" font-size="17">${name}</text>`;
      lines.forEach((l, k) => { s += `<text x="${x}" y="${(y < 180 ? y - 40 - 15 * (lines.length - 1 - k) : y + 48 + 15 * k)}" text-anchor="middle" font-size="12" fill="#444">${l}</text>`; });
    };
    unit("i1", [f(get("i1"))], "#e6f0ff");
    unit("i2", [f(get("i2"))], "#e6f0ff");
    unit("h1", [`net ${f(get("h1"))}`, `a ${f(get("a_h1"))}`], "#fff4e1");
    unit("h2", [`net ${f(get("h2"))}`, `a ${f(get("a_h2"))}`], "#fff4e1");
    unit("o1", [`a ${f(get("a_o1"))}`, `t ${f(get("t1"))}`], "#e4f8e8");
    unit("o2", [`a ${f(get("a_o2"))}`, `t ${f(get("t2"))}`], "#e4f8e8");
    s += `<text x="${W / 2}" y="${biases ? 352 : 350}" text-anchor="middle" font-size="14">E1 = ${f(get("E1"))} · E2 = ${f(get("E2"))} · E_total = ${f(get("E_total"))}</text>`;
    return s + "</svg>";
  }

  async function refresh() {
    const bad = checkFields();
    if (bad) { $("error").textContent = bad; return; }
    const ticket = ++pending;
    window.nnRequests += 1;
    document.body.dataset.busy = "true";
    try {
      const q = query(iterations);
      const table = await getJson("/api/backprop?" + q);
      if (ticket !== pending) return;
      const col = {};
      table.columns.forEach((c, k) => { col[c] = k; });
      const last = table.rows[table.rows.length - 1];
      $("iteration").textContent = iterations;
      $("e-total").textContent = Number(last[col.E_total]).toPrecision(10);
      $("e-total").dataset.value = String(last[col.E_total]);
      $("diagram").innerHTML = diagram(last, col, $("show-grads").checked, table.biases !== "none");
      nnChart.line($("loss-chart"), {
        series: [{ name: "E_total", points: table.rows.map(r => [r[col.iter], r[col.E_total]]) }],
        xLabel: "iteration", yLabel: "E_total", height: 240,
      });
      const dl = query(Math.max(iterations, 68));
      $("download-csv").href = "/api/backprop.csv?" + dl;
      $("download-xlsx").href = "/api/backprop.xlsx?" + dl;
      const sweep = await getJson("/api/backprop/sweep?" + dl);
      if (ticket !== pending) return;
      nnChart.line($("sweep-chart"), {
        series: sweep.lrs.map((lr, k) => ({ name: `η = ${lr}`, points: sweep.curves[k].map((e, i) => [i + 1, e]) })),
        xLabel: "iteration", yLabel: "E_total", height: 260,
      });
      $("error").textContent = "";
      shown = iterations;
    } catch (e) {
      if (ticket === pending) { $("error").textContent = e.message; iterations = shown; }
    } finally {
      if (ticket === pending) document.body.dataset.busy = "false";
    }
  }

  function edited() {
    clearTimeout(typing);
    typing = setTimeout(() => {
      const bad = checkFields();
      if (bad) $("error").textContent = bad;
      else refresh();
    }, 350);
  }

  $("step").addEventListener("click", () => advance(1));
  $("run").addEventListener("click", () => {
    try { advance(checkN(true)); } catch (e) { clearTimeout(typing); $("error").textContent = e.message; }
  });
  $("reset").addEventListener("click", () => { iterations = 1; if (!checkFields()) refresh(); });
  $("show-grads").addEventListener("change", refresh);
  $("params").addEventListener("input", e => {
    if (e.target.id !== "n") { edited(); return; }
    try { checkN(false); if (!checkFields()) $("error").textContent = ""; } catch (err) { $("error").textContent = err.message; }
  });
  $("params").addEventListener("submit", e => e.preventDefault());
  window.nnPlayground = { refresh, iterations: () => iterations, names: NAMES };
  refresh();
})();
