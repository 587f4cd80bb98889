// The review page: a queue of scans, and one scan with its findings drawn over it. Plain JavaScript:
// data come from Vigil's HTTP API; decisions go back to it as they are made.
"use strict";

const $ = (sel) => document.querySelector(sel);
const MATERIAL = { organic: [255, 140, 0], inorganic: [40, 170, 40], metal: [50, 100, 255] };
const COLOURS = ["#ff3b30", "#ffcc00", "#34c759", "#0a84ff", "#bf5af2", "#ff9f0a", "#64d2ff"];

function status(text) { $("#status").textContent = text; }

// Thrown when the API answers 401: the page shows the sign-in form instead of an error.
class SignInNeeded extends Error {}

async function api(path, options) {
  const r = await fetch(path, options);
  if (r.status === 401) { showSignIn(); throw new SignInNeeded("sign in first"); }
  if (!r.ok) {
    let message = r.statusText;
    try { message = (await r.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(`${r.status} ${message}`);
  }
  return r;
}

// Mirrors `form` and the page's query string both ways, so a shared link reopens the same view:
// fills each named field from the query, and submitting puts the filled fields in the query.
// Returns the query's parameters.
function fillFromQuery(form) {
  const params = new URLSearchParams(location.search);
  for (const el of form.elements) if (el.name && params.has(el.name)) el.value = params.get(el.name);
  form.onsubmit = (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.elements) if (el.name && el.value) q.set(el.name, el.value);
    location.search = q.toString();
  };
  return params;
}

// ---------------------------------------------------------------- queue

async function showQueue() {
  $("#queue-view").hidden = false;
  const form = $("#filters");
  const params = fillFromQuery(form);
  const q = new URLSearchParams({ limit: "500" });
  for (const el of form.elements) if (el.name && el.value) q.set(el.name, el.value);
  const { scans } = await (await api(`/api/scans?${q}`)).json();
  // Alarms first, newest first within each verdict (the list arrives newest first).
  scans.sort((a, b) => (b.verdict === "alarm") - (a.verdict === "alarm"));
  sessionStorage.setItem("vigil-queue", JSON.stringify(scans.map((s) => s.scanId)));
  const body = $("#queue tbody");
  body.innerHTML = "";
  for (const s of scans) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    for (const text of [s.receivedAt.replace("T", " ").slice(0, 19), s.site ?? "", s.station, s.source, s.verdict ?? "pending", s.findings]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.children[4].className = `verdict-${s.verdict}`;
    const open = () => { location.href = `/review/${s.scanId}`; };
    tr.onclick = open;
    tr.onkeydown = (e) => { if (e.key === "Enter") open(); };
    body.appendChild(tr);
  }
  status(`${scans.length} scans`);
  body.firstElementChild?.focus();
}

// ---------------------------------------------------------------- one scan

// A pane is one scan drawn on one canvas with its own zoom and pan: the scan under review (`view`
// itself) and, for a paired scan, the earlier scan of the same vehicle it was cross-checked with
// (`view.other`), each with the findings' boxes in its own pixels. Window/level is shared: both are
// attenuation after their own profile's calibration, so one window means the same on both.
const view = {
  scan: null, result: null, planes: null, width: 0, height: 0, channels: [], materials: null,
  mode: "grey", low: 0, high: 1, zoom: 1, x: 0, y: 0, selected: 0, hidden: new Set(), decisions: {}, image: null,
  canvas: "#canvas", boxOf: (f) => f.box, other: null, flips: [], upright: true,
};

function panes() { return view.other ? [view, view.other] : [view]; }

// Loads a scan's calibrated planes (and, for dual energy, its profile's material curves) into `pane`.
async function loadPlanes(pane, scanId, profile) {
  const r = await api(`/api/scans/${scanId}/planes`);
  pane.width = +r.headers.get("X-Vigil-Width");
  pane.height = +r.headers.get("X-Vigil-Height");
  pane.channels = r.headers.get("X-Vigil-Channels").split(",");
  pane.flips = (r.headers.get("X-Vigil-Flips") || "").split(",").filter((f) => f);
  pane.planes = new Float32Array(await r.arrayBuffer());
  pane.materials = null;
  if (pane.channels.includes("high") && pane.channels.includes("low")) {
    try { pane.materials = await (await api(`/api/profiles/${profile}/materials`)).json(); } catch (_) { pane.materials = null; }
  }
}

async function showScan(id) {
  $("#scan-view").hidden = false;
  status("loading…");
  const result = await (await api(`/api/scans/${id}`)).json();
  if (!result.findings) { status(`scan ${id} is waiting for analysis`); return; }
  view.result = result;
  $("#scan-title").textContent = result.source;
  $("#scan-meta").textContent = `${result.verdict} · ${result.profile} · ${result.site ?? "no site"} · ${result.station ?? ""} · ${result.image.width}×${result.image.height}`;
  await loadPlanes(view, id, result.profile);
  const paired = result.findings.find((f) => f.pairedScanId);
  if (paired) await showPairedScan(paired.pairedScanId);
  if (!view.materials) {
    for (const el of document.querySelectorAll("input[name=mode]")) el.disabled = el.value === "material";
    $("#legend-material").hidden = true;
  }
  autoWindow();
  if (view.materials && new URLSearchParams(location.search).get("mode") === "material") {
    view.mode = "material";
    for (const el of document.querySelectorAll("input[name=mode]")) el.checked = el.value === "material";
  }
  const reviews = await (await api(`/api/scans/${id}/reviews`)).json();
  view.decisions = reviews.current.findings;
  $("#scan-decision").textContent = reviews.current.scan ? `decided: ${reviews.current.scan}` : "";
  buildSidebar();
  renderAll();
  fitAll();
  bindInput();
  status(`${result.findings.length} findings${view.other ? " · paired scan below" : ""}`);
  $("#canvas").focus();
}

// The other half of a cross-check, below the scan under review; its differences at `otherBox`.
async function showPairedScan(scanId) {
  const other = {
    result: null, width: 0, height: 0, channels: [], planes: null, materials: null, image: null, zoom: 1, x: 0, y: 0, flips: [],
    canvas: "#canvas-other", boxOf: (f) => (f.pairedScanId === scanId ? f.otherBox : null),
  };
  try {
    other.result = await (await api(`/api/scans/${scanId}`)).json();
    await loadPlanes(other, scanId, other.result.profile);
  } catch (e) {
    if (e instanceof SignInNeeded) throw e;
    $("#paired-title").textContent = `paired scan ${scanId} cannot be shown: ${e.message}`;
    $("#paired-pane").hidden = false;
    return;
  }
  view.other = other;
  const r = other.result;
  const link = document.createElement("a");
  link.href = `/review/${scanId}`;
  link.textContent = r.source;
  $("#paired-title").replaceChildren("paired scan: ", link,
    ` · ${r.site ?? "no site"} · ${r.station ?? ""} · ${r.profile} · ${r.image.width}×${r.image.height}`);
  $("#paired-pane").hidden = false;
}

function highPlane(pane) {
  const i = Math.max(0, pane.channels.indexOf("high"));
  return pane.planes.subarray(i * pane.width * pane.height, (i + 1) * pane.width * pane.height);
}

function autoWindow() {
  const p = highPlane(view);
  const step = Math.max(1, Math.floor(p.length / 50000));
  const sample = [];
  // Over the object only (air is ~0): the window spans what an analyst looks at.
  for (let i = 0; i < p.length; i += step) if (Number.isFinite(p[i]) && p[i] > 0.02) sample.push(p[i]);
  sample.sort((a, b) => a - b);
  view.low = 0;
  view.high = sample[Math.floor(sample.length * 0.9)] ?? 1;
  if (view.high <= view.low) view.high = view.low + 1;
}

function renderAll() {
  for (const pane of panes()) render(pane);
  $("#wl").textContent = `window ${view.low.toFixed(2)} – ${view.high.toFixed(2)} (attenuation)`;
}

// Draws a pane's scan at full resolution into an offscreen canvas: attenuation windowed (dense is
// dark), or, for dual energy, coloured by the low/high attenuation ratio's nearest reference material.
function render(pane) {
  const { width: w, height: h } = pane;
  const off = document.createElement("canvas");
  off.width = w; off.height = h;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(w, h);
  const hi = highPlane(pane);
  const lowIndex = pane.channels.indexOf("low");
  const lo = lowIndex >= 0 ? pane.planes.subarray(lowIndex * w * h, (lowIndex + 1) * w * h) : null;
  const scale = 1 / (view.high - view.low);
  const lut = pane.materials ? materialTable(pane.materials.classes) : null;
  const material = view.mode === "material" && lo && lut;
  // The material is judged on both channels averaged over 7x7 pixels where the attenuation is
  // locally flat: one pixel's low/high ratio is dominated by photon noise (at MeV energies the
  // materials' ratios differ by a few per cent). Brightness stays the pixel's own.
  const [hiMean, loMean] = material ? (pane.smoothed ??= [boxMean(hi, w, h, 3), boxMean(lo, w, h, 3)]) : [null, null];
  for (let i = 0; i < w * h; i++) {
    const a = hi[i];
    const t = Math.min(1, Math.max(0, (a - view.low) * scale));
    const g = 255 * (1 - t);
    let rgb = [g, g, g];
    // Across an edge the window mixes two materials into a third: there the pixel speaks for itself.
    const flat = material && Math.abs(a - hiMean[i]) < 0.15 * hiMean[i];
    const ah = flat ? hiMean[i] : a, al = flat ? loMean[i] : lo?.[i];
    if (material && ah > pane.materials.minAttenuation) {
      const ratio = al / ah;
      const row = lut.ratios[Math.min(lut.bins - 1, Math.floor(ah / lut.step))];
      let best = 0, d = Infinity;
      for (let k = 0; k < row.length; k++) { const e = Math.abs(row[k] - ratio); if (e < d) { d = e; best = k; } }
      const c = MATERIAL[lut.names[best]];
      const b = 0.25 + 0.75 * (1 - t);
      rgb = [c[0] * b, c[1] * b, c[2] * b];
    }
    img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1]; img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  pane.image = off;
  draw(pane);
}

// The mean over a (2r+1)x(2r+1) window (clipped at the borders): running sums along rows, then columns.
function boxMean(plane, w, h, r) {
  const rows = new Float32Array(w * h), out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let sum = 0;
    for (let x = 0; x < Math.min(r, w); x++) sum += plane[o + x];
    for (let x = 0; x < w; x++) {
      if (x + r < w) sum += plane[o + x + r];
      if (x - r - 1 >= 0) sum -= plane[o + x - r - 1];
      rows[o + x] = sum / (Math.min(w - 1, x + r) - Math.max(0, x - r) + 1);
    }
  }
  const col = new Float64Array(w);
  for (let y = 0; y < Math.min(r, h); y++) for (let x = 0; x < w; x++) col[x] += rows[y * w + x];
  for (let y = 0; y < h; y++) {
    if (y + r < h) for (let x = 0; x < w; x++) col[x] += rows[(y + r) * w + x];
    if (y - r - 1 >= 0) for (let x = 0; x < w; x++) col[x] -= rows[(y - r - 1) * w + x];
    const n = Math.min(h - 1, y + r) - Math.max(0, y - r) + 1;
    for (let x = 0; x < w; x++) out[y * w + x] = col[x] / n;
  }
  return out;
}

