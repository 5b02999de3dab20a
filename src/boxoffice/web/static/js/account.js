// My orders (cancel with the fee shown first) and my tickets (printable, kept for offline).
import { json, loadFragment, say, session, show } from "./api.js";

const orders = document.getElementById("orders");
const tickets = document.getElementById("tickets");

async function openCancel(orderId) {
  const dialog = document.getElementById("cancel-dialog");
  const body = document.getElementById("cancel-body");
  const message = document.getElementById("cancel-message");
  const confirm = document.getElementById("cancel-confirm");
  show(message, "");
  await loadFragment(body, `/fragments/orders/${encodeURIComponent(orderId)}/cancel`);
  confirm.hidden = Boolean(body.querySelector("[data-closed]"));
  dialog.showModal();
  confirm.onclick = async () => {
    confirm.disabled = true;
    try {
      await json(`/orders/${encodeURIComponent(orderId)}/cancel`, { method: "POST", json: { reason: "requested by the buyer" } });
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
