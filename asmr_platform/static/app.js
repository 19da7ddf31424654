// The page of `python -m asmr_platform`: plain DOM calls on the JSON API, no framework and nothing
// fetched from elsewhere. Text from the catalogue is inserted as text nodes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { config: null, offset: 0, total: 0, selected: null, a: null, b: null, upload: null, recorder: null };
// audioprep.quality's flags; a short or silent recording's confidence is no evidence of a trigger
const FLAGS = { short: "too short", silent: "silent", truncated: "cut short" };
const NO_EVIDENCE = ["short", "silent"];
const NO_EVIDENCE_NOTE = "too short or silent: the model's confidence here is no evidence of a trigger";
// verdicts rather than triggers (config.none_of_these: "other", "unsure", "silent"): grey, never a trigger colour
const VERDICT_GREY = "#b4b0ba", SILENT_GREY = "#dedbe2";
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

async function api(url, options = {}) {
  const response = await fetch(url, options);
  const json = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((json && json.detail) || `${response.status} ${response.statusText}`);  // one line
  return json;
}

const postJson = (url, body) => api(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - 60 * m).toFixed(1).padStart(4, "0")}`;
}

function isVerdict(label) {
  return state.config.none_of_these.includes(label);
}

function triggers() {
  return state.config.labels.filter((label) => !isVerdict(label));
}

function colour(label) {
  if (isVerdict(label)) return label === "silent" ? SILENT_GREY : VERDICT_GREY;
  const i = triggers().indexOf(label);
  return PALETTE[(i < 0 ? triggers().length : i) % PALETTE.length];
}

function verdictNote(label) {
  return label === "silent" ? "silent: digital silence, no trigger (confidence 0)"
    : `${label}: none of these; the model's top probability is under its abstain threshold, so no trigger`;
}

// a label as the page says it: a verdict says it is none of the triggers
function labelText(label, confidence) {
  if (label === "silent") return "silent";
  return isVerdict(label) ? `${label} (none of these, top p ${confidence.toFixed(3)})` : `${label} (${confidence.toFixed(3)})`;
}

function tagText(tags, top = 3) {  // AudioSet names hold commas: tags are joined by semicolons, as `predict` prints them
  return tags.slice(0, top).map((t) => `${t.label} ${t.score.toFixed(2)}`).join("; ");
}

function noEvidence(flags) {
  return flags.some((f) => NO_EVIDENCE.includes(f));
}

function badges(flags) {
  return flags.map((f) => el("span", { class: NO_EVIDENCE.includes(f) ? "flag no-evidence" : "flag",
    title: NO_EVIDENCE.includes(f) ? NO_EVIDENCE_NOTE : "the file stops before its header's end" }, FLAGS[f] || f));
}

function say(id, text, error = false) {
  $(id).textContent = text;
  $(id).className = error ? "error" : "";
}

// ---------------------------------------------------------------- Find

function filterParams(offset) {
  const params = new URLSearchParams();
  for (const box of document.querySelectorAll("#labels input:checked")) params.append("label", box.value);
  if ($("q").value.trim()) params.set("q", $("q").value.trim());
  params.set("min_confidence", $("min-confidence").value || "0");
  params.set("min_length", $("min-length").value || "0");
  if ($("recording").value) params.set("recording", $("recording").value);
  params.set("sort", $("sort").value);
  params.set("offset", offset);
  params.set("limit", state.config.limits.page_size);
  return params;
}

function segmentRow(seg, extra) {
  const kinds = [noEvidence(seg.flags) ? "flagged" : "", isVerdict(seg.label) ? "verdict" : ""].filter(Boolean);
  const row = el("tr", { "data-id": seg.id, onclick: () => select(seg, row), class: kinds.join(" ") },
    el("td", { title: `labelled by ${seg.model}` }, seg.recording), el("td", {}, `${clock(seg.start)} – ${clock(seg.end)}`),
    el("td", isVerdict(seg.label) ? { title: verdictNote(seg.label) } : {},
      el("span", { class: "swatch", style: `background:${colour(seg.label)}` }), seg.label),
    el("td", {}, el("span", { class: "confidence" }, seg.confidence.toFixed(3)), ...badges(seg.flags)),
    el("td", { class: "tags", title: tagText(seg.tags, seg.tags.length) }, tagText(seg.tags)));
  if (extra !== undefined) row.append(el("td", {}, extra));
  return row;
}

