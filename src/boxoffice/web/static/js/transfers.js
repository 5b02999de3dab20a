// Tickets given and received, on "my tickets": a valid ticket is offered by e-mail
// (POST /tickets/{id}/transfers), offers to me are accepted or declined, mine taken back
// (POST /transfers/{id}/accept|decline|cancel); the list is GET /users/me/transfers.
// After a change the tickets are read again (an accepted one is a new ticket, a new code).
import { Problem, json, loadFragment, say, show, when } from "./api.js";

const section = document.getElementById("transfers");
const list = document.getElementById("transfer-list");
const message = document.getElementById("transfer-message");
const dialog = document.getElementById("give-dialog");
let giving = null;

function action(label, transfer, verb) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = say(label);
  Object.assign(button.dataset, { transfer: transfer.id, verb });
  return button;
}

async function refresh() {
  const { items } = await json("/users/me/transfers");
  list.replaceChildren(...items.map((t) => {
    const item = document.createElement("li");
    item.dataset.transfer = t.id;
    item.dataset.status = t.status;
    const status = say(`status_${t.status}`);
    const ticket = `${t.title} · ${when(t.starts_at)} · ${say("seat", t.seat)}`;
    item.append(t.direction === "sent"
      ? say("transfer_out", { email: t.to_email, ticket, status })
      : say("transfer_received", { ticket, status }));
    if (t.status === "pending") {
      if (t.direction === "received") item.append(" ", action("accept", t, "accept"), " ", action("decline", t, "decline"));
      else item.append(" ", action("take_back", t, "cancel"));
    }
    return item;
  }));
  section.hidden = items.length === 0;
  section.dataset.loaded = String(Date.now());
}

async function tickets() {
  await loadFragment(document.getElementById("tickets"));
}

document.addEventListener("click", async (event) => {
  const give = event.target.closest("[data-give]");
  if (give) {
    giving = give.dataset.give;
    document.getElementById("give-form").reset();
    show(document.getElementById("give-message"), "");
    dialog.showModal();
    return;
  }
  const answer = event.target.closest("button[data-transfer]");
  if (!answer) return;
  answer.disabled = true;
  try {
    await json(`/transfers/${encodeURIComponent(answer.dataset.transfer)}/${answer.dataset.verb}`, { method: "POST" });
    show(message, "");
    await Promise.all([refresh(), tickets()]);
  } catch (error) {
    show(message, error instanceof Problem ? error.message : say("error"));
    answer.disabled = false;
  }
});

document.getElementById("give-close").addEventListener("click", () => dialog.close());
document.getElementById("give-form").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const email = new FormData(submitted.target).get("to_email");
  try {
    await json(`/tickets/${encodeURIComponent(giving)}/transfers`, { method: "POST", json: { to_email: email } });
    dialog.close();
    await refresh();
  } catch (error) {
    show(document.getElementById("give-message"), error instanceof Problem ? error.message : say("error"));
  }
});

refresh().catch(() => {});
