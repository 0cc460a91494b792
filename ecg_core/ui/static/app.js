// The endpoint's page: plain JavaScript, no build step, no third-party code. It sends the same requests
// as any client (POST /, /ui/api/*, POST /report) and draws what comes back.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { inputs: null, analysis: null, history: [], pulseImage: null, beats: null, zoom: 1 };

// ---- requests: bearer token on demand, server errors shown as the server wrote them ----------------
function token() { return sessionStorage.getItem("ecgToken") || ""; }
function authHeaders() { return token() ? { Authorization: `Bearer ${token()}` } : {}; }
// /health is open, but says more than "ok" (models, demo) only to a caller with the token
async function health() { return (await fetch("/health", { headers: authHeaders() })).json(); }

function askToken(reason) {
  return new Promise((resolve) => {
    const dialog = $("token-dialog");
    $("token-reason").textContent = reason;
    $("token-input").value = "";
    dialog.addEventListener("close", () => {
      sessionStorage.setItem("ecgToken", $("token-input").value.trim());
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

async function api(path, { method = "POST", body, raw = false } = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = authHeaders();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 || response.status === 403) {
      const message = (await response.json().catch(() => ({}))).error || "token needed";
      await askToken(response.status === 401 ? "This server needs its bearer token." : `Token refused: ${message}`);
      continue;
    }
    if (!response.ok) {
      const text = await response.text();
      let message;
      try { message = JSON.parse(text).error; } catch (_) { message = null; }
      throw new Error(message || `HTTP ${response.status}`);
    }
    return raw ? response : response.json();
  }
  throw new Error("the server did not accept the token");
}

// Long requests: a spinner with the elapsed time and what the models are doing (first use loads them).
async function withProgress(label, work) {
  $("error").hidden = true;
  $("progress").hidden = false;
  const started = Date.now();
  let models = "";
  const tick = () => { $("progress-text").textContent = `${label} ${((Date.now() - started) / 1000).toFixed(0)} s${models}`; };
  const timer = setInterval(tick, 500);
  const poll = setInterval(async () => {
    try {
      const { models: states } = await health();
      const busy = Object.entries(states || {}).filter(([, status]) => status.state === "loading");
      models = busy.length ? ` — loading ${busy.map(([name]) => name).join(", ")} (first use)` : "";
    } catch (_) { /* the progress line is best effort */ }
  }, 1500);
  tick();
  try {
    return await work();
  } catch (error) {
    showError(error.message);
    return null;
  } finally {
    clearInterval(timer); clearInterval(poll);
    $("progress").hidden = true;
  }
}

function showError(message) {
  $("error").textContent = `Error: ${message}`;
  $("error").hidden = false;
}

// ---- inputs ------------------------------------------------------------------------------------
function readFile(file, asText) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    if (asText) reader.readAsText(file); else reader.readAsDataURL(file);
  });
}

async function inputsFromFile(file) {
  if (file.name.toLowerCase().endsWith(".json")) {
    let parsed;
    try { parsed = JSON.parse(await readFile(file, true)); } catch (error) { throw new Error(`${file.name}: not valid JSON (${error.message})`); }
    return parsed.inputs || parsed;
  }
  const dataUri = await readFile(file, false);
  const inputs = { file: dataUri.slice(dataUri.indexOf(",") + 1) };
  if ($("file-format").value) inputs.format = $("file-format").value;
  if ($("file-fs").value) inputs.fs = Number($("file-fs").value);  // only CSV/TSV take these (the server says so)
  if ($("file-units").value) inputs.units = $("file-units").value;
  return inputs;
}

async function loadExamples() {
  const { examples } = await api("/ui/api/examples", { method: "GET" });
  for (const example of examples) {
    const option = document.createElement("option");
    option.value = example.name; option.textContent = example.name; option.title = example.description;
    $("example-select").append(option);
  }
  state.examples = Object.fromEntries(examples.map((e) => [e.name, e.description]));
}

async function chooseExample() {
  const name = $("example-select").value;
  $("example-description").textContent = (state.examples || {})[name] || "";
  if (!name) return;
  $("file-input").value = "";
  const example = await withProgress("loading example", () => api(`/ui/api/examples/${name}`, { method: "GET" }));
  if (example) { state.inputs = example.inputs; enableRecordingButtons(); await analyze(); }
}

