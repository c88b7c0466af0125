// The draw page's "Inside the network" panel: POST /api/inspect with the 28×28 input the model saw;
// every spatial block's feature maps (one colour scale per block), Grad-CAM or saliency over the input,
// the first layer's filters, and — hovering a feature-map pixel — its receptive field outlined on the input.
(function () {
  const $ = id => document.getElementById(id);
  const HEAT = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  let latest = null, pending = null, inFlight = false, count = 0;

  function heat(v) {
    const x = Math.min(Math.max(v, 0), 1) * (HEAT.length - 1);
    const i = Math.min(Math.floor(x), HEAT.length - 2), t = x - i;
    return HEAT[i].map((a, k) => Math.round(a + (HEAT[i + 1][k] - a) * t));
  }

  // Paints w×h values onto a canvas of that many pixels (CSS scales it up, pixelated).
  function paint(canvas, w, h, colour) {
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    for (let k = 0; k < w * h; k++) img.data.set([...colour(k), 255], k * 4);
    ctx.putImageData(img, 0, 0);
  }

  function overlay(input, map) {
    const flatIn = input.flat(), flatMap = map.flat();
    paint($("heat"), 28, 28, k => {
      const g = flatIn[k] * 255, v = flatMap[k], a = 0.75 * Math.sqrt(Math.max(v, 0));
      return heat(v).map(c => Math.round(g * (1 - a) + c * a));
    });
  }

  function outline(rect) {
    for (const id of ["rf", "rf-heat"]) {
      const c = $(id), ctx = c.getContext("2d"), s = c.width / 28;
      ctx.clearRect(0, 0, c.width, c.height);
      if (!rect) continue;
      ctx.strokeStyle = "#ff4d4d"; ctx.lineWidth = 2;
      ctx.strokeRect(rect.x0 * s + 1, rect.y0 * s + 1, (rect.x1 - rect.x0) * s - 2, (rect.y1 - rect.y0) * s - 2);
    }
    document.body.dataset.rf = rect ? `${rect.x0},${rect.y0},${rect.x1},${rect.y1}` : "";
  }

  // The input pixels output (i, j) of a layer sees: centre start + index·jump, rf wide, clipped to 28.
  function receptiveField(layer, i, j) {
    const half = (layer.rf - 1) / 2, cy = layer.start + i * layer.jump, cx = layer.start + j * layer.jump;
    const clip = v => Math.min(Math.max(v, 0), 28);
    return { x0: clip(Math.round(cx - half)), y0: clip(Math.round(cy - half)),
             x1: clip(Math.round(cx + half) + 1), y1: clip(Math.round(cy + half) + 1) };
  }

  function mapsOf(layer) {
    const [c, h, w] = layer.shape, plane = h * w, span = Math.max(layer.max - layer.min, 1e-12);
    const row = document.createElement("div");
    row.className = "map-row";
    row.dataset.layer = layer.name;
    const title = document.createElement("div");
    title.className = "map-title";
    title.innerHTML = `<b>${layer.name}</b> ${c}×${h}×${w} · RF ${layer.rf} · scale ${layer.min.toFixed(2)} … ${layer.max.toFixed(2)}`;
    row.append(title);
    const grid = document.createElement("div");
    grid.className = "map-grid";
    for (let ch = 0; ch < c; ch++) {
      const cell = document.createElement("canvas");
      cell.className = "map";
      cell.title = `${layer.name} channel ${ch}`;
      paint(cell, w, h, k => heat((layer.values[ch * plane + k] - layer.min) / span));
      cell.addEventListener("mousemove", e => {
        const r = cell.getBoundingClientRect();
        const j = Math.min(w - 1, Math.floor((e.clientX - r.left) / r.width * w));
        const i = Math.min(h - 1, Math.floor((e.clientY - r.top) / r.height * h));
        outline(receptiveField(layer, i, j));
      });
      cell.addEventListener("mouseleave", () => outline(null));
      grid.append(cell);
    }
    row.append(grid);
    return row;
  }

  function filters(f) {
    if (!f) { $("filters").hidden = true; return; }
    const [out, cin, k] = f.shape, cols = Math.min(out, 4), rows = Math.ceil(out / cols);
    const max = Math.max(...f.values.map(Math.abs), 1e-12), cell = k + 1;
    paint($("filters"), cols * cell, rows * cell, idx => {
      const x = idx % (cols * cell), y = Math.floor(idx / (cols * cell));
      const o = Math.floor(y / cell) * cols + Math.floor(x / cell), a = x % cell, b = y % cell;
      if (a === k || b === k || o >= out) return [255, 255, 255];
      const t = f.values[o * cin * k * k + b * k + a] / max, fade = c => Math.round(255 - (255 - c) * Math.abs(t));
      return t < 0 ? [fade(40), fade(90), fade(200)] : [fade(200), fade(40), fade(40)];
    });
    $("filters-caption").textContent = `${f.name}: ${out} filters ${k}×${k} (blue −, red +)`;
  }

  function show(doc) {
    latest = doc;
    paint($("seen"), 28, 28, k => { const g = Math.round(doc.input.flat()[k] * 255); return [g, g, g]; });
    showHeat();
    filters(doc.filters);
    $("maps").replaceChildren(...doc.layers.filter(l => l.values && l.rf !== null).map(mapsOf));
    $("inside-note").textContent = `The model reads a ${doc.digit}. Each block's channels, on one colour scale per block; hover a pixel to outline its receptive field on the input.`;
    count += 1;
    document.body.dataset.inspections = String(count);
  }

  function showHeat() {
    if (!latest) return;
    const kind = $("heat-kind").value;
    overlay(latest.input, latest[kind]);
    $("heat-layer").textContent = kind === "gradcam" ? `on ${latest.gradcam_layer}` : "|∂score/∂input|";
  }

  // At most one request in flight; the newest input waiting is sent when it returns.
  async function run() {
    if (inFlight || !pending) return;
    const { pixels, checkpoint } = pending;
    pending = null;
    inFlight = true;
    try {
      const url = "/api/inspect" + (checkpoint ? "?checkpoint=" + encodeURIComponent(checkpoint) : "");
      const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ pixels }) });
      const doc = await r.json();
      if (!r.ok) throw new Error(doc.error);
      show(doc);
    } catch (e) {
      $("inside-note").textContent = "inside the network: " + e.message;
    } finally {
      inFlight = false;
      run();
    }
  }

  $("heat-kind").addEventListener("change", showHeat);
  window.inspectPanel = {
    update(pixels, checkpoint) { pending = { pixels, checkpoint }; run(); },
    clear() {
      latest = null; pending = null;
      $("maps").replaceChildren();
      for (const id of ["seen", "heat"]) paint($(id), 28, 28, () => [0, 0, 0]);
      outline(null);
      $("inside-note").textContent = "Draw a digit to see what each block of the network sees.";
    },
  };
})();