// Each reference material's low/high ratio at every high-energy attenuation bin (its curve
// interpolated), so a pixel is classed by the nearest curve at its own attenuation.
function materialTable(classes) {
  const bins = 256;
  const top = Math.max(...classes.map((c) => c.curve[c.curve.length - 1].attenuation));
  const step = top / bins;
  const ratios = [];
  for (let b = 0; b < bins; b++) {
    const a = (b + 0.5) * step;
    ratios.push(classes.map((c) => {
      const pts = c.curve;
      if (a <= pts[0].attenuation) return pts[0].ratio;
      for (let k = 1; k < pts.length; k++) {
        if (a <= pts[k].attenuation) {
          const t = (a - pts[k - 1].attenuation) / (pts[k].attenuation - pts[k - 1].attenuation);
          return pts[k - 1].ratio + t * (pts[k].ratio - pts[k - 1].ratio);
        }
      }
      return pts[pts.length - 1].ratio;
    }));
  }
  return { bins, step, ratios, names: classes.map((c) => c.name) };
}

function fit(pane) {
  const c = $(pane.canvas);
  pane.zoom = Math.min(c.clientWidth / pane.width, c.clientHeight / pane.height);
  pane.x = (c.clientWidth - pane.width * pane.zoom) / 2;
  pane.y = (c.clientHeight - pane.height * pane.zoom) / 2;
  draw(pane);
}

