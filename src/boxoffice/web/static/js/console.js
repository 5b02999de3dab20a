// The console's shared parts: who may see what (a cosmetic hint: the API decides), lists
// read from the API page by page, CSV downloads with the token, the event page.
import { Problem, call, json, money, say, session, when } from "./api.js";

export function cell(row, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
  row.append(td);
  return td;
}

// A moment in a table: <time datetime> with its local reading, kept on one line (.grid time).
export function moment(iso) {
  if (!iso) return "";
  const time = document.createElement("time");
  time.dateTime = iso;
  time.textContent = when(iso);
  return time;
}

export function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

export function button(text, data = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  Object.assign(b.dataset, data);
  return b;
}

// A refusal of the API (403, or 401 after the login ran out) is shown once, the page's
// own content hidden: the console shows nothing the API would not give.
export function refused(error) {
  if (error instanceof Problem && (error.status === 403 || error.status === 404)) {
    const denied = document.getElementById("denied");
    if (error.status === 404) denied.textContent = error.message;
    denied.hidden = false;
    for (const node of document.querySelectorAll("#main > :not(#denied)")) node.hidden = true;
    return true;
  }
  return false;
}

export function fail(error, node) {
  if (refused(error)) return;
  const target = node || document.getElementById("denied");
  target.textContent = error instanceof Problem ? error.message : say("error");
  target.hidden = false;
}

function showRoles() {
  const role = session()?.role;
  for (const node of document.querySelectorAll("[data-role]")) {
    node.hidden = !role || !node.dataset.role.split(" ").includes(role);
  }
}

// A table filled from a keyset-paged API list, with its filter form and a "More" button.
export function pagedTable(table, form, url, render) {
  const body = table.querySelector("tbody");
  const around = table.closest(".grid-wrap").parentElement; // the list's note and button
  const more = around.querySelector("[data-more]");
  const empty = around.querySelector("[data-empty]");
  let cursor = null;
  async function load(reset) {
    const params = new URLSearchParams(form ? new FormData(form) : undefined);
    for (const [key, value] of [...params]) if (!value) params.delete(key);
    if (!reset && cursor) params.set("cursor", cursor);
    try {
      const page = await json(`${url}?${params}`);
      if (reset) body.replaceChildren();
      for (const item of page.items) body.append(render(item));
      cursor = page.next_cursor;
      if (more) more.hidden = !cursor;
      if (empty) empty.hidden = body.children.length > 0;
      table.dataset.loaded = String(Date.now());
      document.dispatchEvent(new CustomEvent("bo:page", { detail: page }));
    } catch (error) { fail(error); }
  }
  form?.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more?.addEventListener("click", () => load(false));
  load(true);
  return load;
}

// CSV: the API streams it; the browser fetches it with the token and saves it.
async function download(trigger) {
  const label = trigger.textContent;
  trigger.disabled = true;
  trigger.textContent = say("downloading");
  try {
    const response = await call(trigger.dataset.export);
    if (!response.ok) throw new Problem(response.status, await response.json().catch(() => ({})));
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = trigger.dataset.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) { fail(error); }
  finally { trigger.disabled = false; trigger.textContent = label; }
}

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-export]");
  if (trigger) download(trigger);
});

function eventRow(event) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.scope = "row";
  th.append(link(`/console/events/${encodeURIComponent(event.id)}`, event.title));
  tr.append(th);
  cell(tr, say(event.status));
  cell(tr, String(event.show_count));
  cell(tr, moment(event.first_starts_at));
  cell(tr, moment(event.sale_opens_at));
  return tr;
}

function orderRow(order) {
  const tr = document.createElement("tr");
  cell(tr, order.id).className = "mono";
  cell(tr, order.buyer.email || order.buyer.id);
  cell(tr, order.status);
  cell(tr, String(order.ticket_count));
  cell(tr, money(order.amount - order.refunded_amount, order.currency)).className = "num";
  cell(tr, moment(order.paid_at));
  const label = document.getElementById("orders")?.dataset.refundLabel;
  cell(tr, order.status === "paid" && label ? button(label, { refund: order.id, buyer: order.buyer.email || "" }) : "");
  tr.dataset.order = order.id;
  return tr;
}

function attendeeRow(attendee) {
  const tr = document.createElement("tr");
  cell(tr, `${attendee.holder_name || ""} <${attendee.holder_email || attendee.holder_id}>`);
  cell(tr, say("seat", attendee.seat));
  cell(tr, attendee.seat.grade);
  cell(tr, attendee.status);
  cell(tr, moment(attendee.checked_in_at));
  return tr;
}

async function eventPage(node) {
  const id = node.dataset.event;
  let event;
  try { event = await json(`/events/${encodeURIComponent(id)}`); } catch (error) { fail(error); return; }
  const mine = session();
  if (mine && mine.role !== "admin" && event.seller_id !== mine.id) { refused(new Problem(403, {})); return; }
  const field = (name) => node.querySelector(`[data-field=${name}]`);
  field("title").textContent = event.title;
  field("status").textContent = say(event.status);
  field("venue").textContent = event.venue.name;
  field("sale").textContent = `${when(event.sale_opens_at)} – ${when(event.sale_closes_at)}`;
  field("limit").textContent = String(event.max_tickets_per_user);
  field("queue").textContent = event.queue.enabled
    ? `${event.queue.admit_per_second}/s, ≤ ${event.queue.max_active}` : "–";
  field("grades").textContent = event.grades.map((g) => `${g.code} ${money(g.price, event.currency)}`).join(", ");
  const body = node.querySelector("#shows tbody");
  body.replaceChildren();
  for (const show of event.shows) {
    const tr = document.createElement("tr");
    cell(tr, moment(show.starts_at));
    cell(tr, String(show.seat_count));
    cell(tr, show.status);
    const links = document.createElement("span");
    links.className = "links";
    const base = `/console/shows/${encodeURIComponent(show.id)}`;
    links.append(link(base, say("dashboard")), link(`${base}/orders`, say("orders")),
      link(`${base}/attendees`, say("attendees")), link(`${base}/box-office`, say("box_office")), link(`/console/door/${encodeURIComponent(show.id)}`, say("door")));
    if (show.status === "scheduled" && event.status !== "cancelled") {
      links.append(button(say("move_show"), { showChange: "move", show: show.id, startsAt: show.starts_at }),
        button(say("cancel_show"), { showChange: "cancel", show: show.id, startsAt: show.starts_at }));
    }
    cell(tr, links);
    body.append(tr);
  }
  node.dataset.loaded = String(Date.now());
  document.dispatchEvent(new CustomEvent("bo:event", { detail: event }));
}

showRoles();
const events = document.getElementById("events");
if (events) pagedTable(events, document.getElementById("event-search"), "/seller/events", eventRow);
const orders = document.getElementById("orders");
if (orders) {
  const reload = pagedTable(orders, document.getElementById("order-search"), `/shows/${encodeURIComponent(orders.dataset.show)}/orders`, orderRow);
  document.addEventListener("bo:orders-changed", () => reload(true));
}
const attendees = document.getElementById("attendees");
if (attendees) {
  pagedTable(attendees, document.getElementById("attendee-search"), `/shows/${encodeURIComponent(attendees.dataset.show)}/attendees`, attendeeRow);
  document.addEventListener("bo:page", (e) => {
    document.getElementById("door-count").textContent = `${e.detail.checked_in} / ${e.detail.live}`;
  });
}
const eventNode = document.getElementById("event");
if (eventNode) {
  eventPage(eventNode);
  document.addEventListener("bo:event-changed", () => eventPage(eventNode));
}
