// stream-nst's page: camera frames to the server over a WebSocket, stylized frames back.
// Frame messages: "F" | id uint32 LE | client ms float64 LE [| server ms float32 LE] | JPEG.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token");
const auth = token ? `token=${encodeURIComponent(token)}` : "";
const withAuth = (path, query = "") => {
  const parts = [query, auth].filter(Boolean).join("&");
  return parts ? `${path}?${parts}` : path;
};
const $ = (id) => document.getElementById(id);
const IN_FLIGHT = 2;        // frames sent and not answered yet
const JPEG_QUALITY = 0.85;
const MAX_WIDTH = 1280;     // frames wider than this are scaled down before sending

// What tests and benchmarks read: counts, recent latencies, the last frame pair.
const stats = { sent: 0, shown: 0, dropped: 0, fps: 0, latencies: [], serverMs: [], errors: [] };
const kept = new Map();     // id -> the JPEG sent, for the last few ids
const page = { stats, state: null, ready: false, lastPair: null, send: null };
window.streamNst = page;

const canvas = $("out");
const context = canvas.getContext("2d");
const grab = document.createElement("canvas");
const grabContext = grab.getContext("2d");
const video = $("camera-video");
let ws = null;
let camera = null;
let nextId = 1;
let inFlight = 0;
let freshFrames = 0;
let shownTimes = [];
let maxFps = 0;             // 0: no cap on the frames sent
let lastSent = 0;

if (params.get("view") === "bare") document.body.classList.add("bare");

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", isError);
  if (isError) stats.errors.push(text);
}

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
page.send = send;

async function loadStyles(selected) {
  const response = await fetch(withAuth("api/styles"));
  const styles = await response.json();
  const select = $("style");
  select.replaceChildren(
    ...styles.map((s) => new Option(s.uploaded ? `${s.name} (uploaded)` : s.name, s.name))
  );
  select.dataset.credits = JSON.stringify(
    Object.fromEntries(styles.map((s) => [s.name, [s.title, s.artist, s.licence]]))
  );
  if (selected) select.value = selected;
  showCredit();
  return styles;
}

function showCredit() {
  const credits = JSON.parse($("style").dataset.credits || "{}");
  const [title, artist, licence] = credits[$("style").value] || [];
  $("credit").textContent = title ? `${title}, ${artist}${licence ? ` (${licence})` : ""}` : "";
}

function applyState(state) {
  page.state = state;
  $("style").value = state.style;
  showCredit();
  $("strength").value = state.strength;
  $("strength-value").textContent = Number(state.strength).toFixed(2);
  $("smooth").checked = state.smooth;
  $("record").textContent = state.recording ? "Stop recording" : "Start recording";
  $("source").value = state.mode;
  $("source").querySelector('[value="server"]').disabled = !state.server_input;
}

async function onFrame(buffer) {
  const view = new DataView(buffer);
  const id = view.getUint32(1, true);
  const clientMs = view.getFloat64(5, true);
  stats.serverMs.push(view.getFloat32(13, true));
  if (stats.serverMs.length > 600) stats.serverMs.shift();
  const jpeg = new Blob([buffer.slice(17)], { type: "image/jpeg" });
  inFlight = Math.max(0, inFlight - 1);
  pump();
  const bitmap = await createImageBitmap(jpeg);
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  $("placeholder").hidden = true;
  const now = performance.now();
  stats.shown += 1;
  if (clientMs > 0) {
    stats.latencies.push(now - clientMs);
    if (stats.latencies.length > 600) stats.latencies.shift();
    $("latency").textContent = `${Math.round(now - clientMs)} ms`;
  }
  shownTimes.push(now);
  shownTimes = shownTimes.filter((t) => now - t <= 2000);
  if (shownTimes.length > 1) {
    stats.fps = (shownTimes.length - 1) / ((now - shownTimes[0]) / 1000);
    $("fps").textContent = `${stats.fps.toFixed(1)} fps`;
  }
  if (kept.has(id)) page.lastPair = { id, sent: kept.get(id), received: jpeg };
}