function fitAll() { for (const pane of panes()) fit(pane); }
function drawAll() { for (const pane of panes()) draw(pane); }

// Which flips are applied: the profile's (to Vigil's orientation) unless the analyst asked for
// the scan as received (`o`). Boxes are in received pixels and flip with the image.
function flipped(pane) {
  return { h: view.upright && pane.flips.includes("horizontal"), v: view.upright && pane.flips.includes("vertical") };
}

// Where a box in the scan's received pixels is on its pane's canvas.
function screenBox(pane, box) {
  const f = flipped(pane);
  const bx = f.h ? pane.width - box.x - box.width : box.x;
  const by = f.v ? pane.height - box.y - box.height : box.y;
  return { x: pane.x + bx * pane.zoom, y: pane.y + by * pane.zoom, width: box.width * pane.zoom, height: box.height * pane.zoom };
}

// Moves a pane so the box is in view (centred) when it is not already entirely visible.
function reveal(pane, box) {
  const c = $(pane.canvas);
  const s = screenBox(pane, box);
  if (s.x >= 0 && s.y >= 0 && s.x + s.width <= c.clientWidth && s.y + s.height <= c.clientHeight) return;
  pane.x += c.clientWidth / 2 - (s.x + s.width / 2);
  pane.y += c.clientHeight / 2 - (s.y + s.height / 2);
}

