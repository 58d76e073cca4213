// The board's page: the run list (filter, group), the panels of the selected runs, live
// updates over Server-Sent Events (/api/events), the configuration diff and downloads.
"use strict";
(function () {
  const { Panel, PALETTE, fmt, esc } = window.Charts;
  const $ = (id) => document.getElementById(id);
  const state = {
    runs: new Map(),      // name -> listing from /api/runs
    data: new Map(),      // name -> {metrics columns, summary}
    selected: new Set(),
    colors: new Map(),
    pending: new Map(),   // name -> records that arrived while its metrics were loading
  };
  const panels = {
    loss: new Panel($("chart-loss"), { ylabel: "loss" }),
    lr: new Panel($("chart-lr"), { ylabel: "learning rate" }),
    grad: new Panel($("chart-grad"), { ylabel: "gradient norm" }),
    eff: new Panel($("chart-eff"), { ylabel: "effective step" }),
  };

  function color(name) {
    if (!state.colors.has(name)) state.colors.set(name, PALETTE[state.colors.size % PALETTE.length]);
    return state.colors.get(name);
  }

  async function getJSON(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.json();
  }

  // ---- the run list ----
  async function loadRuns() {
    const list = await getJSON("/api/runs");
    for (const r of list.runs) state.runs.set(r.name, r);
    if (state.selected.size === 0) {
      // Start with the newest few runs selected.
      const newest = [...state.runs.values()].filter((r) => r.status !== "corrupt")
        .sort((a, b) => (b.start_time || 0) - (a.start_time || 0)).slice(0, 3);
      for (const r of newest) await select(r.name, true);
    }
    renderList();
  }

  function settings() {
    const x = $("xaxis").value;
    return {
      x, xlabel: { epoch: "epoch", step: "update (step)", time: "wall time (s)" }[x],
      logy: $("logy").checked, smoother: $("smoother").value, window: +$("window").value,
      raw: $("raw").checked,
    };
  }

  function renderList() {
    const ul = $("runs");
    let re = null;
    try { re = new RegExp($("filter").value, "i"); $("filter").classList.remove("bad"); } catch (e) { $("filter").classList.add("bad"); }
    const runs = [...state.runs.values()].filter((r) => !re || re.test(r.name));
    const by = $("group").value;
    const groups = new Map();
    for (const r of runs) {
      const key = by ? String(r[by] ?? "–") : "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    ul.innerHTML = "";
    for (const [key, rs] of [...groups.entries()].sort()) {
      if (by) { const g = document.createElement("li"); g.className = "group"; g.textContent = `${by} ${key}`; ul.appendChild(g); }
      for (const r of rs.sort((a, b) => a.name.localeCompare(b.name))) {
        const li = document.createElement("li");
        li.className = "run"; li.dataset.run = r.name; li.dataset.status = r.status;
        const on = state.selected.has(r.name);
        li.innerHTML = `<input type="checkbox" ${on ? "checked" : ""} ${r.status === "corrupt" ? "disabled" : ""}>
          <span class="swatch" style="background:${on ? color(r.name) : "#d5d9e2"}"></span>
          <span class="name" title="${esc(r.name)}">${esc(r.name)}</span><span class="badge ${esc(r.status)}">${esc(r.status)}</span>
          <span class="meta">${r.status === "corrupt" ? esc(r.corrupt || "") :
            `${esc(r.model || "?")} · ${esc(r.optimizer || "?")} lr ${fmt(r.lr)} · ${r.epochs}${r.epochs_total ? "/" + r.epochs_total : ""} epochs · best ${fmt(r.best_loss)}`}</span>`;
        li.onclick = (e) => { if (r.status !== "corrupt") select(r.name, !state.selected.has(r.name)); e.preventDefault(); };
        ul.appendChild(li);
      }
    }
    $("runs-empty").hidden = state.runs.size > 0;
  }

  async function select(name, on) {
    if (on) {
      state.selected.add(name);
      color(name);
      if (!state.data.has(name)) {
        state.pending.set(name, []);
        const [m, s] = await Promise.all([getJSON(`/api/runs/${encodeURI(name)}/metrics`), getJSON(`/api/runs/${encodeURI(name)}/summary`)]);
        const d = { m, s };
        state.data.set(name, d);
        for (const rec of state.pending.get(name) || []) append(name, rec);
        state.pending.delete(name);
      }
    } else {
      state.selected.delete(name);
    }
    renderList(); redraw();
  }

  // ---- live updates ----
  function append(name, rec) {
    const d = state.data.get(name);
    if (!d) { if (state.pending.has(name)) state.pending.get(name).push(rec); return; }
    const m = d.m;
    const last = m.epoch.length ? m.epoch[m.epoch.length - 1] : 0;
    if (rec.epoch <= last) return;
    for (const k of ["epoch", "step", "loss", "val_loss", "lr", "grad_norm", "time"]) m[k].push(rec[k] ?? null);
  }

  let drawQueued = false;
  function redrawSoon() {
    if (drawQueued) return;
    drawQueued = true;
    setTimeout(() => { drawQueued = false; redraw(); renderList(); }, 250);
  }

  function connect() {
    const es = new EventSource("/api/events");
    es.onopen = () => { $("live").textContent = "live"; $("live").classList.add("on"); };
    es.onerror = () => { $("live").textContent = "reconnecting…"; $("live").classList.remove("on"); };
    const on = (kind, f) => es.addEventListener(kind, (e) => f(JSON.parse(e.data)));
    on("new", (u) => { state.runs.set(u.run, u.data); redrawSoon(); });
    on("epoch", (u) => {
      const r = state.runs.get(u.run);
      if (r) {
        r.epochs = u.data.epoch;
        if (u.data.loss != null && (r.best_loss == null || u.data.loss < r.best_loss)) r.best_loss = u.data.loss;
        if (r.status === "unfinished") r.status = "running";
      }
      if (state.selected.has(u.run)) { append(u.run, u.data); redrawSoon(); } else redrawSoon();
    });
    on("effective_step", (u) => {
      const e = state.data.get(u.run)?.m.effective_step;
      if (!e || (e.epoch.length && u.data.epoch <= e.epoch[e.epoch.length - 1])) return;
      for (const k of ["epoch", "min", "p10", "p50", "p90", "max"]) e[k].push(u.data[k]);
    });
    on("start", (u) => { state.data.delete(u.run); if (state.selected.has(u.run)) { state.selected.delete(u.run); select(u.run, true); } });
    on("end", (u) => { const r = state.runs.get(u.run); if (r) r.status = u.data.outcome?.stop?.status || "stopped"; refreshSummary(u.run); redrawSoon(); });
    on("status", (u) => { const r = state.runs.get(u.run); if (r) r.status = u.data.status; redrawSoon(); });
    es.addEventListener("lagged", () => { state.data.clear(); const sel = [...state.selected]; state.selected.clear(); sel.forEach((n) => select(n, true)); });
  }

  async function refreshSummary(name) {
    const d = state.data.get(name);
    if (d) d.s = await getJSON(`/api/runs/${encodeURI(name)}/summary`);
  }

  // ---- panels ----
  function xOf(d, key) {
    const m = d.m;
    if (key === "time") {
      const t0 = d.s?.start?.time ?? m.time.find((t) => t != null);
      return m.time.map((t, i) => (t == null || t0 == null) ? m.epoch[i] : t - t0);
    }
    return m[key];
  }

  function redraw() {
    const s = settings();
    $("window-out").textContent = s.window;
    $("smoothing-note").textContent = s.smoother === "none" ? "Curves: raw values, thinned for display keeping each pixel's min, max and last point."
      : `Bold curves: ${s.smoother === "ema" ? `exponential moving average, span ${s.window} points (α = 2/(span+1), started at the first value, not debiased)` : `trailing moving average of ${s.window} points`}, computed on every record before thinning; ${s.raw ? "faint: raw values with their min/max envelope per pixel." : ""}`;
    const loss = [], lr = [], grad = [], eff = [], guides = [];
    const bounds = [];
    for (const name of [...state.selected].sort()) {
      const d = state.data.get(name);
      if (!d) continue;
      const c = color(name), x = xOf(d, s.x);
      loss.push({ label: name, color: c, x, y: d.m.loss, smooth: true, envelope: true });
      if (d.m.val_loss.some((v) => v != null)) loss.push({ label: name + " val", color: c, x, y: d.m.val_loss, smooth: true, dash: true });
      lr.push({ label: name, color: c, x, y: d.m.lr });
      grad.push({ label: name, color: c, x, y: d.m.grad_norm, smooth: true, envelope: true });
      const e = d.m.effective_step;
      if (e && e.epoch.length) {
        // The epochs' x in the chosen axis.
        const at = new Map(d.m.epoch.map((ep, i) => [ep, x[i]]));
        const ex = e.epoch.map((ep) => at.get(ep) ?? ep);
        eff.push({ label: name + " median", color: c, x: ex, y: e.p50 });
        eff.push({ label: name + " p10", color: c, x: ex, y: e.p10, dash: true });
        eff.push({ label: name + " p90", color: c, x: ex, y: e.p90, dash: true });
        eff.push({ label: name + " min", color: c + "66", x: ex, y: e.min, dash: true });
        eff.push({ label: name + " max", color: c + "66", x: ex, y: e.max, dash: true });
      }
      const b = d.s?.start?.stable_lr;
      if (b != null) { guides.push({ value: b, label: `${name} stable lr < ${fmt(b)}`, color: c }); bounds.push(`${name}: ${fmt(b)}`); }
    }
    $("lr-note").textContent = bounds.length ? `(dotted: the least-squares stability bound, ${bounds.join(", ")})` : "";
    panels.loss.set(loss, [], s);
    panels.lr.set(lr, guides, { ...s, logy: $("logy").checked });
    panels.grad.set(grad, [], s);
    panels.eff.set(eff, [], { ...s, logy: true });
    $("eff-hint").hidden = eff.length > 0;
    $("chart-eff").hidden = eff.length === 0;
    renderConfig();
    renderFigures();
  }

  // ---- configuration diff ----
  function flatten(v, prefix, out) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    } else out[prefix] = JSON.stringify(v);
    return out;
  }
  function renderConfig() {
    const names = [...state.selected].sort().filter((n) => state.data.has(n));
    const flat = names.map((n) => { const s = state.data.get(n).s; return flatten(s?.summary?.spec ?? s?.start?.spec ?? {}, "", {}); });
    const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
    const differ = keys.filter((k) => new Set(flat.map((f) => f[k])).size > 1);
    const t = $("config");
    if (names.length < 2) { t.innerHTML = `<tr><td class="same">Select two or more runs to see how their settings differ.</td></tr>`; return; }
    if (!differ.length) { t.innerHTML = `<tr><td class="same">The selected runs have the same settings.</td></tr>`; return; }
    t.innerHTML = `<tr><th>setting</th>${names.map((n) => `<th><span style="color:${color(n)}">■</span> ${esc(n)}</th>`).join("")}</tr>` +
      differ.map((k) => `<tr><td>${esc(k)}</td>${flat.map((f) => `<td>${esc(f[k] ?? "–")}</td>`).join("")}</tr>`).join("");
  }

  function renderFigures() {
    const box = $("figures");
    const items = [];
    for (const name of [...state.selected].sort()) {
      const figs = state.data.get(name)?.s?.figures || [];
      for (const f of figs.filter((f) => f.endsWith(".png"))) items.push(`<a href="/api/runs/${encodeURI(name)}/files/${encodeURIComponent(f)}" target="_blank"><img alt="${esc(name)}: ${esc(f)}" src="/api/runs/${encodeURI(name)}/files/${encodeURIComponent(f)}"></a>`);
    }
    box.innerHTML = items.length ? items.join("") : `<p class="hint">None: runs trained with <code>--plot</code> show their figures here.</p>`;
  }

  // ---- downloads ----
  function download(name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
  $("download-csv").onclick = () => {
    const rows = ["run,epoch,step,loss,val_loss,lr,grad_norm,time"];
    for (const name of [...state.selected].sort()) {
      const m = state.data.get(name)?.m;
      if (!m) continue;
      for (let i = 0; i < m.epoch.length; i++) rows.push([JSON.stringify(name), m.epoch[i], m.step[i], m.loss[i], m.val_loss[i] ?? "", m.lr[i], m.grad_norm[i], m.time[i] ?? ""].join(","));
    }
    download("metrics.csv", new Blob([rows.join("\n") + "\n"], { type: "text/csv" }));
  };
  for (const b of document.querySelectorAll("[data-png]")) b.onclick = () => { const url = panels[b.dataset.png].png(); if (url) { const a = document.createElement("a"); a.href = url; a.download = `${b.dataset.png}.png`; a.click(); } };
  for (const b of document.querySelectorAll("[data-svg]")) b.onclick = () => download(`${b.dataset.svg}.svg`, new Blob([panels[b.dataset.svg].svg(b.dataset.svg)], { type: "image/svg+xml" }));

  // ---- tabs and controls ----
  function showTab(name) {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.tab === name);
    for (const p of document.querySelectorAll(".tab-page")) p.hidden = p.id !== `tab-${name}`;
    if (name === "playground") window.Playground.start(); else redraw();
  }
  for (const t of document.querySelectorAll(".tab")) t.onclick = () => showTab(t.dataset.tab);
  for (const id of ["xaxis", "logy", "smoother", "window", "raw"]) $(id).addEventListener("input", redraw);
  for (const id of ["filter", "group"]) $(id).addEventListener("input", renderList);
  $("select-all").onclick = async () => { for (const li of document.querySelectorAll(".run")) if (li.dataset.status !== "corrupt") await select(li.dataset.run, true); };
  $("select-none").onclick = () => { state.selected.clear(); renderList(); redraw(); };

  window.Board = { state, select, redraw };
  connect();
  loadRuns().then(redraw);
  if (location.hash === "#playground") showTab("playground");
})();
