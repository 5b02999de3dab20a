// My orders (cancel — or return some of it — with the fee shown first) and my tickets (printable, kept for offline).
import { json, loadFragment, money, orLookedUp, orderWhen, say, session, show } from "./api.js";

const orders = document.getElementById("orders");
const tickets = document.getElementById("tickets");

// Which lines to return: all (the order is cancelled) or the ticked ones (a partial refund,
// its fee quoted by the API for exactly those lines).
function ticked(body) {
  const boxes = [...body.querySelectorAll("#cancel-lines input[name=line]")];
  const chosen = boxes.filter((box) => box.checked).map((box) => ({ position: Number(box.value) }));
  return { chosen, all: chosen.length === boxes.length };
}

async function requote(orderId, body, confirm, initial) {
  const { chosen, all } = ticked(body);
  confirm.textContent = all ? confirm.dataset.all : confirm.dataset.some;
  confirm.disabled = chosen.length === 0;
  const fee = body.querySelector("[data-fee]");
  const refund = body.querySelector("[data-refund]");
  if (!chosen.length || !fee || !refund) return;
  const terms = all ? initial : await json(`/orders/${encodeURIComponent(orderId)}/refunds/quote`, { method: "POST", json: { lines: chosen } });
  fee.textContent = money(terms.fee, terms.currency || initial.currency);
  refund.textContent = money(terms.refund, terms.currency || initial.currency);
  fee.dataset.fee = terms.fee;
  refund.dataset.refund = terms.refund;
}

async function openCancel(orderId) {
  const dialog = document.getElementById("cancel-dialog");
  const body = document.getElementById("cancel-body");
  const message = document.getElementById("cancel-message");
  const confirm = document.getElementById("cancel-confirm");
  show(message, "");
  await loadFragment(body, `/fragments/orders/${encodeURIComponent(orderId)}/cancel`);
  confirm.hidden = Boolean(body.querySelector("[data-closed]"));
  confirm.textContent = confirm.dataset.all;
  confirm.disabled = false;
  const initial = {
    fee: Number(body.querySelector("[data-fee]")?.dataset.fee || 0),
    refund: Number(body.querySelector("[data-refund]")?.dataset.refund || 0),
    currency: body.querySelector("[data-currency]")?.dataset.currency || "KRW",
  };
  body.onchange = () => requote(orderId, body, confirm, initial).catch((error) => show(message, error.message || say("error")));
  dialog.showModal();
  confirm.onclick = async () => {
    const { chosen, all } = ticked(body);
    confirm.disabled = true;
    try {
      const id = encodeURIComponent(orderId);
      const reason = "requested by the buyer";
      // After a gateway timeout: done when the order is cancelled, or the ticked lines have
      // nothing left to return (a line ticked is returned in full).
      const returned = (now) => chosen.every(({ position }) => {
        const line = now.lines.find((l) => l.position === position);
        return line && line.refunded_quantity >= line.quantity;
      });
      const ask = all
        ? () => json(`/orders/${id}/cancel`, { method: "POST", json: { reason } })
        : () => json(`/orders/${id}/refunds`, { method: "POST", json: { lines: chosen, reason } });
      await orLookedUp(ask, orderWhen(id, all ? (now) => ["cancelled", "refunded"].includes(now.status) : returned));
      dialog.close();
      await loadFragment(orders);
    } catch (error) { show(message, error.message || say("error")); }
    finally { confirm.disabled = false; }
  };
}

if (orders) {
  loadFragment(orders).catch(() => {});
  orders.addEventListener("click", (event) => {
    const button = event.target.closest("[data-cancel]");
    if (button) openCancel(button.dataset.cancel).catch(() => {});
  });
  document.getElementById("cancel-close").addEventListener("click", () => document.getElementById("cancel-dialog").close());
}

if (tickets) {
  const key = `bo.tickets.${session()?.id || "anonymous"}`;
  loadFragment(tickets)
    .then((html) => localStorage.setItem(key, html))
    .catch(() => {
      const saved = localStorage.getItem(key);
      if (!saved) return;
      const template = document.createElement("template");
      template.innerHTML = saved;
      tickets.replaceChildren(template.content);
      show(document.getElementById("offline-note"), say("offline"));
    });
  document.getElementById("print").addEventListener("click", () => window.print());
  if ("serviceWorker" in navigator) keepForOffline().catch(() => {});
}

// The page and its files go into the service worker's cache on the first visit, so the
// tickets (kept in localStorage above) can be shown without a network from then on.
async function keepForOffline() {
  await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  const files = [...document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon]")].map((n) => n.src || n.href);
  const modules = ["api.js", "shop.js", "account.js"].map((name) => `/static/js/${name}`);
  const cache = await caches.open("boxoffice-v1");
  await cache.addAll([location.pathname, ...files, ...modules]);
  tickets.dataset.offline = "ready";
}
