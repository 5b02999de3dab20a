// Refunds from the console's orders list. The dialog first reads what the buyer's own
// cancellation would cost now (GET /orders/{id}/cancellation: the fee of the current
// window, computed by the API as for the buyer, and the order's lines), then the seller
// refunds in full or minus that fee — the whole order (POST /orders/{id}/cancel) or the
// ticked lines (POST /orders/{id}/refunds, quoted first) — the API decides who may, and when.
import { Problem, json, money, show } from "./api.js";

const dialog = document.getElementById("refund-dialog");
const field = (name) => dialog.querySelector(`[data-field=${name}]`);
const message = document.getElementById("refund-message");
let current = null;

function buttons(terms) {
  const full = dialog.querySelector("[data-refund-mode=full]");
  const fee = dialog.querySelector("[data-refund-mode=fee]");
  const none = !terms || terms.refundable <= 0;
  full.disabled = none;
  fee.disabled = none || !terms.allowed;
}

function showTerms(terms) {
  field("refundable").textContent = money(terms.refundable, current.currency);
  field("fee").textContent = terms.allowed ? money(terms.fee, current.currency) : "–";
  field("refund").textContent = terms.allowed ? money(terms.refund, current.currency) : "–";
  field("closed").hidden = terms.allowed;
  buttons(terms);
}

function showLines(lines) {
  const box = field("lines");
  box.querySelectorAll("label").forEach((label) => label.remove());
  const left = lines.filter((line) => line.refunded_quantity < line.quantity);
  for (const line of left) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "checkbox", name: "line", checked: true });
    input.value = String(line.position);
    const units = line.quantity - line.refunded_quantity;
    label.append(input, ` ${line.description}${units > 1 ? ` × ${units}` : ""}`);
    box.append(label);
  }
  box.hidden = left.length < 2;
}

function ticked() {
  const boxes = [...field("lines").querySelectorAll("input[name=line]")];
  const chosen = boxes.filter((box) => box.checked).map((box) => ({ position: Number(box.value) }));
  return { chosen, all: chosen.length === boxes.length };
}

async function requote() {
  const { chosen, all } = ticked();
  if (all) { showTerms(current.terms); return; }
  if (!chosen.length) { buttons(null); return; }
  const quote = await json(`/orders/${encodeURIComponent(current.id)}/refunds/quote`, {
    method: "POST", json: { lines: chosen },
  });
  const worth = quote.lines.reduce((sum, line) => sum + line.amount, 0);
  showTerms({ ...quote, refundable: worth });
}

async function open(trigger) {
  current = { id: trigger.dataset.refund, terms: null, currency: "KRW" };
  delete dialog.dataset.ready;
  field("order").textContent = current.id;
  field("buyer").textContent = trigger.dataset.buyer;
  for (const name of ["refundable", "fee", "refund"]) field(name).textContent = "…";
  field("closed").hidden = true;
  showLines([]);
  const reason = document.getElementById("refund-reason");
  reason.value = reason.defaultValue; // each order's refund gets its own reason
  show(message, "");
  buttons(null);
  dialog.showModal();
  try {
    const terms = await json(`/orders/${encodeURIComponent(current.id)}/cancellation`);
    current.terms = terms;
    current.currency = terms.currency;
    showLines(terms.lines || []);
    showTerms(terms);
    dialog.dataset.ready = String(Date.now());
  } catch (error) {
    show(message, error instanceof Problem ? error.message : String(error));
  }
}

async function refund(chargeFee) {
  const reason = document.getElementById("refund-reason").value.trim();
  if (!current || !reason) return;
  const { chosen, all } = ticked();
  buttons(null);
  const id = encodeURIComponent(current.id);
  try {
    const done = all
      ? await json(`/orders/${id}/cancel`, { method: "POST", json: { reason, charge_fee: chargeFee } })
      : await json(`/orders/${id}/refunds`, { method: "POST", json: { lines: chosen, reason, charge_fee: chargeFee } });
    dialog.close();
    document.dispatchEvent(new CustomEvent("bo:orders-changed", { detail: done }));
  } catch (error) {
    show(message, error instanceof Problem ? error.message : String(error));
    buttons(current.terms);
  }
}

field("lines").addEventListener("change", () => {
  requote().catch((error) => show(message, error instanceof Problem ? error.message : String(error)));
});

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-refund]");
  if (trigger) { open(trigger); return; }
  const mode = event.target.closest("#refund-dialog [data-refund-mode]")?.dataset.refundMode;
  if (mode === "close") dialog.close();
  else if (mode === "full") refund(false);
  else if (mode === "fee") refund(true);
});
