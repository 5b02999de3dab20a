// Editing an event the seller already made, and adding a show to it, through the API:
// PATCH /events/{id} with only the fields that changed (prices only while the API allows
// them: a draft without shows), POST /events/{id}/shows. The event page (console.js)
// reads the event and hands it over in a "bo:event" event; after a change it reads again.
import { Problem, json, say, show } from "./api.js";

const root = document.getElementById("event");
const form = document.getElementById("edit-form");
const showForm = document.getElementById("add-show-form");
let current = null;
let initial = {};

// datetime-local holds Seoul's wall-clock time (KST has no summer time).
const toLocal = (iso) => new Date(new Date(iso).getTime() + 9 * 3600_000).toISOString().slice(0, 16);
const kst = (local) => `${local}:00+09:00`;
const field = (id) => document.getElementById(id);

function explain(error) {
  if (!(error instanceof Problem)) return say("error");
  const first = (error.body.errors || [])[0];
  return first ? `${error.message} (${first.msg})` : error.message;
}


function values() {
  return {
    title: field("edit-title-field").value.trim(),
    description: field("edit-description").value,
    max_tickets_per_user: Number(field("edit-per-buyer").value),
    transfers_allowed: field("edit-transfers").checked,
    transfer_cutoff_hours: Number(field("edit-transfer-cutoff").value),
    sale_opens_at: field("edit-opens").value,
    sale_closes_at: field("edit-closes").value,
    queue: {
      enabled: field("edit-queue-on").checked,
      admit_per_second: Number(field("edit-queue-rate").value),
      max_active: Number(field("edit-queue-max").value),
      pre_queue_minutes: Number(field("edit-pre-queue").value),
      paused: field("edit-queue-paused").checked,
    },
    grades: [...document.querySelectorAll("#edit-prices input")].map((input) => ({
      code: input.dataset.grade, name: input.dataset.name, price: Number(input.value),
    })),
  };
}

function fill(event) {
  current = event;
  field("edit-title-field").value = event.title;
  field("edit-description").value = event.description;
  field("edit-per-buyer").value = event.max_tickets_per_user;
  field("edit-transfers").checked = event.transfers_allowed;
  field("edit-transfer-cutoff").value = event.transfer_cutoff_hours;
  field("edit-opens").value = toLocal(event.sale_opens_at);
  field("edit-closes").value = toLocal(event.sale_closes_at);
  field("edit-queue-on").checked = event.queue.enabled;
  field("edit-queue-rate").value = event.queue.admit_per_second;
  field("edit-queue-max").value = event.queue.max_active;
  field("edit-pre-queue").value = event.queue.pre_queue_minutes;
  field("edit-queue-paused").checked = Boolean(event.queue.paused);
  const pricesOpen = event.status === "draft" && event.shows.length === 0;
  const prices = field("edit-prices");
  prices.replaceChildren();
  for (const grade of event.grades) {
    const label = document.createElement("label");
    label.htmlFor = `edit-price-${grade.code}`;
    label.textContent = grade.code;
    const input = document.createElement("input");
    Object.assign(input, { id: `edit-price-${grade.code}`, type: "number", min: 0, required: true, value: grade.price, disabled: !pricesOpen });
    Object.assign(input.dataset, { grade: grade.code, name: grade.name });
    prices.append(label, input);
  }
  field("prices-locked").hidden = pricesOpen;
  const cancelled = event.status === "cancelled";
  for (const node of [...form.elements, ...showForm.elements]) if (cancelled) node.disabled = true;
  initial = values();
  form.dataset.ready = "1";
}

// Only what changed: an untouched sale time keeps its seconds, untouched prices stay
// unsent (the API refuses them once the event has shows).
function changes() {
  const now = values();
  const patch = {};
  for (const key of ["title", "description", "max_tickets_per_user", "transfers_allowed", "transfer_cutoff_hours"]) if (now[key] !== initial[key]) patch[key] = now[key];
  for (const key of ["sale_opens_at", "sale_closes_at"]) if (now[key] !== initial[key]) patch[key] = kst(now[key]);
  if (JSON.stringify(now.queue) !== JSON.stringify(initial.queue)) patch.queue = now.queue;
  if (JSON.stringify(now.grades) !== JSON.stringify(initial.grades)) patch.grades = now.grades;
  return patch;
}

form.addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const patch = changes();
  if (Object.keys(patch).length === 0) { show(field("edit-message"), say("saved")); return; }
  try {
    await json(`/events/${encodeURIComponent(current.id)}`, { method: "PATCH", json: patch });
  } catch (error) { show(field("edit-message"), explain(error)); return; }
  show(field("edit-message"), say("saved"));
  document.dispatchEvent(new CustomEvent("bo:event-changed"));
});

showForm.addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const startsAt = field("new-show-at").value;
  try {
    await json(`/events/${encodeURIComponent(current.id)}/shows`, { method: "POST", json: { starts_at: kst(startsAt) } });
  } catch (error) { show(field("show-message"), explain(error)); return; }
  field("new-show-at").value = "";
  show(field("show-message"), say("saved"));
  document.dispatchEvent(new CustomEvent("bo:event-changed"));
});

document.addEventListener("bo:event", (e) => fill(e.detail));
if (!root) form.hidden = true;
