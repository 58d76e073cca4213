// The playground: sliders re-run a short training on the server (POST /api/playground) and
// redraw the path on the loss surface and the loss curve. The stable learning rate and the
// fastest settings (least squares) are marked on the sliders. Exposes window.Playground.
"use strict";
(function () {
  const { fmt, esc, decades } = window.Charts;
  const $ = (id) => document.getElementById(id);
  let presets = [], started = false, inFlight = false, again = false, lossPlot = null, last = null;

  async function start() {
    if (started) return;
    started = true;
    presets = await (await fetch("/api/playground/presets")).json();
    $("pg-preset").innerHTML = presets.map((p, i) => `<option value="${i}">${esc(p.name)}</option>`).join("");
    for (const id of ["pg-preset", "pg-optimizer", "pg-lr", "pg-momentum", "pg-beta1", "pg-beta2", "pg-epochs"]) $(id).addEventListener("input", request);
    $("pg-preset").addEventListener("input", () => {
      const p = presets[+$("pg-preset").value].request;
      const lr = p.optimizer?.options?.lr;
      if (lr) $("pg-lr").value = Math.log10(lr);
      $("pg-epochs").value = p.epochs || p.steps || 200;
    });
    $("pg-png").onclick = () => { const a = document.createElement("a"); a.href = $("pg-contour").toDataURL("image/png"); a.download = "playground.png"; a.click(); };
    request();
  }

  function body() {
    const p = structuredClone(presets[+$("pg-preset").value].request);
    const name = $("pg-optimizer").value;
    const lr = 10 ** +$("pg-lr").value;
    const options = { lr };
    if (name === "sgd" || name === "rmsprop") { const m = +$("pg-momentum").value; if (m > 0) options.momentum = m; }
    if (name === "adam") options.betas = [+$("pg-beta1").value, +$("pg-beta2").value];
    p.optimizer = { name, options };
    const n = Math.max(1, Math.min(20000, +$("pg-epochs").value || 1));
    if (p.function) p.steps = n; else p.epochs = n;
    return p;
  }

  function controls() {
    const name = $("pg-optimizer").value;
    $("pg-momentum-box").hidden = name === "adam";
    $("pg-beta1-box").hidden = $("pg-beta2-box").hidden = name !== "adam";
    $("pg-lr-out").textContent = fmt(10 ** +$("pg-lr").value);
    $("pg-momentum-out").textContent = $("pg-momentum").value;
    $("pg-beta1-out").textContent = $("pg-beta1").value;
    $("pg-beta2-out").textContent = $("pg-beta2").value;
  }

  // One request at a time; a move during a request sends the latest settings after it.
  async function request() {
    controls();
    if (inFlight) { again = true; return; }
    inFlight = true;
    const t0 = performance.now();
    try {
      const r = await fetch("/api/playground", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body()) });
      const v = await r.json();
      if (!r.ok) { $("pg-status").textContent = v.error || `error ${r.status}`; }
      else { last = v; draw(v); $("pg-status").textContent = `${v.steps} updates in ${v.ms.toFixed(1)} ms on the server, ${(performance.now() - t0).toFixed(0)} ms round trip; ${v.outcome?.status || v.outcome}${v.stopped ? "; " + v.stopped : ""}.`; }
    } catch (e) { $("pg-status").textContent = String(e); }
    inFlight = false;
    if (again) { again = false; request(); }
  }

  // Perceptual ramp (viridis-like) over t in [0, 1].
  const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function ramp(t) {
    t = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i;
    return RAMP[i].map((c, k) => Math.round(c + f * (RAMP[i + 1][k] - c)));
  }

  const tick = (v) => String(+v.toPrecision(3));

  function draw(v) {
    const cv = $("pg-contour"), ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height, L = 84, R = 20, T = 12, B = 44;
    const f = v.field, pw = W - L - R, ph = H - T - B;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    // The loss on log scale, banded into levels so that the bands read as contours.
    const vals = f.values.filter((z) => z != null && z > 0);
    const lo = Math.log(Math.min(...vals)), hi = Math.log(Math.max(...vals));
    const levels = 20;
    const img = ctx.createImageData(pw, ph);
    for (let py = 0; py < ph; py++) for (let px = 0; px < pw; px++) {
      const i = Math.min(f.nx - 1, Math.floor(px / pw * f.nx)), j = Math.min(f.ny - 1, Math.floor((1 - py / ph) * f.ny));
      const z = f.values[j * f.nx + i];
      const o = (py * pw + px) * 4;
      if (z == null || z <= 0) { img.data[o + 3] = 0; continue; }
      const t = Math.floor((Math.log(z) - lo) / ((hi - lo) || 1) * levels) / levels;
      const [r, g, b] = ramp(t);
      img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
    }
    ctx.putImageData(img, L, T);
    const sx = (x) => L + (x - f.x[0]) / (f.x[1] - f.x[0]) * pw;
    const sy = (y) => T + ph - (y - f.y[0]) / (f.y[1] - f.y[0]) * ph;
    // Axes with ticks and the parameters' names.
    ctx.strokeStyle = "#333"; ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif"; ctx.lineWidth = 1;
    ctx.strokeRect(L, T, pw, ph);
    for (let k = 0; k <= 4; k++) {
      const x = f.x[0] + k / 4 * (f.x[1] - f.x[0]), y = f.y[0] + k / 4 * (f.y[1] - f.y[0]);
      ctx.textAlign = "center"; ctx.fillText(tick(x), sx(x), T + ph + 16);
      ctx.textAlign = "right"; ctx.fillText(tick(y), L - 6, sy(y) + 4);
    }
    ctx.textAlign = "center"; ctx.fillText(v.names[0], L + pw / 2, H - 8);
    ctx.save(); ctx.translate(14, T + ph / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(v.names[1], 0, 0); ctx.restore();
    // The path.
    ctx.save(); ctx.beginPath(); ctx.rect(L, T, pw, ph); ctx.clip();
    const pts = v.path.filter((p) => p.every(isFinite));
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.beginPath();
    pts.forEach((p, i) => i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1])));
    ctx.stroke();
    ctx.fillStyle = "#fff";
    for (const p of pts.length < 300 ? pts : []) { ctx.beginPath(); ctx.arc(sx(p[0]), sy(p[1]), 2, 0, 7); ctx.fill(); }
    if (pts.length) {
      const a = pts[0], z = pts[pts.length - 1];
      ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.beginPath(); ctx.arc(sx(a[0]), sy(a[1]), 6, 0, 7); ctx.stroke();
      ctx.fillStyle = "#e4572e"; ctx.beginPath(); ctx.arc(sx(z[0]), sy(z[1]), 6, 0, 7); ctx.fill(); ctx.stroke();
    }
    for (const m of v.minima || (v.analysis?.optimum ? [v.analysis.optimum] : [])) {
      ctx.fillStyle = "#ffd23f"; ctx.strokeStyle = "#333"; ctx.beginPath(); ctx.arc(sx(m[0]), sy(m[1]), 5, 0, 7); ctx.fill(); ctx.stroke();
    }
    ctx.restore();
    cv.dataset.draws = String(+cv.dataset.draws + 1);
    cv.dataset.end = pts.length ? pts[pts.length - 1].map((x) => x.toPrecision(6)).join(",") : "";
    $("pg-title").textContent = `(${esc(v.names[0])}, ${esc(v.names[1])}); colour: log loss, ${levels} bands from ${fmt(Math.exp(lo))} to ${fmt(Math.exp(hi))}`;
    drawLoss(v.loss);
    marks(v.analysis);
  }

  function drawLoss(loss) {
    const xs = loss.map((_, i) => i + 1), ys = loss.map((y) => (y > 0 && isFinite(y)) ? y : null);
    const el = $("pg-loss");
    const opts = { width: Math.max(300, el.clientWidth), height: 300, scales: { x: { time: false }, y: { distr: 3 } },
      series: [{ label: "epoch" }, { label: "loss", stroke: "#2f6fde", width: 2, value: (u, v) => fmt(v) }],
      axes: [{ label: "epoch (or step)" }, { label: "loss (log)", size: 64, filter: decades, values: (u, vs) => vs.map((v) => v == null ? "" : fmt(v)) }] };
    if (lossPlot) lossPlot.destroy();
    el.innerHTML = "";
    lossPlot = new uPlot(opts, [xs, ys], el);
  }

  // Marks on the sliders: the stable bound (red) and the fastest settings (green).
  function marks(a) {
    const lrMarks = [], mMarks = [];
    const at = (input, value) => {
      const min = +input.min, max = +input.max;
      return `${Math.max(0, Math.min(100, (value - min) / (max - min) * 100))}%`;
    };
    const lrIn = $("pg-lr"), mIn = $("pg-momentum");
    let text = "";
    if (a) {
      if (a.stable_lr) lrMarks.push(`<span class="mark stable" style="left:${at(lrIn, Math.log10(a.stable_lr))}">stable &lt; ${fmt(a.stable_lr)}</span>`);
      const best = a.best_lr_for_momentum?.lr ?? a.optimal_gd?.lr;
      if (best) lrMarks.push(`<span class="mark optimal" style="left:${at(lrIn, Math.log10(best))}">best ${fmt(best)}</span>`);
      const hb = a.optimal_heavy_ball;
      if (hb) mMarks.push(`<span class="mark optimal" style="left:${at(mIn, hb.momentum)}">best ${fmt(hb.momentum)}</span>`);
      text = `<b>Least squares</b>: λ<sub>max</sub> ${fmt(a.lambda_max)}, λ<sub>min</sub> ${fmt(a.lambda_min)}.<br>` +
        (a.stable_lr ? `Stable for lr &lt; <b>${fmt(a.stable_lr)}</b> with these settings.<br>` : "") +
        (a.optimal_gd ? `Fastest plain step: lr <b>${fmt(a.optimal_gd.lr)}</b> (error × ${fmt(a.optimal_gd.rate)} per step).<br>` : "") +
        (hb ? `Fastest heavy ball: lr <b>${fmt(hb.lr)}</b>, momentum <b>${fmt(hb.momentum)}</b> (× ${fmt(hb.rate)}).` : "");
    } else text = "The stable bound and the fastest settings are known for least squares (a linear model under MSE).";
    $("pg-lr-marks").innerHTML = lrMarks.join("");
    $("pg-momentum-marks").innerHTML = mMarks.join("");
    $("pg-analysis").innerHTML = text;
  }

  window.Playground = { start, last: () => last };
})();
