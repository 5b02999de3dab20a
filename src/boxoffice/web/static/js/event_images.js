// The event's poster and detail images on the console's event page: shown from the event
// the page read (console.js hands it over in "bo:event"), uploaded through the API
// (POST /events/{id}/images, multipart: the file and its kind), which checks the type,
// the size and the owner; its refusal is shown as it is.
import { Problem, call, say, show } from "./api.js";

const form = document.getElementById("image-form");
const list = document.getElementById("image-list");
const message = document.getElementById("image-message");
let eventId = null;

function render(event) {
  eventId = event.id;
  list.replaceChildren(...event.images.map((image) => {
    const item = document.createElement("li");
    const img = document.createElement("img");
    img.src = image.thumbnail_url;
    img.alt = `${image.kind}: ${event.title}`;
    img.dataset.kind = image.kind;
    const caption = document.createElement("span");
    caption.textContent = image.url === event.poster_url ? `${image.kind} ★` : image.kind;
    item.append(img, caption);
    return item;
  }));
  document.querySelector("[data-no-images]").hidden = event.images.length > 0;
  list.dataset.count = String(event.images.length);
  form.hidden = event.status === "cancelled";
}

form.addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  if (!eventId) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await call(`/events/${encodeURIComponent(eventId)}/images`, { method: "POST", body: new FormData(form) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Problem(response.status, body);
    form.reset();
    show(message, say("saved"));
    document.dispatchEvent(new CustomEvent("bo:event-changed"));
  } catch (error) {
    show(message, error instanceof Problem ? error.message : say("error"));
  } finally { button.disabled = false; }
});

document.addEventListener("bo:event", (e) => render(e.detail));
