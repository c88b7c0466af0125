// nnlab's small line-chart: SVG, no dependencies. nnChart.line(element, {series, xLabel, yLabel, title}).
// series: [{name, points: [[x, y], ...], color?}]. Axes get "nice" ticks; a legend lists the series
// (top right, or bottom right with legendAt: "bottom"). integerX: whole-number x ticks (epochs);
// yFormat: how y ticks read (e.g. as %). Long series are thinned to at most 2,000 drawn points, and no
// spread of a whole series into one call (50,000 points would overflow the call stack).
(function () {
  const PALETTE = ["#2856c8", "#d1495b", "#1a8f4c", "#e09f3e", "#7b4bb7", "#00798c", "#8c564b", "#555"];
  const NS = "http://www.w3.org/2000/svg";

  function niceTicks(lo, hi, count, integer) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = integer ? Math.max(1, (hi - lo) / count) : (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const steps = integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
    const step = steps.map(m => m * mag).find(s => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  function fmt(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }

  // At most `most` points: every k-th, and always the last.
  function thin(points, most) {
    if (points.length <= most) return points;
    const k = Math.ceil(points.length / most), out = [];
    for (let i = 0; i < points.length; i += k) out.push(points[i]);
    if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
    return out;
  }

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function line(target, opts) {
    // Drawn at the container's own width (300–900 px), so text keeps its size on a phone.
    const W = opts.width || Math.max(300, Math.min(900, target.clientWidth || 640)), H = opts.height || 320;
    const m = { left: 64, right: 16, top: opts.title ? 30 : 12, bottom: 42 };
    const series = (opts.series || []).filter(s => s.points && s.points.length);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
    if (opts.title) svg.appendChild(el("text", { x: W / 2, y: 18, "text-anchor": "middle", "font-size": 14, "font-weight": 600 }, opts.title));
    const xs = series.flatMap(s => s.points.map(p => p[0]));
    const ys = series.flatMap(s => s.points.map(p => p[1])).filter(Number.isFinite);
    if (!xs.length) {
      svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#5b6475" }, opts.empty || "no data yet"));
      target.replaceChildren(svg);
      return;
    }
    let [x0, x1] = extent(xs);
    if (x1 === x0) { x1 = x0 + 1; }
    const [ylo, yhi] = extent(ys);
    let y0 = opts.yMin !== undefined ? opts.yMin : ylo;
    let y1 = opts.yMax !== undefined ? opts.yMax : yhi;
    if (y1 === y0) { y1 = y0 + (Math.abs(y0) || 1) * 0.1; y0 -= (Math.abs(y0) || 1) * 0.1; }
    const pad = (y1 - y0) * 0.05;
    if (opts.yMin === undefined) y0 -= pad;
    if (opts.yMax === undefined) y1 += pad;
    const px = x => m.left + (x - x0) / (x1 - x0) * (W - m.left - m.right);
    const py = y => H - m.bottom - (y - y0) / (y1 - y0) * (H - m.top - m.bottom);
    const grid = el("g", { stroke: "#e3e7ef", "stroke-width": 1 });
    const labels = el("g", { "font-size": 11, fill: "#5b6475" });
    for (const t of niceTicks(y0, y1, 5)) {
      if (t < y0 || t > y1) continue;
      grid.appendChild(el("line", { x1: m.left, x2: W - m.right, y1: py(t), y2: py(t) }));
      labels.appendChild(el("text", { x: m.left - 6, y: py(t) + 4, "text-anchor": "end" }, (opts.yFormat || fmt)(t)));
    }
    for (const t of niceTicks(x0, x1, 6, opts.integerX)) {
      if (t < x0 || t > x1) continue;
      grid.appendChild(el("line", { x1: px(t), x2: px(t), y1: m.top, y2: H - m.bottom }));
      labels.appendChild(el("text", { x: px(t), y: H - m.bottom + 16, "text-anchor": "middle" }, fmt(t)));
    }
    svg.appendChild(grid);
    svg.appendChild(labels);
    svg.appendChild(el("rect", { x: m.left, y: m.top, width: W - m.left - m.right, height: H - m.top - m.bottom, fill: "none", stroke: "#b9c0cf" }));
    if (opts.xLabel) svg.appendChild(el("text", { x: (m.left + W - m.right) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12 }, opts.xLabel));
    if (opts.yLabel) svg.appendChild(el("text", { x: 14, y: (m.top + H - m.bottom) / 2, "text-anchor": "middle", "font-size": 12, transform: `rotate(-90 14 ${(m.top + H - m.bottom) / 2})` }, opts.yLabel));
    series.forEach((s, k) => {
      const color = s.color || PALETTE[k % PALETTE.length];
      const d = thin(s.points.filter(p => Number.isFinite(p[1])), 2000).map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join("");
      svg.appendChild(el("path", { d, fill: "none", stroke: color, "stroke-width": 2 }));
      if (s.points.length <= 40) {
        for (const p of s.points) svg.appendChild(el("circle", { cx: px(p[0]), cy: py(p[1]), r: 2.5, fill: color }));
      }
    });
    if (series.length > 1 || opts.legend) {
      const legend = el("g", { "font-size": 12 });
      series.forEach((s, k) => {
        const y = opts.legendAt === "bottom"
          ? H - m.bottom - 8 - (series.length - 1 - k) * 16
          : m.top + 14 + k * 16;
        const x = W - m.right - 150;
        legend.appendChild(el("rect", { x: x - 4, y: y - 11, width: 150, height: 16, fill: "#fff", opacity: 0.85 }));
        legend.appendChild(el("line", { x1: x, x2: x + 18, y1: y - 4, y2: y - 4, stroke: s.color || PALETTE[k % PALETTE.length], "stroke-width": 3 }));
        legend.appendChild(el("text", { x: x + 24, y }, s.name));
      });
      svg.appendChild(legend);
    }
    target.replaceChildren(svg);
  }

  window.nnChart = { line, fmt, PALETTE };
})();