function labelColour(label) {
  const labels = [...new Set(view.result.findings.map((f) => f.label))].sort();
  return COLOURS[labels.indexOf(label) % COLOURS.length];
}

// A pane's canvas: its scan under its zoom and pan, then each visible finding that has a box in it.
function draw(pane = view) {
  const c = $(pane.canvas);
  if (!pane.image) return;
  c.width = c.clientWidth; c.height = c.clientHeight;
  const ctx = c.getContext("2d");
  ctx.imageSmoothingEnabled = pane.zoom < 1;
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, c.width, c.height);
  const f = flipped(pane);
  ctx.setTransform(f.h ? -pane.zoom : pane.zoom, 0, 0, f.v ? -pane.zoom : pane.zoom,
    pane.x + (f.h ? pane.width * pane.zoom : 0), pane.y + (f.v ? pane.height * pane.zoom : 0));
  ctx.drawImage(pane.image, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  view.result.findings.forEach((f, i) => {
    const box = pane.boxOf(f);
    if (!box || view.hidden.has(f.label)) return;
    const { x, y, width: bw, height: bh } = screenBox(pane, box);
    ctx.strokeStyle = labelColour(f.label);
    ctx.lineWidth = i === view.selected ? 4 : 2;
    ctx.setLineDash(view.decisions[i] === "dismiss" ? [6, 4] : []);
    ctx.strokeRect(x, y, bw, bh);
    ctx.setLineDash([]);
    const text = `${f.label} ${f.confidence.toFixed(2)}`;
    ctx.font = "13px sans-serif";
    const tw = ctx.measureText(text).width + 6;
    ctx.fillStyle = labelColour(f.label);
    ctx.fillRect(x, Math.max(0, y - 17), tw, 17);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x + 3, Math.max(12, y - 4));
  });
}

function buildSidebar() {
  const classes = $("#classes");
  for (const label of [...new Set(view.result.findings.map((f) => f.label))].sort()) {
    const l = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox"; box.checked = true;
    box.onchange = () => { box.checked ? view.hidden.delete(label) : view.hidden.add(label); drawAll(); };
    l.append(box, ` ${label} `);
    l.style.color = labelColour(label);
    classes.appendChild(l);
  }
  const list = $("#findings");
  list.innerHTML = "";
  view.result.findings.forEach((f, i) => {
    const li = document.createElement("li");
    li.innerHTML = `<b></b> <span class="conf"></span> <span class="state"></span><br>
      <button data-d="confirm">Confirm (c)</button> <button data-d="dismiss">Dismiss (d)</button>
      <input placeholder="note" class="note">`;
    li.querySelector("b").textContent = f.label;
    li.querySelector(".conf").textContent = `${f.confidence.toFixed(3)} ≥ ${f.threshold} · ${f.kind}`;
    li.onclick = (e) => { if (e.target.tagName !== "INPUT") select(i); };
    for (const b of li.querySelectorAll("button")) b.onclick = () => decideFinding(i, b.dataset.d);
    list.appendChild(li);
  });
  for (const b of document.querySelectorAll("#decision button")) b.onclick = () => decideScan(b.dataset.decision);
  for (const el of document.querySelectorAll("input[name=mode]")) el.onchange = () => { view.mode = el.value; renderAll(); };
  updateSidebar();
}

