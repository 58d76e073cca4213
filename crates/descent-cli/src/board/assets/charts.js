// Time-series panels over uPlot: smoothing at full resolution, then thinning for display
// that keeps the min, the max and the last point of every pixel column, so that no spike
// disappears at any zoom. Exposes window.Charts.
"use strict";
(function () {
  const PALETTE = ["#2f6fde", "#e4572e", "#17a398", "#f3a712", "#8a4fff", "#d6336c",
    "#4c956c", "#6d597a", "#0096c7", "#b5651d", "#5f0f40", "#7d8597"];

  // Smoothers, named with their window on the page. Both are causal (they use only earlier
  // points) and do not depend on the run's length or on the display's sampling.
  // ema: s_i = a*y_i + (1-a)*s_{i-1}, s_0 = y_0, a = 2/(window+1) (pandas' span).
  // mean: the average of the last `window` finite points.
  function smooth(ys, kind, window) {
    const out = new Array(ys.length);
    if (kind === "none" || window <= 1) return ys.slice();
    if (kind === "ema") {
      const a = 2 / (window + 1);
      let s = null;
      for (let i = 0; i < ys.length; i++) {
        const y = ys[i];
        if (y == null || !isFinite(y)) { out[i] = s; continue; }
        s = s == null ? y : a * y + (1 - a) * s;
        out[i] = s;
      }
      return out;
    }
    let sum = 0, n = 0;
    const q = [];
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (y != null && isFinite(y)) { q.push(y); sum += y; n++; }
      if (q.length > window) { sum -= q.shift(); n--; }
      out[i] = n ? sum / n : null;
    }
    return out;
  }

  // Keeps, per pixel column of [x0, x1] at `width` columns, the points with the smallest
  // and largest `ref` value and the last point (of every series in `cols`, aligned with xs).
  // Returns the kept indices in order, and per kept index the column's min and max of `ref`.
  function thin(xs, ref, x0, x1, width) {
    const n = xs.length;
    const keep = [], lo = [], hi = [];
    if (n === 0) return { keep, lo, hi };
    if (!(x1 > x0) || n <= 2 * width) {
      for (let i = 0; i < n; i++) { keep.push(i); lo.push(ref[i]); hi.push(ref[i]); }
      return { keep, lo, hi };
    }
    const scale = width / (x1 - x0);
    let col = null, iMin = -1, iMax = -1, iLast = -1;
    const flush = () => {
      if (iLast < 0) return;
      const ids = [...new Set([iMin, iMax, iLast].filter((i) => i >= 0))].sort((a, b) => a - b);
      const vmin = iMin >= 0 ? ref[iMin] : null, vmax = iMax >= 0 ? ref[iMax] : null;
      for (const i of ids) { keep.push(i); lo.push(vmin); hi.push(vmax); }
    };
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      // Points outside the view: one on each side, so that lines enter and leave the plot.
      const c = x < x0 ? -1 : x > x1 ? width + 1 : Math.floor((x - x0) * scale);
      if (c !== col) { flush(); col = c; iMin = iMax = -1; iLast = -1; }
      const v = ref[i];
      if (v != null && isFinite(v)) {
        if (iMin < 0 || v < ref[iMin]) iMin = i;
        if (iMax < 0 || v > ref[iMax]) iMax = i;
      }
      iLast = i;
    }
    flush();
    return { keep, lo, hi };
  }

  const fmt = (v) => v == null ? "–" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
    ? v.toExponential(3).replace(/\.?0+e/, "e") : String(+v.toPrecision(5));
  // On a log axis, labels and grid lines at powers of ten only.
  const decades = (u, splits) => splits.map((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? v : null);

  // One panel: several runs' series over a shared x scale.
  class Panel {
    constructor(el, opts) {
      this.el = el; this.opts = opts; this.plot = null; this.lines = []; this.view = null;
      this.guides = [];
      new ResizeObserver(() => this.resize()).observe(el);
    }
    width() { return Math.max(300, this.el.clientWidth); }
    resize() { if (this.plot) { this.plot.setSize({ width: this.width(), height: 260 }); } }

    // lines: [{label, color, x: [], y: [], dash, raw, envelope}]; guides: horizontal lines
    // [{value, label, color}].
    set(lines, guides, settings) {
      this.lines = lines; this.guides = guides || []; this.settings = settings;
      this.el.dataset.points = String(lines.reduce((n, l) => n + l.y.filter((v) => v != null).length, 0));
      this.draw();
    }

    // Builds the thinned, aligned table for the current x range and (re)draws.
    draw() {
      const { lines, settings } = this;
      const logy = settings.logy;
      let x0 = Infinity, x1 = -Infinity;
      for (const l of lines) if (l.x.length) { x0 = Math.min(x0, l.x[0]); x1 = Math.max(x1, l.x[l.x.length - 1]); }
      const view = this.view || [x0, x1];
      const px = this.width();
      const tables = [], series = [{ label: settings.xlabel }], bands = [];
      const pos = (v) => (v == null || !isFinite(v) || (logy && v <= 0)) ? null : v;
      for (const l of lines) {
        const ys = l.smooth ? smooth(l.y, settings.smoother, settings.window) : l.y;
        const t = thin(l.x, l.y, view[0], view[1], px);
        const xs = t.keep.map((i) => l.x[i]);
        const cols = [xs, t.keep.map((i) => pos(ys[i]))];
        series.push({ label: l.label, stroke: l.color, width: l.dash ? 1.2 : 2, dash: l.dash ? [6, 4] : undefined, spanGaps: true, value: (u, v) => fmt(v) });
        if (l.envelope && settings.raw) {
          cols.push(t.keep.map((i) => pos(l.y[i])));
          series.push({ label: l.label + " raw", stroke: l.color + "55", width: 1, spanGaps: true, value: (u, v) => fmt(v), helper: true });
          cols.push(t.lo.map(pos)); cols.push(t.hi.map(pos));
          const base = series.length;
          series.push({ label: l.label + " min", stroke: "transparent", width: 0, spanGaps: true, value: (u, v) => fmt(v), helper: true });
          series.push({ label: l.label + " max", stroke: "transparent", width: 0, spanGaps: true, value: (u, v) => fmt(v), helper: true });
          bands.push({ series: [base + 1, base], fill: l.color + "22" });
        }
        tables.push(cols);
      }
      for (const g of this.guides) {
        if (!isFinite(x0)) break;
        tables.push([[x0, x1], [pos(g.value), pos(g.value)]]);
        series.push({ label: g.label, stroke: g.color, width: 1.5, dash: [2, 4], value: () => fmt(g.value) });
      }
      const data = tables.length ? uPlot.join(tables) : [[]];
      this.table = { data, series };
      const ylabel = this.opts.ylabel + (logy ? " (log)" : "");
      const opts = {
        width: px, height: 260, series, bands,
        scales: { x: { time: false }, y: { distr: logy ? 3 : 1 } },
        axes: [{ label: settings.xlabel, size: 40, grid: { stroke: "#eef0f4" } },
               { label: ylabel, size: 64, grid: { stroke: "#eef0f4" }, values: (u, vs) => vs.map((v) => v == null ? "" : fmt(v)),
                 filter: logy ? decades : undefined }],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        hooks: { setSelect: [(u) => this.zoom(u)] },
      };
      if (this.plot) this.plot.destroy();
      this.el.innerHTML = "";
      this.plot = new uPlot(opts, data, this.el);
      if (this.view) this.plot.setScale("x", { min: this.view[0], max: this.view[1] });
      this.plot.over.ondblclick = () => { this.view = null; this.draw(); };
      // The raw curve and the envelope's bounds stay out of the legend.
      const rows = this.el.querySelectorAll(".u-legend .u-series");
      series.forEach((st, i) => { if (st.helper && rows[i]) rows[i].style.display = "none"; });
    }

    // A drag selects a range: thin again at full resolution for it.
    zoom(u) {
      if (u.select.width < 5) return;
      const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
      this.view = [a, b];
      u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
      this.draw();
    }

    png() { return this.plot ? this.plot.ctx.canvas.toDataURL("image/png") : null; }

    // The panel as SVG: the displayed (thinned) series as polylines on linear or log axes.
    svg(title) {
      const { data, series } = this.table;
      const W = 800, H = 400, L = 70, R = 180, T = 30, B = 40;
      const logy = this.settings.logy;
      const xs = data[0];
      let y0 = Infinity, y1 = -Infinity;
      for (let s = 1; s < data.length; s++) for (const v of data[s]) if (v != null) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
      const x0 = xs[0], x1 = xs[xs.length - 1];
      const fy = (v) => logy ? Math.log10(v) : v;
      const sx = (x) => L + (x - x0) / ((x1 - x0) || 1) * (W - L - R);
      const sy = (v) => H - B - (fy(v) - fy(y0)) / ((fy(y1) - fy(y0)) || 1) * (H - T - B);
      let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
      out += `<rect width="${W}" height="${H}" fill="#fff"/><text x="${L}" y="18" font-weight="bold">${esc(title)}</text>`;
      out += `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`;
      out += `<text x="${(W - R + L) / 2}" y="${H - 8}" text-anchor="middle">${esc(this.settings.xlabel)}</text>`;
      out += `<text x="${L - 4}" y="${T + 4}" text-anchor="end">${fmt(y1)}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">${fmt(y0)}</text>`;
      out += `<text x="${L}" y="${H - B + 16}" text-anchor="middle">${fmt(x0)}</text><text x="${W - R}" y="${H - B + 16}" text-anchor="middle">${fmt(x1)}</text>`;
      let ly = T + 10;
      for (let s = 1; s < data.length; s++) {
        const st = series[s];
        if (!st.stroke || st.stroke === "transparent") continue;
        const pts = [];
        for (let i = 0; i < xs.length; i++) if (data[s][i] != null) pts.push(`${sx(xs[i]).toFixed(1)},${sy(data[s][i]).toFixed(1)}`);
        out += `<polyline fill="none" stroke="${st.stroke}" stroke-width="${st.width || 1}"${st.dash ? ` stroke-dasharray="${st.dash.join(" ")}"` : ""} points="${pts.join(" ")}"/>`;
        if (!/ raw$/.test(st.label)) {
          out += `<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${st.stroke}" stroke-width="2"/><text x="${W - R + 36}" y="${ly}">${esc(st.label)}</text>`;
          ly += 16;
        }
      }
      return out + "</svg>";
    }
  }

  function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }

  window.Charts = { Panel, smooth, thin, PALETTE, fmt, esc, decades };
})();