async function search(offset = 0) {
  try {
    const page = await api(`/api/segments?${filterParams(offset)}`);
    state.offset = page.offset;
    state.total = page.total;
    $("segments").tBodies[0].replaceChildren(...page.rows.map((seg) => segmentRow(seg)));
    const last = Math.min(page.offset + page.rows.length, page.total);
    say("count", page.total ? `segments ${page.offset + 1}–${last} of ${page.total}` : "no segment matches");
    $("prev").disabled = page.offset === 0;
    $("next").disabled = last >= page.total;
  } catch (err) {
    say("count", err.message, true);
  }
}

// ---------------------------------------------------------------- Listen

function select(seg, row) {
  state.selected = seg;
  for (const chosen of document.querySelectorAll("tr.chosen")) chosen.classList.remove("chosen");
  if (row) row.classList.add("chosen");
  $("selected").textContent = `${seg.recording}, ${clock(seg.start)} – ${clock(seg.end)}: ${labelText(seg.label, seg.confidence)}` +
    (noEvidence(seg.flags) ? `; ${NO_EVIDENCE_NOTE}` : "") + (seg.tags.length ? `; AudioSet: ${tagText(seg.tags)}` : "") +
    `; labelled by ${seg.model}`;
  const player = $("player");
  player.src = `/api/segments/${seg.id}/audio`;
  player.play().catch(() => {});  // a browser may want a click first; the controls are there
  $("mel").src = `/api/segments/${seg.id}/mel.png`;
  $("mel").alt = `mel spectrogram of ${seg.recording} ${clock(seg.start)}`;
  $("mel").hidden = false;
  for (const id of ["similar-btn", "set-a", "set-b", "vary"]) $(id).disabled = false;
  $("similar").tBodies[0].replaceChildren();
  say("similar-note", "");
  drawConfidence(seg.id);
}

async function drawConfidence(id) {
  const data = await api(`/api/segments/${id}/confidence`);
  const canvas = $("confidence");
  canvas.hidden = false;
  const g = canvas.getContext("2d");
  const [w, h, left, bottom] = [canvas.width, canvas.height, 34, 18];
  g.clearRect(0, 0, w, h);
  const t0 = data.times[0], t1 = data.times.at(-1) || t0 + 1;
  const x = (t) => left + ((t - t0) / Math.max(t1 - t0, 1e-6)) * (w - left - 6);
  const y = (p) => 6 + (1 - p) * (h - bottom - 6);
  g.fillStyle = "#e2dbf5";
  g.fillRect(x(data.start), 6, Math.max(x(data.end) - x(data.start), 2), h - bottom - 6);
  data.times.forEach((t, i) => {  // each window's top label as a strip along the bottom
    g.fillStyle = colour(data.top[i]);
    g.fillRect(x(t) - 1, h - bottom + 2, Math.max((w - left) / data.times.length, 2), 5);
  });
  if (data.abstain) {  // the recording's abstain threshold: a window's top probability under it is a verdict
    g.strokeStyle = VERDICT_GREY;
    g.setLineDash([4, 3]);
    g.beginPath();
    g.moveTo(left, y(data.abstain));
    g.lineTo(w - 6, y(data.abstain));
    g.stroke();
    g.setLineDash([]);
  }
  g.strokeStyle = isVerdict(data.label) ? "#77727d" : colour(data.label);
  g.lineWidth = 2;
  g.beginPath();
  data.times.forEach((t, i) => (i ? g.lineTo(x(t), y(data.confidence[i])) : g.moveTo(x(t), y(data.confidence[i]))));
  g.stroke();
  g.fillStyle = "#444";
  g.font = "10px sans-serif";
  g.fillText("1", 20, y(1) + 8);
  g.fillText("0", 20, y(0));
  const threshold = data.abstain ? `; dashed: abstain threshold ${data.abstain.toFixed(2)}` : "";
  g.fillText(`${data.measure} per window, ${clock(t0)} – ${clock(t1)}; strip: each window's verdict${threshold}`, left, h - 2);
}

async function similar() {
  const seg = state.selected;
  try {
    const found = await api(`/api/segments/${seg.id}/similar`);
    $("similar").tBodies[0].replaceChildren(...found.rows.map((s) => segmentRow(s, `cos ${s.similarity.toFixed(3)}`)));
    say("similar-note", found.rows.length ? `nearest segments of other recordings to ${seg.recording} ${clock(seg.start)}` : "no other recording has embeddings");
  } catch (err) {
    say("similar-note", err.message, true);
  }
}

