// The waiting room: join (or find my place again), follow it over Server-Sent Events read
// with fetch (so the access token goes in a header), fall back to polling, then go on to
// the seats with the admission token.
import { Problem, call, json, say, serverEvents, session, show } from "./api.js";
import { remaining } from "./shop.js";

const root = document.getElementById("queue");
const showId = root.dataset.show;
const positionText = document.getElementById("queue-position");
const etaText = document.getElementById("queue-eta");
const progress = document.getElementById("queue-progress");
const message = document.getElementById("queue-message");
const admittedBox = document.getElementById("queue-admitted");
const leave = document.getElementById("queue-leave");
let entryId = null, firstPosition = null, done = false;

export function keepAdmission(show, token, expiresAt) {
  sessionStorage.setItem(`bo.admission.${show}`, JSON.stringify({ token, expires_at: expiresAt }));
}

function place(position, eta) {
  if (position == null) { positionText.textContent = say("eta_unknown"); return; }
  firstPosition = Math.max(firstPosition || position, position);
  positionText.textContent = say("position", { n: position.toLocaleString() });
  positionText.dataset.position = position;
  etaText.textContent = eta == null ? say("eta_unknown") : say("eta", { t: remaining(eta * 1000) });
  progress.value = Math.round(100 * (1 - (position - 1) / Math.max(1, firstPosition)));
}

function admitted(token, expiresAt) {
  done = true;
  keepAdmission(showId, token, expiresAt);
  positionText.textContent = say("admitted");
  etaText.textContent = "";
  progress.value = 100;
  leave.hidden = true;
  admittedBox.hidden = false;
  document.getElementById("admission-left").dataset.countdown = expiresAt || "";
  document.getElementById("queue-go").focus();
}

function ended(text) {
  done = true;
  progress.hidden = true;
  positionText.textContent = "";
  etaText.textContent = "";
  leave.hidden = true;
  show(message, text);
}

function apply(entry) {
  if (entry.status === "admitted") admitted(entry.admission_token, entry.admission_expires_at);
  else if (entry.sold_out) ended(say("sold_out"));
  else if (entry.status === "expired" || entry.status === "left") ended(say("left_line"));
  else place(entry.position, entry.eta_seconds);
}

async function follow() {
  let lastId = null;
  while (!done) {
    try {
      const headers = lastId ? { "Last-Event-ID": lastId } : {};
      const response = await call(`/queue/${encodeURIComponent(entryId)}/stream`, { headers });
      if (!response.ok || !response.body) throw new Error(`stream ${response.status}`);
      show(message, "");
      for await (const fields of serverEvents(response)) {
        if (fields.id) lastId = fields.id;
        if (fields.event && fields.data) {
          const data = JSON.parse(fields.data);
          if (fields.event === "position") place(data.position, data.eta_seconds);
          else if (fields.event === "admitted") admitted(data.admission_token, data.expires_at);
          else if (fields.event === "expired") await poll(); // sold out, expired or left: ask why
        }
        if (done) return; // leaving the loop cancels the stream
      }
    } catch (error) {
      if (done) return;
      show(message, say("network"));
      await poll().catch(() => {}); // the polling fallback keeps the place current meanwhile
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

async function poll() {
  apply(await json(`/queue/${encodeURIComponent(entryId)}`));
}

async function join() {
  try {
    const entry = await json(`/shows/${encodeURIComponent(showId)}/queue`, { method: "POST" });
    entryId = entry.entry_id;
    root.dataset.entry = entryId; // the same in every tab and after a reload
    leave.hidden = false;
    apply(entry);
    if (!done) follow();
  } catch (error) {
    if (error instanceof Problem && error.code === "sale_not_open" && error.body.sold_out) ended(say("sold_out"));
    else if (error instanceof Problem && error.code === "sale_not_open") { ended(say("sale_not_open")); retryAtOpening(); }
    else if (error instanceof Problem && error.status === 409) location.replace(root.dataset.seatsUrl); // no queue
    else if (error instanceof Problem && error.status === 429) setTimeout(join, 1000 * (error.body.retry_after || 3));
    else ended(error.message || say("error"));
  }
}

function retryAtOpening() {
  const opening = document.querySelector("[data-countdown]");
  if (opening) opening.addEventListener("bo:elapsed", () => { show(message, ""); progress.hidden = false; done = false; join(); }, { once: true });
}

leave.addEventListener("click", async () => {
  if (!entryId) return;
  await json(`/queue/${encodeURIComponent(entryId)}`, { method: "DELETE" }).catch(() => {});
  ended(say("left_line"));
});

if (session() && ["on_sale", "upcoming", "sold_out"].includes(root.dataset.state)) join();
else if (root.dataset.state === "upcoming") retryAtOpening();
