// The live sale dashboard: a stream of the show's figures (SSE read with fetch, as the
// waiting room reads its own: EventSource cannot send the token), a chart of the pace,
// and the waiting line's settings saved through PATCH /events/{id}.
import { Problem, call, json, money, say, serverEvents, when } from "./api.js";
import { fail, refused } from "./console.js";

const root = document.getElementById("dashboard");
const showId = root.dataset.show;
const state = document.getElementById("live-state");
let latest = null;
let formFilled = false;
// The waiting line's length over the sale: the dispatcher's samples (one every 10 s, the
// stream's first "history" event, so a reload or a second screen sees the whole sale),
// then one point per reading that changed it; two hours kept at most.
const HISTORY_MS = 2 * 60 * 60_000;
const history = [];
const ns = "http://www.w3.org/2000/svg";

function pick(data, path) {
  return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
}

function chart(series) {
  const svg = document.getElementById("pace-chart");
  const top = Math.max(1, ...series);
  document.getElementById("pace-peak").textContent = `(${say("peak", { n: Math.max(0, ...series) })})`;
  const width = 300 / series.length;
  svg.replaceChildren();
  series.forEach((count, i) => {
    const bar = document.createElementNS(ns, "rect");
    const height = Math.round((count / top) * 70);
    bar.setAttribute("x", String(i * width + 1));
    bar.setAttribute("y", String(78 - height));
    bar.setAttribute("width", String(width - 2));
    bar.setAttribute("height", String(height));
    bar.setAttribute("class", "bar");
    const title = document.createElementNS(ns, "title");
    title.textContent = String(count);
    bar.append(title);
    svg.append(bar);
  });
}

// The server's samples, on this page's clock (the stream says what time it is there).
function seed({ line, now_ms: serverNow }) {
  const offset = Date.now() - serverNow;
  history.splice(0, history.length, ...line.map((p) => ({ t: p.at_ms + offset, waiting: p.waiting })));
  while (history.length > 1 && history[0].t < Date.now() - HISTORY_MS) history.shift();
  document.getElementById("line-chart").dataset.seeded = String(line.length);
  lineChart();
}

function record(waiting) {
  const now = Date.now();
  const last = history[history.length - 1];
  if (!last || last.waiting !== waiting) history.push({ t: now, waiting });
  while (history.length > 1 && history[0].t < now - HISTORY_MS) history.shift();
  lineChart();
}

// A step line: each reading holds until the next one, the last until now.
function lineChart() {
  const svg = document.getElementById("line-chart");
  if (history.length === 0) return;
  const now = Date.now();
  const start = history[0].t;
  const end = Math.max(now, start + 60_000); // a minute wide at least: no giant first steps
  const top = Math.max(1, ...history.map((p) => p.waiting));
  const x = (t) => ((t - start) / (end - start)) * 300;
  const y = (v) => 78 - (v / top) * 70;
  let d = `M ${x(history[0].t).toFixed(1)} ${y(history[0].waiting).toFixed(1)}`;
  for (const point of history.slice(1)) d += ` H ${x(point.t).toFixed(1)} V ${y(point.waiting).toFixed(1)}`;
  d += ` H ${x(now).toFixed(1)}`;
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("class", "line");
  path.setAttribute("vector-effect", "non-scaling-stroke");
  svg.replaceChildren(path);
  const peak = Math.max(...history.map((p) => p.waiting));
  document.getElementById("line-peak").textContent = `(${say("peak", { n: peak })})`;
  Object.assign(svg.dataset, { points: String(history.length), last: String(history[history.length - 1].waiting), peak: String(peak) });
}

// Counts grouped the page language's way (70,200), rates to a tenth (0.7, not 0.719).
const figure = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 });

function paint(data) {
  latest = data;
  for (const node of root.querySelectorAll("[data-stat]")) {
    const value = pick(data, node.dataset.stat);
    if (node.dataset.stat === "starts_at") node.textContent = when(value);
    else if (node.hasAttribute("data-money")) node.textContent = money(value, data.sales.currency);
    else if (typeof value === "number") node.textContent = figure.format(value);
    else node.textContent = value == null ? "–" : String(value);
  }
  chart(data.sales.orders_per_minute);
  if (data.queue && data.queue.waiting != null) record(data.queue.waiting);
  document.getElementById("paused-badge").hidden = !(data.queue && data.queue.paused);
  if (data.event_id) document.getElementById("back-to-event").href = `/console/events/${encodeURIComponent(data.event_id)}`;
  if (!formFilled && data.queue) {
    document.getElementById("admit-rate").value = data.queue.admit_per_second;
    document.getElementById("max-active").value = data.queue.max_active;
    document.getElementById("queue-enabled").checked = data.queue.enabled;
    document.getElementById("queue-paused").checked = Boolean(data.queue.paused);
    formFilled = true;
  }
  root.dataset.updated = String(Date.now());
}

async function follow() {
  for (;;) {
    try {
      const response = await call(`${location.origin}/console/shows/${encodeURIComponent(showId)}/live`);
      if (!response.ok) {
        const problem = new Problem(response.status, await response.json().catch(() => ({})));
        if (refused(problem) || response.status === 401) { fail(problem); return; }
        throw problem;
      }
      state.textContent = `● ${say("live")}`; // a dot alone says nothing to a screen reader
      state.className = "live";
      for await (const { event, data } of serverEvents(response)) {
        if (event === "history" && data) seed(JSON.parse(data));
        else if (event === "stats" && data) paint(JSON.parse(data));
      }
    } catch (error) {
      if (!(error instanceof Problem)) console.warn(error);
    }
    state.textContent = say("error");
    state.className = "";
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

document.getElementById("queue-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = document.getElementById("queue-message");
  if (!latest || !latest.event_id) return;
  const queue = {
    enabled: document.getElementById("queue-enabled").checked,
    admit_per_second: Number(document.getElementById("admit-rate").value),
    max_active: Number(document.getElementById("max-active").value),
    pre_queue_minutes: latest.queue.pre_queue_minutes || 0,
    paused: document.getElementById("queue-paused").checked,
  };
  try {
    await json(`/events/${encodeURIComponent(latest.event_id)}`, { method: "PATCH", json: { queue } });
    message.textContent = say("saved");
  } catch (error) {
    message.textContent = error instanceof Problem ? error.message : say("error");
  }
  message.hidden = false;
});

setInterval(lineChart, 5000);
follow();