// ---------------------------------------------------------------- Generate

function showResults(title, results) {
  const cards = results.map((r) => el("div", { class: "result" },
    el("h3", {}, r.name),
    el("audio", { controls: "", preload: "metadata", src: r.audio }),
    el("img", { src: r.mel, alt: `mel spectrogram of ${r.name}` }),
    el("p", {}, r.verdict ? `classifier: ${labelText(r.verdict.label, r.verdict.confidence)}` : state.config.missing.verdict),
    el("p", { class: "tags" }, r.verdict && r.verdict.tags.length ? `AudioSet: ${tagText(r.verdict.tags)}` : ""),
    el("a", { href: `${r.audio}?download=1`, download: `${r.name}.wav` }, "download wav")));
  $("results").replaceChildren(...cards);
  say("gen-status", title);
}

async function generate(what, url, body) {
  say("gen-status", `${what}…`);
  try {
    const out = await postJson(url, body);
    showResults(what, out.results);
  } catch (err) {
    say("gen-status", err.message, true);
  }
}

function setBlend(which) {
  state[which] = state.selected;
  $(`blend-${which}`).textContent = `${state.selected.recording} ${clock(state.selected.start)}`;
  $("blend").disabled = !(state.a && state.b);
}

// ---------------------------------------------------------------- Add

function drawTimeline(upload) {
  const canvas = $("timeline");
  canvas.hidden = false;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const scale = canvas.width / Math.max(upload.duration, 1e-6);
  for (const s of upload.segments) {
    g.fillStyle = colour(s.label);
    g.globalAlpha = 0.35 + 0.65 * s.confidence;
    g.fillRect(s.start * scale, 0, Math.max((s.end - s.start) * scale, 1), 28);
  }
  g.globalAlpha = 1;
  g.fillStyle = "#444";
  g.font = "10px sans-serif";
  const labels = [...new Set(upload.segments.map((s) => s.label))];
  g.fillText(`0:00.0 – ${clock(upload.duration)}; ${labels.join(", ")}`, 2, 42);
}

async function sendUpload(file, name) {
  if (file.size > state.config.limits.upload_max_bytes) {
    say("add-status", `${name}: larger than the upload limit`, true);
    return;
  }
  say("add-status", `classifying ${name}…`);
  $("add-btn").hidden = true;
  try {
    const upload = await api(`/api/uploads?name=${encodeURIComponent(name)}`, { method: "POST", body: file });
    state.upload = upload;
    const top = Object.entries(upload.probabilities).sort((p, q) => q[1] - p[1]).slice(0, 3);
    const verdict = (noEvidence(upload.flags) ? `no trigger label (${NO_EVIDENCE_NOTE})`
      : `${labelText(upload.label, upload.confidence)}; ` + top.map(([c, p]) => `${c} ${p.toFixed(2)}`).join(", ")) +
      (upload.tags.length ? `; AudioSet: ${tagText(upload.tags)}` : "");
    say("add-status", `${upload.name} (${clock(upload.duration)}): ${verdict}; ${upload.segments.length} segments` +
      `; labelled by ${upload.model}` + upload.warnings.map((w) => `; warning: ${w}`).join(""));
    drawTimeline(upload);
    $("add-btn").hidden = false;
  } catch (err) {
    say("add-status", err.message, true);
  }
}

async function addUpload() {
  try {
    const added = await api(`/api/uploads/${state.upload.id}/catalogue`, { method: "POST" });
    $("add-btn").hidden = true;
    say("add-status", `${added.name}: ${added.status} to the catalogue, labelled by ${added.model}`);
    await loadConfig();
    $("recording").value = added.recording_id;
    search(0);
  } catch (err) {
    say("add-status", err.message, true);
  }
}

function wavFile(buffer) {  // an AudioBuffer as a mono 16-bit wav, a format every reader here decodes
  const samples = buffer.getChannelData(0);
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * samples.length, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, buffer.sampleRate, true); view.setUint32(28, 2 * buffer.sampleRate, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * samples.length, true);
  samples.forEach((v, i) => view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, v)) * 32767, true));
  return new Blob([view], { type: "audio/wav" });
}

