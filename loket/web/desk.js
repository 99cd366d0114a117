"use strict";
// The agent desk: one WebSocket for the view and commands, one WebRTC connection for audio.
const $ = (id) => document.getElementById(id);
window.desk = { view: null, level: 0, peak: 0, audio: "off", errors: [],
  offerSeenAt: null, loudAt: null, loudAbove: 0.02 };  // timings for tests and benchmarks
let csrf = "", ws = null, pc = null, lastCall = null, stopMeter = () => {};

const STATES = { offline: "offline", available: "beschikbaar", offered: "aangeboden",
  on_call: "in gesprek", wrap_up: "nawerk", break: "pauze" };
const text = (s) => document.createTextNode(s == null ? "" : String(s));
function el(tag, props, ...kids) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  kids.forEach((k) => node.append(k instanceof Node ? k : text(k)));
  return node;
}
function notice(msg) { $("notice").textContent = msg || ""; if (msg) window.desk.errors.push(msg); }
function minutes(s) { return s < 60 ? Math.round(s) + " s" : Math.round(s / 60) + " min"; }

async function api(path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body) });
  if (resp.status === 401) { location.href = "/login"; throw new Error("niet ingelogd"); }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.detail || resp.statusText);
  return data;
}
function send(msg) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); }

function summaryBlock(ticket, transcript) {
  const box = el("div");
  if (ticket) {
    const s = ticket.summary || {};
    box.append(el("p", {}, el("span", { className: "badge" + (ticket.priority === "urgent" ? " urgent" : "") }, ticket.priority),
      " ", el("strong", {}, ticket.queue), " · ", (s.language || ticket.language || "?").toUpperCase(),
      " · wacht ", minutes(ticket.waiting_s || 0)));
    if (s.spoken) box.append(el("p", { className: "summary" }, s.spoken));
    if (ticket.reason) box.append(el("p", {}, "Reden: ", ticket.reason));
    const topics = s.topics || s.topics_asked;
    if (topics && topics.length) box.append(el("p", {}, "Onderwerpen: ", topics.join(", ")));
    if (s.last_words) box.append(el("p", {}, "Laatste woorden: “", s.last_words, "”"));
    if (s.agent_note) box.append(el("p", {}, "Notitie collega: ", s.agent_note));
  }
  if (transcript && transcript.length) {
    const t = el("div", { className: "transcript" });
    transcript.forEach((line) => t.append(el("p", { className: line.who }, line.text)));
    box.append(el("h3", {}, "Gesprek tot nu toe"), t);
  }
  return box;
}

function render(view) {
  window.desk.view = view;
  const me = view.me;
  $("me-name").textContent = me.name;
  $("me-state").textContent = STATES[me.state] || me.state;
  $("me-audio").textContent = me.audio ? "aan" : "uit";
  $("available").disabled = !me.audio || me.state === "available";
  $("break").disabled = me.state === "break";
  $("waiting").replaceChildren(...view.waiting.map((t) => el("tr", {},
    el("td", {}, el("span", { className: "badge" + (t.priority === "urgent" ? " urgent" : "") }, t.queue)),
    el("td", {}, (t.language || "").toUpperCase()), el("td", {}, t.reason), el("td", {}, minutes(t.waiting_s)))));
  $("callbacks").replaceChildren(...view.callbacks.map((c) => el("tr", {},
    el("td", {}, c.queue), el("td", {}, c.caller_ref), el("td", {}, (c.summary || {}).spoken || ""),
    el("td", {}, el("button", { onclick: () => send({ type: "close_callback", task_id: c.task_id }) }, "Afgehandeld")))));
  $("offer").classList.toggle("hidden", !view.offer);
  if (view.offer && (!window.desk.lastOffer || window.desk.lastOffer !== view.offer.call_id)) {
    window.desk.lastOffer = view.offer.call_id;
    window.desk.offerSeenAt = Date.now();
  }
  if (view.offer) $("offer-card").replaceChildren(summaryBlock(view.offer.ticket, view.offer.transcript));
  $("call").classList.toggle("hidden", !view.call);
  if (view.call) {
    lastCall = view.call.call_id;
    const phase = { whisper: "u hoort de samenvatting…", talking: "verbonden", transferring: "doorverbinden…" }[view.call.phase] || view.call.phase;
    $("call-card").replaceChildren(el("p", {}, el("strong", {}, phase)), summaryBlock(view.call.ticket, view.call.transcript));
    $("mute").textContent = view.call.muted ? "Microfoon aan" : "Microfoon uit";
  }
  $("transfer-queue").replaceChildren(el("option", { value: "" }, "—"), ...view.queues.map((q) => el("option", { value: q.name }, q.name)));
  $("wrapup").classList.toggle("hidden", me.state !== "wrap_up");
  if (view.notice) notice(view.notice);
}

