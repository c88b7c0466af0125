// Any network on TF Playground's data sets: every number comes from GET /api/boundary (the server's engine,
// the code of `nnlab backprop boundary`), never from JavaScript maths. Stateless: Play asks for more epochs of
// the same seeded run; the address holds the whole setup, so a link re-opens the same network exactly.
(function () {
  const $ = id => document.getElementById(id);
  const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
  const LABELS = { x1: "x1", x2: "x2", x1sq: "x1²", x2sq: "x2²", x1x2: "x1·x2", sinx1: "sin x1", sinx2: "sin x2" };
  const RATES = ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"];
  const REG_RATES = ["0", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"];
  const MAX_LAYERS = 6, MAX_UNITS = 8, PLAY_STEP = 10, MAX_EPOCHS = 10000;
  let hidden = [4, 2], epochs = 0, playing = false, inFlight = false, requests = 0;

  function colour(v) {
    const t = Math.max(-1, Math.min(1, v)), end = t < 0 ? [245, 147, 34] : [8, 119, 189], k = Math.abs(t);
    return end.map(c => Math.round(255 + (c - 255) * k));
  }

  function paint(canvas, res, values, scale) {
    canvas.width = res; canvas.height = res;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(res, res);
    values.forEach((v, k) => img.data.set([...colour(v / scale), 255], k * 4));
    ctx.putImageData(img, 0, 0);
  }

  // The setup as query parameters (the API's and the address's), after checking every field.
  function setup() {
    const bad = [];
    const check = (id, ok) => { const el = $(id); el.classList.toggle("bad", !ok(el.value.trim())); if (!ok(el.value.trim())) bad.push(id); };
    const whole = (lo, hi) => v => /^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi;
    check("noise", v => /^\d+(\.\d+)?$/.test(v) && Number(v) <= 50);
    check("train_percent", whole(10, 90));
    check("seed", whole(0, 2 ** 32));
    check("batch_size", whole(1, 1000));
    const features = FEATURES.filter(f => $("f-" + f).checked);
    if (!features.length) bad.push("features (pick at least one)");
    if (bad.length) throw new Error(`fix ${bad.join(", ")}`);
    return new URLSearchParams({
      data: $("data").value, noise: $("noise").value.trim(), train_percent: $("train_percent").value.trim(),
      seed: $("seed").value.trim(), features: features.join(","), hidden: hidden.join(","),
      activation: $("activation").value, lr: $("lr").value, batch_size: $("batch_size").value.trim(),
      regularization: $("regularization").value, reg_rate: $("reg_rate").value,
    });
  }

  function drawNetwork(doc) {
    const layers = doc.layers, grids = doc.neurons, names = doc.features;
    const COL = 96, ROW = 62, TILE = 44, top = 10;
    const tallest = Math.max(...layers.map(n => n));
    const width = layers.length * COL, height = tallest * ROW + 40;
    const at = (l, j) => [l * COL + 8, top + (tallest - layers[l]) * ROW / 2 + j * ROW];
    let edges = "";
    doc.weights.forEach((w, l) => {
      const nIn = layers[l];
      w.forEach((v, k) => {
        const [x1, y1] = at(l, k % nIn), [x2, y2] = at(l + 1, Math.floor(k / nIn));
        const [r, g, b] = colour(Math.sign(v));
        edges += `<line x1="${x1 + TILE}" y1="${y1 + TILE / 2}" x2="${x2}" y2="${y2 + TILE / 2}" stroke="rgb(${r},${g},${b})" stroke-width="${Math.min(6, 0.5 + Math.abs(v) * 2).toFixed(2)}"><title>weight ${v.toFixed(4)}</title></line>`;
      });
    });
    const box = $("network");
    box.style.width = width + "px";
    box.style.height = height + "px";
    box.innerHTML = `<svg width="${width}" height="${height}">${edges}</svg>`;
    layers.forEach((n, l) => {
      for (let j = 0; j < n; j++) {
        const [x, y] = at(l, j), c = document.createElement("canvas");
        c.className = "neuron";
        c.style.left = x + "px"; c.style.top = y + "px";
        const values = grids[l][j], scale = l === 0 ? Math.max(1e-12, ...values.map(Math.abs)) : 1;
        paint(c, 20, values, scale);
        c.title = l === 0 ? LABELS[names[j]] : `layer ${l}, neuron ${j + 1}, bias ${doc.biases[l - 1][j].toFixed(4)}`;
        box.append(c);
        const label = document.createElement("span");
        label.className = "neuron-label";
        label.style.left = x + "px"; label.style.top = y + TILE + 1 + "px";
        label.textContent = l === 0 ? LABELS[names[j]] : (l === layers.length - 1 ? "output" : "");
        box.append(label);
      }
    });
    // Per hidden layer: add or remove a neuron.
    hidden.forEach((n, k) => {
      const [x] = at(k + 1, 0), ctl = document.createElement("div");
      ctl.className = "layer-buttons";
      ctl.style.left = x - 6 + "px"; ctl.style.top = height - 24 + "px";
      ctl.innerHTML = `<button class="secondary tiny" data-add="${k}" title="add a neuron">+</button><button class="secondary tiny" data-remove="${k}" title="remove a neuron">−</button>`;
      box.append(ctl);
    });
    $("weights").textContent = `${doc.weights.flat().length} weights · ${layers.join("-")}`;
  }

  function drawOutput(doc) {
    paint($("boundary"), 50, doc.output, 1);
    const c = $("points"), ctx = c.getContext("2d"), s = c.width / 12;
    ctx.clearRect(0, 0, c.width, c.height);
    for (const [pts, ring] of [[doc.train, "#fff"], [doc.test, "#000"]]) {
      for (const [x, y, label] of pts) {
        if (Math.abs(x) > 6 || Math.abs(y) > 6) continue;
        const [r, g, b] = colour(label);
        ctx.beginPath();
        ctx.arc((x + 6) * s, (6 - y) * s, 3.2, 0, 2 * Math.PI);
        ctx.fillStyle = `rgb(${r},${g},${b})`; ctx.fill();
        ctx.strokeStyle = ring; ctx.lineWidth = 1; ctx.stroke();
      }
    }
    $("test-loss").textContent = doc.test_loss.toFixed(4);
    $("test-loss").dataset.value = String(doc.test_loss);
    $("train-loss").textContent = doc.train_loss.toFixed(4);
    $("test-accuracy").textContent = `${(doc.test_accuracy * 100).toFixed(1)} %`;
    nnChart.line($("loss-chart"), {
      series: [{ name: "train", points: doc.per_epoch.map(e => [e.epoch, e.train_loss]), color: "#888" },
               { name: "test", points: doc.per_epoch.map(e => [e.epoch, e.test_loss]), color: "#0877bd" }],
      xLabel: "epoch", yLabel: "loss", integerX: true, legend: true, height: 220,
    });
  }

  async function show() {
    let q;
    try { q = setup(); } catch (e) { $("error").textContent = e.message; stop(); return; }
    if (inFlight) return;
    inFlight = true;
    document.body.dataset.busy = "true";
    const wanted = epochs;
    q.set("epochs", String(wanted));
    history.replaceState(null, "", "?" + q);
    $("download-json").href = "/api/boundary?" + q;
    $("download-py").href = "/api/boundary.py?" + q;
    const setupOnly = new URLSearchParams(q);
    setupOnly.delete("epochs");
    $("download-xlsx").href = "/api/boundary.xlsx?" + setupOnly;
    try {
      const r = await fetch("/api/boundary?" + q);
      const doc = await r.json();
      if (!r.ok) throw new Error(doc.field ? `${doc.field}: ${doc.error}` : doc.error);
      drawNetwork(doc);
      drawOutput(doc);
      $("epoch").textContent = String(doc.epochs);
      document.body.dataset.epoch = String(doc.epochs);
      requests += 1;
      document.body.dataset.requests = String(requests);
      $("error").textContent = "";
    } catch (e) {
      $("error").textContent = e.message;
      stop();
    } finally {
      inFlight = false;
      document.body.dataset.busy = "false";
      if (playing) setTimeout(tick, 0);
    }
  }

  function tick() {
    if (!playing) return;
    if (epochs + PLAY_STEP > MAX_EPOCHS) { stop(); $("error").textContent = `stopped at the web's ${MAX_EPOCHS} epochs`; return; }
    epochs += PLAY_STEP;
    show();
  }
  function stop() { playing = false; $("play").textContent = "Play"; }

  // A change of data, features or network starts again from epoch 0, as TF Playground does.
  function restart() { epochs = 0; show(); }

  function load() {
    $("features").innerHTML = FEATURES.map(f => `<label><input type="checkbox" id="f-${f}"> ${LABELS[f]}</label>`).join("");
    $("lr").replaceChildren(...RATES.map(r => new Option(r, r, false, r === "0.03")));
    $("reg_rate").replaceChildren(...REG_RATES.map(r => new Option(r, r, false, r === "0")));
    const q = new URLSearchParams(location.search);
    for (const id of ["data", "noise", "train_percent", "seed", "activation", "lr", "batch_size", "regularization", "reg_rate"]) {
      if (q.has(id)) $(id).value = q.get(id);
    }
    const features = (q.get("features") || "x1,x2").split(",");
    FEATURES.forEach(f => { $("f-" + f).checked = features.includes(f); });
    if (q.has("hidden")) hidden = q.get("hidden") === "" ? [] : q.get("hidden").split(",").map(Number).filter(n => n > 0).slice(0, MAX_LAYERS).map(n => Math.min(n, MAX_UNITS));
    epochs = Math.min(MAX_EPOCHS, Math.max(0, parseInt(q.get("epochs") || "0", 10) || 0));
    show();
  }

  $("play").addEventListener("click", () => {
    playing = !playing;
    $("play").textContent = playing ? "Pause" : "Play";
    if (playing && !inFlight) tick();
  });
  $("step").addEventListener("click", () => { stop(); if (epochs < MAX_EPOCHS) { epochs += 1; show(); } });
  $("reset").addEventListener("click", () => { stop(); restart(); });
  $("add-layer").addEventListener("click", () => { if (hidden.length < MAX_LAYERS) { hidden.push(2); restart(); } });
  $("remove-layer").addEventListener("click", () => { if (hidden.length) { hidden.pop(); restart(); } });
  $("network").addEventListener("click", e => {
    const add = e.target.dataset.add, remove = e.target.dataset.remove;
    if (add !== undefined && hidden[add] < MAX_UNITS) { hidden[add] += 1; restart(); }
    if (remove !== undefined && hidden[remove] > 1) { hidden[remove] -= 1; restart(); }
  });
  for (const id of ["data", "activation", "lr", "regularization", "reg_rate"]) $(id).addEventListener("change", restart);
  $("features").addEventListener("change", restart);
  let typing = null;
  for (const id of ["noise", "train_percent", "seed", "batch_size"]) {
    $(id).addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(restart, 400); });
  }
  load();
})();