function onMessage(event) {
  if (typeof event.data !== "string") {
    onFrame(event.data);
    return;
  }
  const message = JSON.parse(event.data);
  if (message.type === "state") {
    applyState(message);
    page.ready = true;
  } else if (message.type === "dropped") {
    stats.dropped += 1;
    inFlight = Math.max(0, inFlight - 1);
    pump();
  } else if (message.type === "error") {
    say(message.message, true);
  } else if (message.type === "saved") {
    const item = document.createElement("li");
    const link = Object.assign(document.createElement("a"), {
      href: message.url, textContent: message.name, download: message.name,
    });
    item.append(`${message.kind}: `, link);
    $("files").prepend(item);
    say(`saved ${message.name}`);
  }
}

function connect() {
  const url = new URL(withAuth("ws"), location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onmessage = onMessage;
  ws.onopen = () => {
    inFlight = 0;
    if (params.get("source") === "server") send({ type: "source", mode: "server" });
  };
  ws.onclose = (event) => {
    page.ready = false;
    say(`disconnected${event.reason ? `: ${event.reason}` : ""}`, true);
  };
}

// -- this browser's camera --------------------------------------------------------------
async function startCamera() {
  if (!navigator.mediaDevices) {
    throw new Error("browsers give a page a camera only on localhost or over HTTPS");
  }
  camera = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
  });
  video.srcObject = camera;
  await video.play();
  $("camera").textContent = "Stop camera";
  send({ type: "source", mode: "browser" });
  const tick = () => {
    if (!camera) return;
    freshFrames += 1;
    pump();
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

function stopCamera() {
  if (camera) camera.getTracks().forEach((track) => track.stop());
  camera = null;
  video.srcObject = null;
  $("camera").textContent = "Start camera";
}

function pump() {
  while (camera && freshFrames > 0 && inFlight < IN_FLIGHT && ws.readyState === WebSocket.OPEN) {
    if (maxFps && performance.now() - lastSent < 1000 / maxFps) return;  // the next tick asks again
    freshFrames = 0;
    lastSent = performance.now();
    sendFrame();
  }
}

function sendFrame() {
  const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grabContext.drawImage(video, 0, 0, grab.width, grab.height);
  const taken = performance.now();
  const id = nextId++;
  inFlight += 1;
  grab.toBlob((jpeg) => {
    const header = new DataView(new ArrayBuffer(13));
    header.setUint8(0, 0x46);
    header.setUint32(1, id, true);
    header.setFloat64(5, taken, true);
    kept.set(id, jpeg);
    for (const old of kept.keys()) if (kept.size > 8) kept.delete(old);
    if (ws.readyState === WebSocket.OPEN) ws.send(new Blob([header.buffer, jpeg]));
    stats.sent += 1;
  }, "image/jpeg", JPEG_QUALITY);
}

// -- controls ---------------------------------------------------------------------------
$("camera").onclick = () => (camera ? stopCamera() : startCamera().catch((e) => say(`camera: ${e.message}`, true)));
$("source").onchange = () => {
  if ($("source").value === "server") stopCamera();
  send({ type: "source", mode: $("source").value });
};
$("style").onchange = () => send({ type: "set", style: $("style").value });
$("strength").oninput = () => {
  $("strength-value").textContent = Number($("strength").value).toFixed(2);
  send({ type: "set", strength: Number($("strength").value) });
};
$("smooth").onchange = () => send({ type: "set", smooth: $("smooth").checked });
$("max-fps").onchange = () => { maxFps = Number($("max-fps").value); };
$("snapshot").onclick = () => send({ type: "snapshot" });
$("record").onclick = () => send({ type: "record", on: !(page.state && page.state.recording) });
$("upload").onsubmit = async (event) => {
  event.preventDefault();
  const file = $("upload-file").files[0];
  const name = $("upload-name").value;
  if (!file || !name) return say("choose a file and a name", true);
  const response = await fetch(withAuth("api/styles", `name=${encodeURIComponent(name)}`), {
    method: "POST", body: file,
  });
  if (!response.ok) return say(await response.text(), true);
  await loadStyles(page.state && page.state.style);
  say(`added ${name}`);
};

(async () => {
  await loadStyles();
  const status = await (await fetch(withAuth("api/status"))).json();
  $("upload").hidden = !status.upload;
  connect();
  if (params.get("camera") === "on") startCamera().catch((e) => say(`camera: ${e.message}`, true));
})();