async function chooseFile() {
  const file = $("file-input").files[0];
  if (!file) return;
  $("example-select").value = "";
  try { state.inputs = await inputsFromFile(file); } catch (error) { showError(error.message); return; }
  enableRecordingButtons();
  await analyze();
}

function enableRecordingButtons() { $("analyze-button").disabled = $("report-button").disabled = !state.inputs; }

// ---- analysis ----------------------------------------------------------------------------------
async function analyze() {
  const answer = await withProgress("analysing", () => api("/ui/api/analyze", { body: { inputs: { ...state.inputs, task: "analyze" } } }));
  if (!answer) { $("results").hidden = true; return; }  // no stale results under a new file's error
  state.analysis = answer;
  showAnalysis(answer);
}

// Numbers as the server rounded them (so the page shows what the API answers), unless digits are asked for.
function fmt(value, digits) {
  if (value === null || value === undefined) return "—";
  return typeof value === "number" && digits !== undefined ? value.toFixed(digits) : String(value);
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows, columns) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const item of rows) {
    const row = body.insertRow();
    for (const [get, className] of columns) cell(row, get(item), typeof className === "function" ? className(item) : className);
  }
}

function showAnalysis({ result, display, measurement_table: table }) {
  $("results").hidden = false;
  showDemo(result);
  const analysis = result.clinical_analysis || {};
  const urgent = analysis.urgent_findings || [];
  $("urgent").hidden = urgent.length === 0;
  $("urgent-list").textContent = urgent.map((u) => (typeof u === "string" ? u
    : `${u.finding}${u.leads && u.leads.length ? ` (leads ${u.leads.join(", ")})` : ""}`)).join("; ");
  $("urgent").title = urgent.map((u) => u.criterion || "").join("\n");
  const rec = result.recording || {};
  $("recording-description").textContent = `${rec.format ? rec.format + ", " : ""}${rec.n_leads} leads, ${fmt(rec.fs)} Hz, ${fmt(rec.duration_s, 1)} s` +
    (display.derived.length ? `; derived: ${display.derived.join(", ")}` : "") + (display.missing.length ? `; not recorded: ${display.missing.join(", ")}` : "");

  const byKey = Object.fromEntries(table.map((row) => [row.key, row]));
  const summary = [["Rhythm", analysis.rhythm || "—", "rhythm"], ...["heart_rate", "pr_interval", "qrs_duration", "qt_interval", "qtc_bazett", "qrs_axis"]
    .map((key) => [byKey[key].label, `${fmt(byKey[key].value)} ${byKey[key].unit}`, key, byKey[key].flag])];
  $("summary").replaceChildren(...summary.map(([label, value, key, flag]) => {
    const box = document.createElement("div");
    box.dataset.key = key;
    box.className = flag ? "out-of-range" : "";
    box.innerHTML = `<span class="label"></span><span class="value"></span>`;
    box.querySelector(".label").textContent = label;
    box.querySelector(".value").textContent = value;
    return box;
  }));

  fill("measurements", table, [[(r) => r.label], [(r) => (r.value === null ? `— ${r.reason ? "(" + r.reason + ")" : ""}` : `${fmt(r.value)} ${r.unit}`), "num"],
    [(r) => (r.cart === null || r.cart === undefined ? "" : `${fmt(r.cart)} ${r.unit}`), "num"], [(r) => r.range],
    [(r) => FLAG_TEXT[r.flag] || "", (r) => (r.flag ? "flag" : "")]]);
  for (const [i, row] of [...$("measurements").tBodies[0].rows].entries()) row.dataset.key = table[i].key;
  $("analysis-notes").textContent = [voltageText(analysis.physiological_parameters || result.measurements || {}),
    ...(analysis.notes || []), result.ecgfm_status || ""].filter(Boolean).join("; ");

  const labels = [...(result.labels || [])].sort((a, b) => b.probability - a.probability);
  $("findings-basis").textContent = analysis.basis ? `(${analysis.basis})` : "";
  fill("findings", labels, [[(l) => l.name, (l) => (l.present ? "present" : "")], [(l) => l.probability.toFixed(2), "num"]]);
  for (const [i, row] of [...$("findings").tBodies[0].rows].entries()) {
    row.dataset.label = labels[i].name;
    const bar = document.createElement("span");
    bar.className = "bar"; bar.style.width = `${Math.round(labels[i].probability * 60)}px`;
    row.cells[1].prepend(bar);
  }
  $("abnormalities").replaceChildren(...(analysis.abnormalities || []).map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  const statements = result.cart_statements || [];
  $("cart-statements").textContent = statements.length ? `Cart's statements: ${statements.join("; ")}` : "";

  const quality = result.signal_quality || {};
  $("quality-grade").textContent = quality.grade ? `(${quality.grade})` : "";
  const measured = result.measurements || analysis.physiological_parameters || {};
  const leftOut = measured.leads_left_out || {};
  fill("quality", quality.leads || [], [[(l) => l.lead], [(l) => l.grade, (l) => `grade-${l.grade}`],
    [(l) => [...l.problems, ...(l.lead in leftOut ? ["left out of the measurements"] : [])].join(", ")]]);
  showLeadsLeftOut(leftOut, quality.leads || []);
  $("commentary").textContent = result.comment_text || `not available: ${result.commentary_status || "none"}${result.commentary_error ? " — " + result.commentary_error : ""}`;
  $("commentary").className = result.comment_text ? "" : "hint";

  showPerLead("per-lead", measured.per_lead);
  showPerLead("cart-per-lead", result.cart_lead_measurements);
  drawPaper();
  drawMedianBeat(result.median_beat);
}

// The leads the measurements left out (a flat or far noisier lead; measurements.leads_left_out): named under the
// quality table with the reason, and their quality rows marked, so nobody reads a number as coming from them.
function showLeadsLeftOut(leftOut, qualityLeads) {
  const entries = Object.entries(leftOut);
  $("leads-left-out").hidden = entries.length === 0;
  $("leads-left-out").textContent = entries.length
    ? `Left out of the measurements: ${entries.map(([lead, why]) => `${lead} (${why})`).join("; ")}` : "";
  for (const [i, row] of [...$("quality").tBodies[0].rows].entries()) {
    row.dataset.lead = qualityLeads[i].lead;
    if (qualityLeads[i].lead in leftOut) row.classList.add("left-out");
  }
}

function voltageText(measurements) {
  const v = measurements.voltage_criteria;
  if (!v) return "";
  const lvh = (flag) => (flag ? "LVH criterion met" : "below");
  const cornell = v.cornell_threshold_mv === null || v.cornell_threshold_mv === undefined ? "its threshold depends on sex, not given"
    : `threshold ${fmt(v.cornell_threshold_mv)} mV: ${lvh(v.cornell_lvh)}`;
  return `Voltage: Sokolow-Lyon ${fmt(v.sokolow_lyon_mv)} mV (${lvh(v.sokolow_lyon_lvh)}), Cornell ${fmt(v.cornell_mv)} mV (${cornell})`;
}

// measurement_table's flags (a QTc prolonged only for a man, sex not given, is "borderline")
const FLAG_TEXT = { high: "▲ high", low: "▼ low", borderline: "▲ borderline" };

function showDemo(result) {
  if (result.weights === "demo") {
    $("demo-banner").hidden = false;
    $("demo-notice").textContent = result.notice || "demo weights";
  }
}

// Per-lead numbers (ours: issue 13's measurements.per_lead; the cart's: whatever the file stores), one row per lead.
function showPerLead(tableId, perLead) {
  const block = $(`${tableId}-block`);
  const leads = Object.keys(perLead || {});
  const keys = [...new Set(leads.flatMap((lead) => Object.keys(perLead[lead] || {})))]
    .filter((key) => leads.some((lead) => typeof perLead[lead][key] === "number"));
  block.hidden = !keys.length;
  if (block.hidden) return;
  const head = $(tableId).tHead;
  head.replaceChildren();
  const headRow = head.insertRow();
  headRow.append(Object.assign(document.createElement("th"), { textContent: "lead" }));
  for (const key of keys) {
    const label = tableId === "per-lead" ? perLeadLabel(key) : key.replace(/_/g, " ");
    const th = Object.assign(document.createElement("th"), { textContent: label, title: key });
    th.dataset.key = key;
    headRow.append(th);
  }
  fill(tableId, leads, [[(lead) => lead], ...keys.map((key) => [(lead) => fmt(perLead[lead][key]),
    // ST deviation of 0.1 mV (1 mm) or more, the usual threshold, is highlighted in our own table (mV)
    (lead) => (/^st/i.test(key) && Math.abs(perLead[lead][key]) >= 0.1 && tableId === "per-lead" ? "num flag" : "num")])]);
  [...$(tableId).tBodies[0].rows].forEach((row, i) => { row.dataset.lead = leads[i]; });
}

// Our per-lead keys (wave_unit, e.g. r_prime_amplitude_mv) as a cart prints them: "R′ (mV)", "ST J+60 (mV)".
function perLeadLabel(key) {
  const units = { mv: "mV", ms: "ms", mv_ms: "mV·ms" };
  const unit = Object.keys(units).sort((a, b) => b.length - a.length).find((u) => key.endsWith(`_${u}`));
  const name = key.slice(0, unit ? -unit.length - 1 : undefined).replace(/_(amplitude|duration)$/, "")
    .replace(/_prime/, "′").replace(/^st_j60$/, "ST J+60").replace(/^st_j$/, "ST J").replace(/^qrs_area$/, "QRS area")
    .replace(/^[pqrst]′?$/, (wave) => wave.toUpperCase());
  return unit ? `${name} (${units[unit]})` : name;
}

// ---- ECG paper: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major lines --------------------------------
const LAYOUT = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];