function updateSidebar() {
  [...$("#findings").children].forEach((li, i) => {
    li.classList.toggle("selected", i === view.selected);
    const s = li.querySelector(".state");
    const d = view.decisions[i];
    s.textContent = d ? (d === "confirm" ? "confirmed" : "dismissed") : "";
    s.className = `state decided-${d}`;
  });
}

function select(i) {
  if (!view.result.findings.length) return;
  view.selected = (i + view.result.findings.length) % view.result.findings.length;
  const f = view.result.findings[view.selected];
  for (const pane of panes()) if (pane.boxOf(f)) reveal(pane, pane.boxOf(f));
  updateSidebar();
  drawAll();
}

async function post(body) {
  const r = await api(`/api/scans/${view.result.scanId}/reviews`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return r.json();
}

async function decideFinding(i, decision) {
  if (!view.result.findings[i]) return;
  const note = $("#findings").children[i].querySelector(".note").value || null;
  try {
    const reviews = await post({ findings: [{ index: i, decision, note }] });
    view.decisions = reviews.current.findings;
    status(`finding ${i + 1} ${decision}ed`);
    updateSidebar();
    drawAll();
    if (i === view.selected) select(i + 1);
  } catch (e) { status(`not saved: ${e.message}`); }
}

async function decideScan(decision) {
  try {
    const reviews = await post({ decision, note: $("#scan-note").value || null });
    $("#scan-decision").textContent = `decided: ${reviews.current.scan}`;
    status(`scan: ${decision}`);
  } catch (e) { status(`not saved: ${e.message}`); }
}

function nextScan() {
  const queue = JSON.parse(sessionStorage.getItem("vigil-queue") || "[]");
  const next = queue[queue.indexOf(view.result.scanId) + 1];
  if (next) location.href = `/review/${next}`; else status("end of the queue");
}

// Drag pans the pane under the mouse, the wheel zooms it; right-drag (or shift-drag) sets the shared
// window/level; keys act on the scan under review.
function bindInput() {
  let drag = null;
  for (const pane of panes()) {
    const c = $(pane.canvas);
    c.oncontextmenu = (e) => e.preventDefault();
    c.onmousedown = (e) => {
      drag = { pane, x: e.clientX, y: e.clientY, level: e.button === 2 || e.shiftKey, low: view.low, high: view.high, px: pane.x, py: pane.y };
      c.style.cursor = "grabbing";
    };
    c.onwheel = (e) => {
      e.preventDefault();
      const f = Math.exp(-e.deltaY / 500);
      const r = c.getBoundingClientRect();
      const mx = e.clientX - r.left, my = e.clientY - r.top;
      pane.x = mx - (mx - pane.x) * f; pane.y = my - (my - pane.y) * f;
      pane.zoom *= f;
      draw(pane);
    };
  }
  window.onmouseup = () => {
    if (drag && drag.level) renderAll();
    if (drag) $(drag.pane.canvas).style.cursor = "grab";
    drag = null;
  };
  window.onmousemove = (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (drag.level) {
      // Horizontal: window width; vertical: level. Rendered on release (a full-resolution pass).
      const width = Math.max(1e-3, (drag.high - drag.low) * Math.exp(dx / 200));
      const centre = (drag.high + drag.low) / 2 + (dy / 300) * (drag.high - drag.low);
      view.low = centre - width / 2; view.high = centre + width / 2;
      $("#wl").textContent = `window ${view.low.toFixed(2)} – ${view.high.toFixed(2)} (attenuation)`;
    } else {
      drag.pane.x = drag.px + dx; drag.pane.y = drag.py + dy;
      draw(drag.pane);
    }
  };
  window.onresize = drawAll;
  document.onkeydown = (e) => {
    if (e.target.tagName === "INPUT") return;
    const keys = {
      j: () => select(view.selected + 1), k: () => select(view.selected - 1),
      c: () => decideFinding(view.selected, "confirm"), d: () => decideFinding(view.selected, "dismiss"),
      r: () => decideScan("release"), i: () => decideScan("inspect"),
      m: () => {
        if (!view.materials) return;
        view.mode = view.mode === "grey" ? "material" : "grey";
        for (const el of document.querySelectorAll("input[name=mode]")) el.checked = el.value === view.mode;
        renderAll();
      },
      "0": fitAll, n: nextScan,
      o: () => { view.upright = !view.upright; fitAll(); status(view.upright ? "upright (Vigil's orientation)" : "as received"); },
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  };
}

// ---------------------------------------------------------------- dashboard

function percent(n, d) { return d > 0 ? `${(100 * n / d).toFixed(1)} %` : "–"; }

function row(cells, numeric) {
  const tr = document.createElement("tr");
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c;
    if (numeric.includes(i)) td.className = "num";
    tr.appendChild(td);
  });
  return tr;
}

