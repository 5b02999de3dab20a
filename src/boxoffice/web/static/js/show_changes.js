// Moving or cancelling one show from the console's event page, through the API
// (POST /shows/{id}/reschedule, POST /shows/{id}/cancel); the event is read again after.
import { Problem, json, say, when } from "./api.js";

const dialog = document.getElementById("show-dialog");
const form = document.getElementById("show-change-form");
const message = document.getElementById("show-change-message");
let current = null;

const toLocal = (iso) => new Date(new Date(iso).getTime() + 9 * 3600_000).toISOString().slice(0, 16);

function open(trigger) {
  current = { show: trigger.dataset.show, mode: trigger.dataset.showChange };
  form.reset();
  message.hidden = true;
  for (const node of dialog.querySelectorAll("[data-mode]")) node.hidden = node.dataset.mode !== current.mode;
  dialog.querySelector("[data-field=when]").textContent = when(trigger.dataset.startsAt);
  document.getElementById("move-to").value = toLocal(trigger.dataset.startsAt);
  document.getElementById("move-to").required = current.mode === "move";
  dialog.showModal();
}

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-show-change]");
  if (trigger) open(trigger);
});
document.getElementById("show-change-close").addEventListener("click", () => dialog.close());

form.addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const data = new FormData(form);
  const path = `/shows/${encodeURIComponent(current.show)}`;
  try {
    if (current.mode === "move") {
      const body = { starts_at: `${data.get("starts_at")}:00+09:00`, refund_days: Number(data.get("refund_days")) };
      await json(`${path}/reschedule`, { method: "POST", json: body });
    } else {
      await json(`${path}/cancel`, { method: "POST", json: { reason: data.get("reason") || "" } });
    }
  } catch (error) {
    message.textContent = error instanceof Problem ? error.message : say("error");
    message.hidden = false;
    return;
  }
  dialog.close();
  document.dispatchEvent(new CustomEvent("bo:event-changed"));
});
