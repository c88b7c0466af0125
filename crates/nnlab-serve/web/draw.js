// Draw a digit: strokes on a canvas (pointer events: mouse, pen and touch alike), sent as PNG to
// POST /api/predict while drawing; the answer, the ten probabilities and the 28×28 input come back, and
// the input goes on to the "Inside the network" panel (inspect.js). An uploaded image is drawn on the pad
// and read the same way. A blank pad is never sent.
(function () {
  const $ = id => document.getElementById(id);
  const pad = $("pad");
  const ctx = pad.getContext("2d");
  let drawing = false, last = null, inFlight = false, again = false, requests = 0, inked = false;

  function clearAnswer(message) {
    $("digit").textContent = "–";
    $("digit").dataset.digit = "";
    $("confidence").textContent = message;
    $("bars").replaceChildren();
    window.lastInput = null;
    window.lastAnswer = null;
    if (window.inspectPanel) window.inspectPanel.clear();
  }

  function clear() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    inked = false;
    clearAnswer("draw something");
    $("error").textContent = "";
  }

  function point(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }

  function dot(at) {
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(at[0], at[1], 10, 0, 2 * Math.PI);
    ctx.fill();
    last = at;
    inked = true;
  }

  function stroke(to) {
    if (!last) return dot(to);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 20;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...(last || to));
    ctx.lineTo(...to);
    ctx.stroke();
    last = to;
    inked = true;
  }

  function show(answer) {
    const p = answer.probabilities;
    $("digit").textContent = answer.digit;
    $("digit").dataset.digit = String(answer.digit);
    $("confidence").textContent = `${(p[answer.digit] * 100).toFixed(1)} % · checkpoint ${answer.checkpoint}`;
    const rows = [];
    for (let d = 0; d < 10; d++) {
      const top = d === answer.digit ? " top" : "";
      rows.push(`<span class="${top}">${d}</span><div class="bar"><div style="width:${(p[d] * 100).toFixed(1)}%"></div></div><span class="${top}">${(p[d] * 100).toFixed(1)} %</span>`);
    }
    $("bars").innerHTML = rows.join("");
    const seen = $("seen").getContext("2d");
    const img = seen.createImageData(28, 28);
    answer.input.forEach((v, k) => {
      const g = Math.round(v * 255);
      img.data.set([g, g, g, 255], k * 4);
    });
    seen.putImageData(img, 0, 0);
    window.lastInput = answer.input;
    window.lastAnswer = answer;
    if (window.inspectPanel) window.inspectPanel.update(answer.input, answer.checkpoint);
  }

  async function send(body, contentType) {
    const id = $("checkpoint").value;
    const url = "/api/predict" + (id ? "?checkpoint=" + encodeURIComponent(id) : "");
    const r = await fetch(url, { method: "POST", body, headers: { "Content-Type": contentType } });
    const answer = await r.json();
    if (!r.ok) throw new Error(answer.field ? `${answer.field}: ${answer.error}` : answer.error);
    return answer;
  }

  // At most one request in flight; strokes made meanwhile are sent once it returns.
  async function predict() {
    if (!inked) return;
    if (inFlight) { again = true; return; }
    inFlight = true;
    document.body.dataset.busy = "true";
    try {
      const blob = await new Promise(resolve => pad.toBlob(resolve, "image/png"));
      show(await send(blob, "image/png"));
      requests += 1;
      document.body.dataset.predictions = String(requests);
      $("error").textContent = "";
    } catch (e) {
      clearAnswer("no answer");
      $("error").textContent = e.message;
    } finally {
      inFlight = false;
      if (again) { again = false; predict(); } else { document.body.dataset.busy = "false"; }
    }
  }

  pad.addEventListener("pointerdown", e => {
    drawing = true;
    last = null;
    pad.setPointerCapture(e.pointerId);
    stroke(point(e));
    predict();
  });
  pad.addEventListener("pointermove", e => {
    if (!drawing) return;
    stroke(point(e));
    predict();
  });
  const end = () => { if (drawing) { drawing = false; last = null; predict(); } };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("clear").addEventListener("click", clear);
  $("checkpoint").addEventListener("change", () => { if (window.lastInput) predict(); });
  // An uploaded image is drawn on the pad (fitted, centred) and read from there like a drawing; an image
  // the browser cannot open is sent as it is, so the server names what is wrong with it.
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    clear();
    try {
      const bitmap = await createImageBitmap(file);
      const k = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
      const w = bitmap.width * k, h = bitmap.height * k;
      ctx.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
      inked = true;
      await predict();
    } catch (e) {
      try {
        show(await send(file, file.type || "application/octet-stream"));
      } catch (err) {
        clearAnswer("no answer");
        $("error").textContent = `${file.name}: ${err.message}`;
      }
    } finally {
      $("upload").value = "";
    }
  });

  async function loadCheckpoints() {
    try {
      const r = await fetch("/api/checkpoints");
      const list = await r.json();
      const select = $("checkpoint");
      select.replaceChildren(...list.checkpoints.map(c => new Option(c.label, c.id, false, c.id === list.default)));
      if (!list.checkpoints.length) $("error").textContent = "no checkpoint: train a run into the runs folder, or start nnlab serve with --checkpoint FILE";
    } catch (e) {
      $("error").textContent = e.message;
    }
  }

  clear();
  loadCheckpoints();
})();