// A site's activity: per class and station, how often analysts confirm what the models flag and how
// long reviews take; per day, the alarm rate of each station (a drifting scanner or model shows).
async function showDashboard() {
  $("#dashboard-view").hidden = false;
  const form = $("#dashboard-form");
  const params = fillFromQuery(form);
  if (!params.get("site")) { status("choose a site"); return; }
  const a = await (await api(`/api/sites/${encodeURIComponent(params.get("site"))}/activity?days=${params.get("days") || 30}`)).json();
  const byClass = new Map();
  for (const c of a.classes) {
    const key = `${c.station}\u0000${c.label}`;
    const t = byClass.get(key) || { station: c.station, label: c.label, findings: 0, confirmed: 0, dismissed: 0, reviewTime: 0, reviewed: 0 };
    t.findings += c.findings; t.confirmed += c.confirmed; t.dismissed += c.dismissed;
    if (c.meanReviewSeconds !== null) { t.reviewTime += c.meanReviewSeconds * (c.confirmed + c.dismissed); t.reviewed += c.confirmed + c.dismissed; }
    byClass.set(key, t);
  }
  const classBody = $("#by-class tbody");
  classBody.innerHTML = "";
  for (const t of [...byClass.values()].sort((x, y) => x.station.localeCompare(y.station) || x.label.localeCompare(y.label))) {
    classBody.appendChild(row([t.station, t.label, t.findings, t.confirmed, t.dismissed, percent(t.confirmed, t.confirmed + t.dismissed),
      t.reviewed ? `${(t.reviewTime / t.reviewed).toFixed(0)} s` : "–"], [2, 3, 4, 5, 6]));
  }
  const dayBody = $("#by-day tbody");
  dayBody.innerHTML = "";
  for (const d of a.stations) {
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${d.scans ? Math.round(200 * d.alarms / d.scans) : 0}px`;
    dayBody.appendChild(row([d.day, d.station, d.scans, d.alarms, percent(d.alarms, d.scans), d.decided, bar], [2, 3, 4, 5]));
  }
  status(`${a.site}: ${a.stations.reduce((n, d) => n + d.scans, 0)} scans since ${a.since.slice(0, 10)}`);
}

// ---------------------------------------------------------------- thresholds

// A site's thresholds: each class's value within the central bounds; a candidate is replayed over
// the site's reviewed findings (what-if) before it is set; every change is listed and can be restored.
async function showThresholds() {
  $("#thresholds-view").hidden = false;
  const form = $("#thresholds-form");
  const params = fillFromQuery(form);
  const site = params.get("site");
  if (!site) { status("choose a site"); return; }
  const canSet = me.role === "admin" || (me.role === "site-admin" && me.site === site);
  $("#thresholds-who").textContent = canSet ? `${me.name} may change ${site}'s thresholds`
    : `${me.name} (${me.role}) may look, not change: thresholds are set by an admin or ${site}'s site-admin`;
  $("#commit-form").hidden = !canSet;
  const base = `/api/sites/${encodeURIComponent(site)}/thresholds`;
  const current = await (await api(base)).json();
  const body = $("#threshold-table tbody");
  body.innerHTML = "";
  for (const [model, classes] of Object.entries(current.thresholds).sort()) {
    for (const [label, t] of Object.entries(classes).sort()) {
      const candidate = document.createElement("input");
      candidate.type = "number"; candidate.step = "0.01"; candidate.size = 6; candidate.value = t.value;
      if (t.min !== null) candidate.min = t.min;
      if (t.max !== null) candidate.max = t.max;
      const button = document.createElement("button");
      button.textContent = "What if";
      button.onclick = () => whatIf(base, model, label, +candidate.value);
      const tr = row([model, label, t.value, t.calibrated, t.min !== null ? `${t.min} – ${t.max}` : "none", t.source, candidate, button], [2, 3]);
      tr.dataset.model = model; tr.dataset.label = label;
      body.appendChild(tr);
    }
  }
  const history = (await (await api(`${base}/history`)).json()).changes;
  const hbody = $("#history-table tbody");
  hbody.innerHTML = "";
  for (const h of [...history].reverse()) {
    const restore = document.createElement("button");
    restore.textContent = "Restore";
    restore.disabled = !canSet;
    restore.onclick = async () => {
      const reason = $("#restore-reason").value.trim();
      if (!reason) { status("a restore needs a reason"); $("#restore-reason").focus(); return; }
      try {
        await api(`${base}/restore`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ change: h.id, reason }) });
        status(`restored to change ${h.id}`);
        await showThresholds();
      } catch (e) { status(`not restored: ${e.message}`); }
    };
    hbody.appendChild(row([h.at.slice(0, 19).replace("T", " "), h.user, h.model, h.label, h.oldValue ?? "calibrated", h.newValue ?? "calibrated", h.reason, restore], [4, 5]));
  }
  status(`${site}: ${body.children.length} classes, ${history.length} changes`);
}