async function connectAudio() {
  try {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: window.deskAudioConstraints || true });
    if (pc) pc.close();
    stopMeter();
    pc = new RTCPeerConnection({ iceServers: window.deskIceServers || [] });
    mic.getTracks().forEach((t) => pc.addTrack(t, mic));
    pc.ontrack = (ev) => {
      $("remote").srcObject = ev.streams[0] || new MediaStream([ev.track]);
      stopMeter();
      stopMeter = levelMeter($("remote").srcObject, (level) => {
        const d = window.desk;
        d.level = level;
        d.peak = Math.max(d.peak, level);
        if (d.loudAt === null && level > d.loudAbove) d.loudAt = Date.now();
      });
    };
    pc.onconnectionstatechange = () => {
      window.desk.audio = pc.connectionState;
      if (["failed", "closed"].includes(pc.connectionState)) notice("Audioverbinding verbroken. Verbind opnieuw.");
    };
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== "complete") {
      await new Promise((ok) => pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && ok()));
    }
    const answer = await api("/api/desk/media", { sdp: pc.localDescription.sdp, type: pc.localDescription.type });
    await pc.setRemoteDescription(answer);
  } catch (err) { notice("Audio verbinden lukt niet: " + err.message); }
}

function connectSocket() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/desk");
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "view") render(msg);
    else if (msg.type === "error") notice(msg.error);
  };
  ws.onclose = (ev) => {
    if (ev.code === 4401) { location.href = "/login"; return; }
    if (ev.code === 4403) { notice("Geen toegang met deze rol."); return; }
    notice("Verbinding met de server verbroken; opnieuw verbinden…");
    setTimeout(connectSocket, 2000);
  };
  ws.onopen = () => notice("");
}

async function main() {
  const me = await fetch("/api/me").then((r) => { if (r.status === 401) location.href = "/login"; return r.json(); });
  csrf = me.csrf_token;
  connectSocket();
  setInterval(() => send({ type: "ping" }), 20000);
}

$("audio").onclick = connectAudio;
$("available").onclick = () => send({ type: "state", state: "available" });
$("break").onclick = () => send({ type: "state", state: "break" });
$("accept").onclick = () => send({ type: "accept", call_id: window.desk.view.offer.call_id });
$("decline").onclick = () => send({ type: "decline", call_id: window.desk.view.offer.call_id });
$("hangup").onclick = () => send({ type: "hangup" });
$("mute").onclick = () => send({ type: "mute", on: !(window.desk.view.call && window.desk.view.call.muted) });
$("transfer").onclick = () => {
  const queue = $("transfer-queue").value, uri = $("transfer-uri").value.trim(), note = $("transfer-note").value;
  if (!queue && !uri) { notice("Kies een wachtrij of vul een SIP-adres in."); return; }
  send(uri ? { type: "transfer", uri, note } : { type: "transfer", queue, note });
};
$("done").onclick = () => {
  if (lastCall && $("note").value.trim()) send({ type: "note", call_id: lastCall, note: $("note").value });
  $("note").value = "";
  send({ type: "state", state: "wrap_up_done" });
};
$("logout").onclick = async () => {
  await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf } });
  location.href = "/login";
};
main();
