"use strict";
// The supervisor's figures over a date range, drawn with Chart.js (vendor/, MIT).
const $ = (id) => document.getElementById(id);
window.dashboard = { data: null, charts: {}, state: "loading", error: null };
const pct = (x) => (x == null ? "–" : Math.round(x * 1000) / 10 + " %");
const secs = (x) => (x == null ? "–" : x < 90 ? Math.round(x) + " s" : Math.round(x / 6) / 10 + " min");
const num = (x) => (x == null ? "–" : String(x));
const iso = (d) => d.toISOString().slice(0, 10);
const row = (...cells) => { const tr = document.createElement("tr"); cells.forEach((c) => { const td = document.createElement("td"); td.textContent = c == null ? "" : String(c); tr.append(td); }); return tr; };
const COLOURS = ["#01689b", "#e17000", "#39870c", "#a90061", "#8fcae7", "#ffb612", "#94710a", "#42145f"];

function tile(label, value, note) {
  const div = document.createElement("div");
  div.className = "tile";
  const b = document.createElement("b"); b.textContent = value;
  const s = document.createElement("span"); s.textContent = label + (note ? " — " + note : "");
  div.append(b, s);
  return div;
}

function draw(id, config) {
  if (window.dashboard.charts[id]) window.dashboard.charts[id].destroy();
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
  window.dashboard.charts[id] = new Chart($(id), config);
}

function bars(id, labels, values, label, horizontal) {
  draw(id, {
    type: "bar",
    data: { labels, datasets: [{ label, data: values, backgroundColor: COLOURS[0] }] },
    options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } }, scales: { [horizontal ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function groupRows(groups) {
  return Object.entries(groups).map(([name, f]) => row(name, f.calls, pct(f.containment), pct(f.first_contact_resolution), pct(f.service_level), secs(f.average_wait_s), f.csat_average == null ? "–" : f.csat_average));
}

function render(d) {
  window.dashboard.data = d;
  const t = d.total;
  $("tiles").replaceChildren(
    tile("gesprekken", num(t.calls)),
    tile("containment", pct(t.containment), t.contained + " door de assistent, niet teruggebeld in 24 u"),
    tile("eerste-contactoplossing", pct(t.first_contact_resolution), "niet opnieuw gebeld in 7 dagen"),
    tile("service level", pct(t.service_level), t.within_service_level + " binnen " + t.service_level_s + " s"),
    tile("doorverbonden", num(t.handoffs)),
    tile("opgehangen in wachtrij", num(t.abandoned), "na gem. " + secs(t.abandoned_after_s)),
    tile("gem. wachttijd", secs(t.average_wait_s)),
    tile("gem. gespreksduur medewerker", secs(t.average_handle_s)),
    tile("terugbelverzoeken", t.callbacks_requested + " / " + t.callbacks_done, "gevraagd / gedaan"),
    tile("tevredenheid", t.csat_average == null ? "–" : String(t.csat_average), t.csat_responses + " antwoorden"),
    tile("onbeantwoorde vragen", num(t.unanswered)),
  );
  const days = Object.keys(d.by_day);
  draw("chart-days", {
    type: "bar",
    data: {
      labels: days,
      datasets: [
        { type: "bar", label: "gesprekken", data: days.map((k) => d.by_day[k].calls), backgroundColor: COLOURS[0], yAxisID: "y" },
        { type: "line", label: "containment %", data: days.map((k) => (d.by_day[k].containment == null ? null : d.by_day[k].containment * 100)), borderColor: COLOURS[1], backgroundColor: COLOURS[1], yAxisID: "y2" },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, y2: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } },
  });
  const hours = Object.keys(d.by_hour);
  bars("chart-hours", hours.map((h) => h.padStart(2, "0") + ":00"), hours.map((h) => d.by_hour[h].calls), "gesprekken");
  const reasons = t.handoffs_by_reason;
  bars("chart-handoffs", Object.keys(reasons), Object.values(reasons), "doorverbindingen", true);
  const waits = t.abandoned_by_wait;
  const order = ["<= 10 s", "<= 30 s", "<= 60 s", "<= 120 s", "<= 300 s", "> 300 s"];
  bars("chart-abandoned", order, order.map((k) => waits[k] || 0), "opgehangen");
  bars("chart-csat", ["1", "2", "3", "4", "5"], ["1", "2", "3", "4", "5"].map((k) => t.csat_scores[k] || 0), "antwoorden");
  $("languages").replaceChildren(...groupRows(d.by_language));
  $("topics").replaceChildren(...groupRows(d.by_topic));
  $("method").textContent = "(" + d.themes.method + ")";
  $("themes").replaceChildren(...d.themes.themes.map((th) => row(th.label, th.count, th.keywords.join(", "), th.examples.join(" · "))));
}

function query() {
  return "from=" + encodeURIComponent($("from").value) + "&to=" + encodeURIComponent($("to").value);
}

function exportLink() {
  $("export").href = "/api/supervisor/export?" + query() + "&format=" + encodeURIComponent($("format").value);
}

async function load() {
  window.dashboard.state = "loading";
  $("status").textContent = "bezig…";
  exportLink();
  try {
    const r = await fetch("/api/supervisor/figures?" + query(), { credentials: "same-origin" });
    if (r.status === 401) { location.href = "/login"; return; }
    if (!r.ok) throw new Error((await r.json()).detail || r.statusText);
    render(await r.json());
    $("status").textContent = "";
    window.dashboard.state = "ready";
  } catch (err) {
    window.dashboard.error = String(err.message || err);
    window.dashboard.state = "error";
    $("status").textContent = "Niet gelukt: " + window.dashboard.error;
  }
}

const params = new URLSearchParams(location.search);
const today = new Date();
$("to").value = params.get("to") || iso(today);
$("from").value = params.get("from") || iso(new Date(today.getTime() - 6 * 86400000));
$("range").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
$("format").addEventListener("change", exportLink);
$("from").addEventListener("change", exportLink);
$("to").addEventListener("change", exportLink);
load();