async function whatIf(base, model, label, value) {
  const q = new URLSearchParams({ model, class: label, value });
  try {
    const [w] = (await (await api(`${base}/what-if?${q}`)).json()).classes;
    $("#what-if").hidden = false;
    $("#what-if-title").textContent = `${model} · ${label} at ${value} (now ${w.current.threshold})`;
    const floor = w.floor !== null && value < w.floor ? ` Below ${w.floor} the counts are a lower bound: findings under the threshold in force were never stored.` : "";
    $("#what-if-counts").textContent = `Of ${w.confirmed} confirmed findings, ${w.candidate.confirmedFound} would still be found (now ${w.current.confirmedFound}); `
      + `of ${w.dismissed} dismissed, ${w.candidate.dismissedAlarming} would still alarm (now ${w.current.dismissedAlarming}).${floor}`;
    q.set("format", "svg");
    $("#what-if-curve").src = `${base}/what-if?${q}`;
    $("#what-if").scrollIntoView();
    $("#commit-form").onsubmit = async (e) => {
      e.preventDefault();
      try {
        await api(base, { method: "PUT", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ reason: e.target.reason.value, thresholds: { [model]: { [label]: value } } }) });
        e.target.reason.value = "";
        $("#what-if").hidden = true;
        await showThresholds();
        status(`${model} · ${label} set to ${value}`);
      } catch (err) { status(`not set: ${err.message}`); }
    };
  } catch (e) { status(`what-if: ${e.message}`); }
}

// ---------------------------------------------------------------- sign-in

// The session is an HttpOnly cookie set by /api/login: this script never holds the token.
function showSignIn() {
  for (const m of document.querySelectorAll("main")) m.hidden = m.id !== "signin-view";
  $("#who").textContent = "";
  $("#signout").hidden = true;
  $("#signin-form").username.focus();
}

$("#signin-form").onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  const r = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }),
  });
  form.password.value = "";
  if (!r.ok) {
    let message = r.statusText;
    try { message = (await r.json()).error || message; } catch (_) { /* not JSON */ }
    status(message);
    return;
  }
  location.reload();
};

$("#signout").onclick = async () => {
  await fetch("/api/logout", { method: "POST" });
  showSignIn();
};

// ---------------------------------------------------------------- start

let me = null;

async function start() {
  me = await (await api("/api/me")).json();
  $("#who").textContent = `${me.name} (${me.role}${me.site ? `, ${me.site}` : ""})`;
  $("#signout").hidden = false;
  const match = location.pathname.match(/^\/review\/([^/]+)$/);
  const pages = { "/dashboard": showDashboard, "/thresholds": showThresholds };
  await (pages[location.pathname] ? pages[location.pathname]() : match ? showScan(decodeURIComponent(match[1])) : showQueue());
}
start().catch((e) => { if (!(e instanceof SignInNeeded)) status(`error: ${e.message}`); });