async function toggleRecording() {
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    state.recorder = new MediaRecorder(stream);
    state.recorder.ondataavailable = (e) => chunks.push(e.data);
    state.recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      state.recorder = null;
      $("record").textContent = "Record from the microphone";
      // the browser records webm/ogg; decode it here and send a wav
      const audio = await new AudioContext().decodeAudioData(await new Blob(chunks).arrayBuffer());
      const name = `microphone-${new Date().toISOString().replace(/[:.]/g, "-")}.wav`;
      sendUpload(wavFile(audio), name);
    };
    state.recorder.start();
    $("record").textContent = "Stop recording";
    say("add-status", "recording…");
  } catch (err) {
    say("add-status", `microphone: ${err.message}`, true);
  }
}

// ---------------------------------------------------------------- set-up

function hideUnless(tools, note, reason) {
  $(tools).hidden = Boolean(reason);
  $(note).textContent = reason || "";
}

async function loadConfig() {
  const config = await api("/api/config");
  state.config = config;
  $("catalogue").textContent = config.catalogue;
  $("labelled-by").textContent = config.models.length ? "labelled by " + config.models.map((m) =>
    `${m.name} (${m.recordings} recording${m.recordings === 1 ? "" : "s"}` +
    (m.abstain ? `; ${m.abstain_label} under p ${m.abstain.toFixed(2)})` : ")")).join(", ") : "";
  const ticked = new Set([...document.querySelectorAll("#labels input:checked")].map((b) => b.value));
  const box = (label) => el("label", isVerdict(label) ? { class: "verdict", title: verdictNote(label) } : {},
    Object.assign(el("input", { type: "checkbox", value: label }), { checked: ticked.has(label) }),
    el("span", { class: "swatch", style: `background:${colour(label)}` }), label);
  $("labels").replaceChildren($("labels").firstElementChild, ...triggers().map(box),
    ...config.labels.filter(isVerdict).map(box));
  const chosen = $("recording").value;
  $("recording").replaceChildren(el("option", { value: "" }, "all"),
    ...config.recordings.map((r) => el("option", { value: r.id, title: `labelled by ${r.model}` },  // several models: named
      `${r.name} (${[clock(r.duration), ...r.flags.map((f) => FLAGS[f] || f), ...(config.models.length > 1 ? [r.model] : [])].join(", ")})`)));
  $("recording").value = chosen;
  const reasons = Object.values(config.missing).filter(Boolean);
  $("notes").replaceChildren(...[...new Set(reasons)].map((r) => el("li", {}, r)));
  hideUnless("vae-tools", "vae-note", config.missing.vary);
  hideUnless("cgan-tools", "cgan-note", config.missing.sample);
  $("add-note").textContent = `uploads are labelled by ${config.labeller}`;
  $("similar-btn").hidden = Boolean(config.missing.similar);
  $("vary-n").max = config.limits.max_variations;
  $("sample-n").max = config.limits.max_samples;
  $("sample-label").replaceChildren(...config.cgan_labels.map((l) => el("option", { value: l }, l)));
  $("sample-with").replaceChildren(el("option", { value: "" }, "(none)"), ...config.cgan_labels.map((l) => el("option", { value: l }, l)));
  if (!window.MediaRecorder) $("record").hidden = true;
}

async function start() {
  await loadConfig();
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); search(0); });
  $("prev").onclick = () => search(Math.max(0, state.offset - state.config.limits.page_size));
  $("next").onclick = () => search(state.offset + state.config.limits.page_size);
  $("similar-btn").onclick = similar;
  $("set-a").onclick = () => setBlend("a");
  $("set-b").onclick = () => setBlend("b");
  $("alpha").oninput = () => { $("alpha-out").textContent = Number($("alpha").value).toFixed(2); };
  $("vary").onclick = () => generate(`${$("vary-n").value} variations of ${state.selected.recording} ${clock(state.selected.start)}`,
    "/api/generate/vary", { segment: state.selected.id, n: Number($("vary-n").value) });
  $("blend").onclick = () => generate(`blend at α = ${Number($("alpha").value).toFixed(2)}`, "/api/generate/blend",
    { a: state.a.id, b: state.b.id, alpha: Number($("alpha").value) });
  $("sample").onclick = () => generate(`samples of ${$("sample-label").value}${$("sample-with").value ? ` + ${$("sample-with").value}` : ""}`,
    "/api/generate/sample", { label: $("sample-label").value, blend_with: $("sample-with").value || null, n: Number($("sample-n").value) });
  $("upload").onclick = () => {
    const file = $("file").files[0];
    if (file) sendUpload(file, file.name);
    else say("add-status", "choose a file first", true);
  };
  $("record").onclick = toggleRecording;
  $("add-btn").onclick = addUpload;
  search(0);
}

start().catch((err) => say("count", err.message, true));
