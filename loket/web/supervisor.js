"use strict";
// Live queues, agents and calls, pushed over the desk WebSocket (read-only).
const $ = (id) => document.getElementById(id);
window.supervisor = { view: null };
const row = (...cells) => { const tr = document.createElement("tr"); cells.forEach((c) => { const td = document.createElement("td"); td.textContent = c == null ? "" : String(c); tr.append(td); }); return tr; };
const dur = (s) => (s < 60 ? Math.round(s) + " s" : Math.round(s / 60) + " min");

function render(v) {
  window.supervisor.view = v;
  const now = v.at;
  $("updated").textContent = "bijgewerkt " + new Date(now * 1000).toLocaleTimeString("nl-NL");
  $("queues").replaceChildren(...v.queues.map((q) => row(q.name, q.waiting, q.agents, q.available, dur(q.average_handle_s))));
  $("tickets").replaceChildren(...v.tickets.map((t) => row(t.queue, t.priority, t.position, dur(t.waiting_s), t.reason, t.state)));
  $("agents").replaceChildren(...v.agents.map((a) => row(a.agent_id, a.state, dur(now - a.since), (a.skills || []).join(", "))));
  $("calls").replaceChildren(...v.connected_calls.map((c) => row(c.agent, c.phase, dur(now - c.since))));
  $("callbacks").replaceChildren(...v.callbacks.map((c) => row(c.queue, dur(c.waited_s))));
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/desk");
  ws.onmessage = (ev) => { const m = JSON.parse(ev.data); if (m.type === "supervisor") render(m); };
  ws.onclose = (ev) => { if (ev.code === 4401) location.href = "/login"; else setTimeout(connect, 2000); };
}
connect();