function paperGrid(ctx, width, height, pxPerMm) {
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
  for (const [step, colour, lineWidth] of [[1, "#f7d4d4", 0.5], [5, "#e88c8c", 1]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = lineWidth; ctx.beginPath();
    for (let x = 0; x <= width; x += step * pxPerMm) { ctx.moveTo(x, 0); ctx.lineTo(x, height); }
    for (let y = 0; y <= height; y += step * pxPerMm) { ctx.moveTo(0, y); ctx.lineTo(width, y); }
    ctx.stroke();
  }
}

function trace(ctx, samples, fs, x0, baseline, pxPerMm, from = 0, to = samples.length) {
  ctx.beginPath();
  for (let i = from; i < to; i++) {
    const x = x0 + ((i - from) / fs) * 25 * pxPerMm, y = baseline - samples[i] * 10 * pxPerMm;
    if (i === from) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

function drawPaper() {
  if (!state.analysis) return;
  const { display } = state.analysis;
  const pxPerMm = 4 * state.zoom, marginMm = 10, rowMm = 40;
  const named = Object.fromEntries(display.lead_names.map((name, i) => [name, display.signal[i]]));
  const twelve = LAYOUT.every((row) => row.some((name) => named[name]));
  const rhythm = named.II ? "II" : display.lead_names[0];
  const rows = twelve ? [...LAYOUT.map((row) => row.map((name, column) => [name, column * 2.5, 2.5])), [[rhythm, 0, 10]]]
    : display.lead_names.map((name) => [[name, 0, 10]]);
  const canvas = $("ecg-canvas");
  canvas.width = (marginMm + 250 + 5) * pxPerMm;
  canvas.height = (rows.length * rowMm + 10) * pxPerMm;
  const ctx = canvas.getContext("2d");
  paperGrid(ctx, canvas.width, canvas.height, pxPerMm);
  ctx.lineWidth = Math.max(1, 0.3 * pxPerMm); ctx.strokeStyle = "#000"; ctx.fillStyle = "#000";
  ctx.font = `${3.5 * pxPerMm}px sans-serif`;
  rows.forEach((segments, r) => {
    const baseline = (5 + rowMm * (r + 0.5)) * pxPerMm;
    // 1 mV calibration pulse, 200 ms wide
    const c = 2 * pxPerMm;
    ctx.beginPath(); ctx.moveTo(c, baseline); ctx.lineTo(c + pxPerMm, baseline); ctx.lineTo(c + pxPerMm, baseline - 10 * pxPerMm);
    ctx.lineTo(c + 6 * pxPerMm, baseline - 10 * pxPerMm); ctx.lineTo(c + 6 * pxPerMm, baseline); ctx.lineTo(c + 7 * pxPerMm, baseline); ctx.stroke();
    for (const [name, startS, lengthS] of segments) {
      const x0 = (marginMm + startS * 25) * pxPerMm;
      ctx.fillText(name, x0 + pxPerMm, baseline - 12 * pxPerMm);
      const lead = named[name];
      if (!lead) continue;
      const from = Math.round(startS * display.fs), to = Math.min(lead.length, Math.round((startS + lengthS) * display.fs));
      trace(ctx, lead, display.fs, x0, baseline, pxPerMm, from, to);
      if (startS > 0) { ctx.beginPath(); ctx.moveTo(x0, baseline - 3 * pxPerMm); ctx.lineTo(x0, baseline + 3 * pxPerMm); ctx.stroke(); }
    }
  });
}

// The median beat with its fiducial points and the intervals between them.
function drawMedianBeat(median) {
  const canvas = $("median-canvas"), ctx = canvas.getContext("2d");
  if (!median) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    $("median-note").textContent = "The server did not return a median beat for this recording.";
    return;
  }
  const index = Math.max(0, median.lead_names.indexOf("II"));
  const lead = median.signal[index], fs = median.fs;
  const pxPerMm = canvas.width / ((lead.length / fs) * 25 + 4);
  paperGrid(ctx, canvas.width, canvas.height, pxPerMm);
  ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
  const baseline = canvas.height * 0.6, x0 = 2 * pxPerMm;
  trace(ctx, lead, fs, x0, baseline, pxPerMm);
  const f = median.fiducials_ms || {};
  const x = (ms) => x0 + (ms / 1000) * 25 * pxPerMm;
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#1446a0"; ctx.strokeStyle = "#1446a0"; ctx.lineWidth = 1;
  const fiducials = [["p_onset", "P on"], ["p_offset", "P off"], ["qrs_onset", "QRS on"], ["qrs_offset", "QRS off"], ["t_offset", "T end"]];
  fiducials.filter(([key]) => f[key] !== null && f[key] !== undefined).forEach(([key, label], i) => {
    const top = 14 + (i % 2) * 46;  // alternate heights: neighbouring points are often a few ms apart
    ctx.beginPath(); ctx.moveTo(x(f[key]), top); ctx.lineTo(x(f[key]), canvas.height - 40); ctx.stroke();
    ctx.save(); ctx.translate(x(f[key]) + 2, top); ctx.rotate(Math.PI / 2); ctx.fillText(label, 0, 0); ctx.restore();
  });
  const intervals = [["PR", "p_onset", "qrs_onset"], ["QRS", "qrs_onset", "qrs_offset"], ["QT", "qrs_onset", "t_offset"]]
    .filter(([, a, b]) => f[a] != null && f[b] != null);
  intervals.forEach(([name, a, b], i) => {
    const y = canvas.height - 30 + i * 11;
    ctx.beginPath(); ctx.moveTo(x(f[a]), y); ctx.lineTo(x(f[b]), y); ctx.stroke();
    ctx.fillText(`${name} ${Math.round(f[b] - f[a])} ms`, x(f[b]) + 3, y + 4);
  });
  $("median-note").textContent = `lead ${median.lead_names[index]}; fiducials from the measurement code`;
}

// ---- beat anomalies ------------------------------------------------------------------------------
async function loadBeatModels() {
  const answer = await api("/", { body: { inputs: { task: "list_models" } } }).catch(() => null);
  const select = $("beat-model");
  select.querySelectorAll("option[data-model]").forEach((o) => o.remove());
  for (const model of (answer && answer[0].models) || []) {
    if (model.feature_set !== "beats") continue;
    const option = Object.assign(document.createElement("option"), { value: model.id, textContent: `${model.id} (${model.model_type})` });
    option.dataset.model = "1";
    select.append(option);
  }
}

async function findBeats() {
  const files = [...$("wfdb-input").files];
  const body = { model_id: $("beat-model").value || null, train_minutes: Number($("train-minutes").value), contamination: Number($("contamination").value) };
  if (files.length) {
    body.wfdb_files = {};
    for (const file of files) { const uri = await readFile(file, false); body.wfdb_files[file.name] = uri.slice(uri.indexOf(",") + 1); }
  } else if (state.inputs) {
    body.inputs = state.inputs;
  } else { showError("choose a WFDB record (.hea, .dat, .atr) or an ECG above first"); return; }
  const view = await withProgress("scoring beats", () => api("/ui/api/beats", { body }));
  if (!view) return;
  state.beats = view;
  $("beat-result").hidden = false;
  const flagged = view.beats.filter((b) => b.anomaly).length;
  $("beat-summary").textContent = `${view.beats.length} beats scored by ${view.model_id} (${view.model_type}` +
    (view.fitted ? `, fit on the first ${fmt(view.train_until_s / 60, 1)} min: ${view.fitted.rows} beats` : "") + `); ${flagged} flagged` +
    (view.annotated_abnormal.length ? `; ${view.annotated_abnormal.length} beats annotated abnormal` : "; no beat annotations");
  const metrics = view.evaluation;
  $("beat-metrics").hidden = !metrics;
  if (metrics) {
    const rows = [["precision", metrics.precision.toFixed(2)], ["recall", metrics.recall.toFixed(2)], ["F1", metrics.f1.toFixed(2)],
      ["beats compared", `${metrics.matched} (from ${fmt(metrics.from_s / 60, 1)} min; ${metrics.abnormal} annotated abnormal, ${metrics.flagged_abnormal} of them flagged)`]];
    fill("beat-metrics", rows, [[(r) => r[0]], [(r) => r[1], "num"]]);
    [...$("beat-metrics").tBodies[0].rows].forEach((row, i) => { row.dataset.metric = rows[i][0]; });
  }
  $("beat-window").max = Math.max(0, Math.floor(view.duration_s - 10));
  const first = view.beats.find((b) => b.anomaly && b.time_s >= (view.train_until_s || 0)) || view.beats.find((b) => b.anomaly);
  $("beat-window").value = first ? Math.max(0, Math.floor(first.time_s - 3)) : 0;
  drawBeats();
  if (view.fitted) await loadBeatModels();  // the model just fit can be picked next time
}

function nextFlagged() {
  if (!state.beats) return;
  const from = Number($("beat-window").value) + 7;
  const next = state.beats.beats.find((b) => b.anomaly && b.time_s > from) || state.beats.beats.find((b) => b.anomaly);
  if (next) { $("beat-window").value = Math.max(0, Math.floor(next.time_s - 3)); drawBeats(); }
}

function drawBeats() {
  const view = state.beats;
  const start = Number($("beat-window").value), length = 10, pxPerMm = 4 * state.zoom;
  $("beat-window-label").textContent = `${start}–${start + length} s of ${fmt(view.duration_s)} s (lead ${view.lead})`;
  const canvas = $("beat-canvas");
  canvas.width = (250 + 10) * pxPerMm; canvas.height = 45 * pxPerMm;
  const ctx = canvas.getContext("2d");
  paperGrid(ctx, canvas.width, canvas.height, pxPerMm);
  const x0 = 5 * pxPerMm, baseline = 25 * pxPerMm;
  ctx.strokeStyle = "#000"; ctx.lineWidth = Math.max(1, 0.3 * pxPerMm);
  const from = Math.round(start * view.fs), to = Math.min(view.signal.length, Math.round((start + length) * view.fs));
  trace(ctx, view.signal, view.fs, x0, baseline, pxPerMm, from, to);
  const x = (t) => x0 + (t - start) * 25 * pxPerMm;
  ctx.font = `${3 * pxPerMm}px sans-serif`;
  for (const beat of view.beats) {
    if (!beat.anomaly || beat.time_s < start || beat.time_s > start + length) continue;
    const bx = x(beat.time_s);  // a band over the flagged beat and a triangle above it
    ctx.fillStyle = "rgba(220, 0, 0, 0.12)"; ctx.fillRect(bx - 0.25 * 25 * pxPerMm, 0, 0.5 * 25 * pxPerMm, canvas.height);
    ctx.fillStyle = "#d00000"; ctx.beginPath();
    ctx.moveTo(bx - 2 * pxPerMm, 1 * pxPerMm); ctx.lineTo(bx + 2 * pxPerMm, 1 * pxPerMm); ctx.lineTo(bx, 5 * pxPerMm); ctx.fill();
  }
  ctx.font = `bold ${4 * pxPerMm}px sans-serif`; ctx.fillStyle = "#1446a0";
  for (const beat of view.annotated_abnormal) {
    if (beat.time_s < start || beat.time_s > start + length) continue;
    ctx.fillText(beat.symbol, x(beat.time_s) - 1.3 * pxPerMm, 43.5 * pxPerMm);
  }
  if (view.train_until_s && view.train_until_s > start && view.train_until_s < start + length) {
    ctx.strokeStyle = "#1446a0"; ctx.setLineDash([4, 4]); ctx.beginPath();
    ctx.moveTo(x(view.train_until_s), 0); ctx.lineTo(x(view.train_until_s), canvas.height); ctx.stroke(); ctx.setLineDash([]);
  }
}

// ---- PULSE-7B conversation -----------------------------------------------------------------------
async function askPulse() {
  const query = $("pulse-query").value.trim();
  if (!query) { showError("write a question for PULSE-7B"); return; }
  const file = $("pulse-image").files[0];
  if (file && !state.pulseImage) state.pulseImage = await readFile(file, false);
  const inputs = { query, history: state.history };
  if (state.pulseImage) inputs.image = state.pulseImage;
  else if (state.inputs && state.inputs.signal) Object.assign(inputs, { signal: state.inputs.signal, fs: state.inputs.fs, lead_names: state.inputs.lead_names, units: state.inputs.units });
  else { showError("choose an ECG image (or a signal above) for PULSE-7B"); return; }
  const answer = await withProgress("PULSE-7B is generating", () => api("/", { body: { inputs } }));
  if (!answer) return;
  const result = answer[0];
  showDemo(result);
  if (!result.success) { showError(result.error || "PULSE-7B did not answer"); return; }
  state.history = [...state.history, { role: "user", content: query }, { role: "assistant", content: result.generated_text }];
  renderConversation();
  $("pulse-query").value = "";
}

function renderConversation() {
  $("conversation").replaceChildren(...state.history.map((turn) => Object.assign(document.createElement("p"), { className: `turn ${turn.role}`, textContent: turn.content })));
}

function resetConversation() { state.history = []; state.pulseImage = null; $("pulse-image").value = ""; renderConversation(); }

// ---- report ----------------------------------------------------------------------------------------
async function downloadReport() {
  const response = await withProgress("writing the report", () => api("/report", { body: { inputs: { ...state.inputs, task: "analyze" } }, raw: true }));
  if (!response) return;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: "ecg-report.pdf" });
  document.body.append(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- start -------------------------------------------------------------------------------------------
async function start() {
  $("token-button").addEventListener("click", () => askToken("Bearer token for this server:"));
  $("file-input").addEventListener("change", chooseFile);
  $("example-select").addEventListener("change", chooseExample);
  $("analyze-button").addEventListener("click", analyze);
  $("report-button").addEventListener("click", downloadReport);
  $("zoom").addEventListener("change", () => { state.zoom = Number($("zoom").value); drawPaper(); if (state.beats) drawBeats(); });
  $("beats-button").addEventListener("click", findBeats);
  $("beat-window").addEventListener("input", drawBeats);
  $("beat-next").addEventListener("click", nextFlagged);
  $("pulse-button").addEventListener("click", askPulse);
  $("pulse-reset").addEventListener("click", resetConversation);
  try {
    await loadExamples();  // the first API call: asks for the token when the server needs one
    const status = await health();
    $("server-status").textContent = `server ${status.status}${status.demo ? " (demo weights)" : ""}`;
    if (status.demo) { $("demo-banner").hidden = false; }
    await loadBeatModels();
    $("server-status").dataset.ready = "1";
  } catch (error) {
    showError(error.message);
  }
}

start();
