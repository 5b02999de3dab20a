// Where the payment providers send the browser back: say what happened, show the order.
import { loadFragment, say, show } from "./api.js";

const params = new URLSearchParams(location.search);
const texts = document.getElementById("result-texts").content;
const pick = (selector) => texts.querySelector(selector)?.textContent;
const message = document.getElementById("result-message");
const code = params.get("code");
const status = params.get("status") || "pending";
show(message, (code && pick(`[data-code="${CSS.escape(code)}"]`)) || pick(`[data-status="${CSS.escape(status)}"]`) || say("error"));
if (status === "paid") sessionStorage.clear();

const orderId = params.get("order_id");
if (orderId && /^[A-Za-z0-9_-]{1,64}$/.test(orderId)) {
  const box = document.getElementById("result-order");
  loadFragment(box, `/fragments/orders/${encodeURIComponent(orderId)}`).then(() => {
    // The order's own state says it better (paid after all, expired meanwhile), except that
    // an order still pending after a payment that failed or was cancelled is not "being
    // confirmed": it waits for the fan, and the redirect's words stand.
    const shown = box.querySelector("[data-status]")?.dataset.status;
    const waitsForFan = shown === "pending" && status !== "pending";
    if (shown && !code && !waitsForFan) show(message, pick(`[data-status="${CSS.escape(shown)}"]`) || message.textContent);
  }).catch(() => {});
}
