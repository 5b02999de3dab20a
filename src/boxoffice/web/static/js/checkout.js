// Checkout: the hold (a fragment rendered by the server with the user's token), goods and
// delivery, then an order paid with the internal provider, or through Toss or KakaoPay's
// redirect flows, which come back to /checkout/result.
import { Problem, json, loadFragment, money, orLookedUp, orderWhen, say, show } from "./api.js";

const root = document.getElementById("checkout");
const holdId = root.dataset.hold;
const message = document.getElementById("checkout-message");
const ORDER_KEY = `bo.order.${holdId}`;

function explain(error) {
  if (!(error instanceof Problem)) return say("error");
  if (error.code === "hold_expired") return say("expired_hold");
  if (error.code === "payment_rejected") return say("declined");
  return error.message;
}

function items(form) {
  return [...form.querySelectorAll(".good")]
    .map((good) => ({ sku: good.querySelector("[data-sku]").value, quantity: Number(good.querySelector("[data-qty]").value) || 0, price: Number(good.dataset.price) }))
    .filter((item) => item.quantity > 0);
}

function recalc(form) {
  const total = document.getElementById("pay-total");
  const section = root.querySelector(".checkout");
  const picked = items(form);
  const sum = Number(total.dataset.base) + picked.reduce((s, i) => s + i.price * i.quantity, 0);
  total.textContent = money(sum, section.dataset.currency);
  const delivery = document.getElementById("delivery");
  if (delivery) delivery.hidden = picked.length === 0;
  const address = document.getElementById("address");
  if (address) address.hidden = form.querySelector("input[name=delivery]:checked")?.value !== "delivery";
}

function delivery(form) {
  const method = form.querySelector("input[name=delivery]:checked")?.value || "pickup";
  if (method === "pickup") return { method };
  const field = (id) => document.getElementById(id).value;
  return { method, address: { recipient: field("recipient"), phone: field("phone"), postal_code: field("postal_code"), address1: field("address1"), address2: field("address2") } };
}

async function redirectToProvider(order) {
  const p = order.payment;
  if (p.provider === "kakaopay") { location.assign(p.redirect_url); return; }
  if (p.provider === "toss") {
    if (typeof window.TossPayments !== "function") throw new Error("Toss Payments is not available");
    const toss = window.TossPayments(p.client_key).payment({ customerKey: window.TossPayments.ANONYMOUS });
    await toss.requestPayment({
      method: "CARD", amount: { currency: order.currency, value: p.amount },
      orderId: p.order_id, orderName: p.order_name, successUrl: p.success_url, failUrl: p.fail_url,
    });
  }
}

// The order placed for this hold by an earlier try in this tab (a declined card, a trip to
// a provider and back), or null.
const remembered = () => JSON.parse(sessionStorage.getItem(ORDER_KEY) || "null");
const remember = (order) => sessionStorage.setItem(ORDER_KEY, JSON.stringify({ id: order.id, currency: order.currency, payment: order.payment }));

// The goods and their delivery are the order's once it is placed; how it is paid is not.
function freezeGoods(form) {
  for (const input of form.querySelectorAll(".goods-pick input, .goods-pick select, input[name=delivery]")) input.disabled = true;
}

async function pay(form) {
  const provider = form.querySelector("input[name=provider]:checked").value;
  let order = remembered();  // paid again, not placed twice
  if (!order) {
    const picked = items(form).map(({ sku, quantity }) => ({ sku, quantity }));
    const body = { hold_id: holdId, items: picked, payment_provider: provider, delivery: picked.length ? delivery(form) : null };
    // Placed again with the same key after a gateway timeout: the order it placed, or it now.
    const headers = { "Idempotency-Key": `web-${holdId}-${Date.now()}` };
    const place = () => json("/orders", { method: "POST", headers, json: body });
    order = await orLookedUp(place, place);
    remember(order);
    freezeGoods(form);
  } else if (order.payment.provider !== provider || provider === "kakaopay") {
    // Another way to pay it, or a fresh KakaoPay checkout (one the fan left is dead there):
    // the same order, its seats still held.
    order = await json(`/orders/${encodeURIComponent(order.id)}/payment`, { method: "POST", json: { payment_provider: provider } });
    remember(order);
  }
  if (order.payment.provider !== "internal") { await redirectToProvider(order); return; }
  const id = encodeURIComponent(order.id);
  const paid = await orLookedUp(
    () => json(`/orders/${id}/pay`, { method: "POST" }),
    orderWhen(id, (now) => now.status === "paid"),
  );
  sessionStorage.removeItem(ORDER_KEY);
  location.assign(`/checkout/result?order_id=${encodeURIComponent(paid.id)}&status=${encodeURIComponent(paid.status)}`);
}

function wire() {
  const form = document.getElementById("pay-form");
  if (!form) return;
  const placed = remembered();
  if (placed) {  // back from a provider, or the page reloaded: the order placed stands
    freezeGoods(form);
    const way = form.querySelector(`input[name=provider][value="${CSS.escape(placed.payment.provider)}"]`);
    if (way) way.checked = true;
  }
  form.addEventListener("input", () => recalc(form));
  form.addEventListener("change", () => recalc(form));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("pay");
    button.disabled = true;
    show(message, say("paying"));
    try { await pay(form); }
    catch (error) {
      show(message, explain(error));
      if (error instanceof Problem && (error.code === "hold_expired" || error.code === "order_not_payable"
          || (error.code === "purchase_limit_exceeded" && error.body && error.body.refunded))) {
        sessionStorage.removeItem(ORDER_KEY);
        await loadFragment(root).catch(() => {});
        wire();
        // The hold's page says it ended, with the way back to the seats: said once.
        const ended = root.querySelector("[data-hold-ended]");
        if (ended) { message.hidden = true; ended.scrollIntoView({ block: "center" }); return; }
      }
      message.scrollIntoView({ block: "center" });
    } finally { button.disabled = false; }
  });
  document.getElementById("release").addEventListener("click", async () => {
    const showId = root.querySelector(".checkout").dataset.show;
    await json(`/holds/${encodeURIComponent(holdId)}`, { method: "DELETE" }).catch(() => {});
    sessionStorage.removeItem(ORDER_KEY);
    location.assign(`/shows/${encodeURIComponent(showId)}/seats`);
  });
  root.addEventListener("bo:elapsed", () => { show(message, say("expired_hold")); });
}

loadFragment(root).then(wire).catch((error) => show(message, explain(error)));
