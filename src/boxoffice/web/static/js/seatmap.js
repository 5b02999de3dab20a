// The seat picker: the venue's plan drawn as SVG, each seat's status from the API's seat map
// (the cached snapshot, revalidated by ETag every two seconds), a keyboard list beside it.
import { Problem, json, money, say, show } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 2000;
const root = document.getElementById("picker");
const showId = root.dataset.show;
const limit = Number(root.dataset.limit);
const currency = root.dataset.currency;
const svg = document.getElementById("seatmap");
const back = document.getElementById("map-back");
const message = document.getElementById("picker-message");
const holdButton = document.getElementById("hold");
const sectionSelect = document.getElementById("section-select");
const options = document.getElementById("seat-options");
const chosenList = document.getElementById("chosen");

const gradeIndex = new Map(
  [...document.getElementById("grade-order").content.children].map((n, i) => [n.dataset.code, i]),
);
const seats = new Map(); // id -> {id, section, row, number, grade, price, status, x, y}
const chosen = new Set();
let plan = null, etag = null, focusSection = null;

function label(seat) {
  return say("seat", { section: seat.section, row: seat.row, number: seat.number });
}

function classes(seat) {
  const mine = chosen.has(seat.id);
  const taken = seat.status !== "available" && !mine;
  return `seat grade-${(gradeIndex.get(seat.grade) ?? 0) % 8}${taken ? " taken" : ""}${mine ? " mine" : ""}`;
}

function node(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
  return element;
}

const SEAT_PX = 14; // a seat stays big enough to tap: wide maps scroll sideways on a phone

function frame(x, y, w, h) {
  svg.setAttribute("viewBox", `${x - 1} ${y - 1} ${w + 2} ${h + 2}`);
  svg.style.minWidth = `${Math.min((w + 2) * SEAT_PX, 4000)}px`;
}

function drawSeats(sections) {
  const group = node("g", {});
  for (const section of sections) {
    group.append(node("rect", { x: section.x, y: section.y, width: section.w, height: section.h, class: "section-box" }));
    for (const [id] of section.seats) {
      const seat = seats.get(id);
      if (!seat) continue;
      const dot = node("circle", { cx: seat.x + 0.5, cy: seat.y + 0.5, r: 0.42, class: classes(seat), "data-id": id });
      const title = node("title", {});
      title.textContent = `${label(seat)} · ${money(seat.price, currency)}`;
      dot.append(title);
      group.append(dot);
    }
  }
  svg.replaceChildren(group);
}

function drawOverview() {
  focusSection = null;
  back.hidden = true;
  const group = node("g", {});
  for (const section of plan.sections) {
    const free = section.seats.filter(([id]) => seats.get(id)?.status === "available").length;
    const box = node("g", { class: `section-pick grade-${(gradeIndex.get(section.grade) ?? 0) % 8}`, "data-section": section.name, tabindex: "0", role: "button", "aria-label": `${section.name}: ${say("section_seats", { n: free })}` });
    box.append(node("rect", { x: section.x, y: section.y, width: section.w, height: section.h, rx: 1 }));
    const text = node("text", { x: section.x + section.w / 2, y: section.y + section.h / 2, "text-anchor": "middle", "font-size": Math.max(2, Math.min(section.w, section.h) / 5) });
    text.textContent = `${section.name} · ${free}`;
    box.append(text);
    group.append(box);
  }
  svg.replaceChildren(group);
  frame(0, 0, plan.width, plan.height);
}

function drawSection(name) {
  const section = plan.sections.find((s) => s.name === name);
  if (!section) return;
  focusSection = name;
  back.hidden = false;
  drawSeats([section]);
  frame(section.x, section.y, section.w, section.h);
  sectionSelect.value = name;
  listSection(name);
}

function draw() {
  if (plan.seat_count <= Number(root.dataset.overviewAbove)) {
    drawSeats(plan.sections);
    frame(0, 0, plan.width, plan.height);
  } else if (focusSection) drawSection(focusSection);
  else drawOverview();
}

function listSection(name) {
  const section = plan.sections.find((s) => s.name === name);
  const legend = document.getElementById("seat-options-legend");
  options.replaceChildren(legend);
  if (!section) return;
  for (const [id] of section.seats) {
    const seat = seats.get(id);
    if (!seat) continue;
    const row = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = id;
    box.checked = chosen.has(id);
    box.disabled = seat.status !== "available" && !chosen.has(id);
    row.append(box, ` ${label(seat)} · ${seat.grade} · ${money(seat.price, currency)}${box.disabled ? ` (${say("taken")})` : ""}`);
    options.append(row);
  }
}

function refreshBasket() {
  chosenList.replaceChildren(...[...chosen].map((id) => {
    const item = document.createElement("li");
    const price = document.createElement("span");
    price.className = "price"; // left out of a phone's basket bar, which shows the total
    price.textContent = ` · ${money(seats.get(id).price, currency)}`;
    item.append(label(seats.get(id)), price);
    return item;
  }));
  document.getElementById("chosen-count").textContent = chosen.size;
  const total = [...chosen].reduce((sum, id) => sum + seats.get(id).price, 0);
  document.getElementById("chosen-total").textContent = money(total, currency);
  holdButton.disabled = chosen.size === 0;
}

function restyle(id) {
  const seat = seats.get(id);
  const dot = svg.querySelector(`circle[data-id="${CSS.escape(id)}"]`);
  if (dot) dot.setAttribute("class", classes(seat));
  const box = options.querySelector(`input[value="${CSS.escape(id)}"]`);
  if (box) { box.checked = chosen.has(id); box.disabled = seat.status !== "available" && !chosen.has(id); }
}

function toggle(id) {
  const seat = seats.get(id);
  if (!seat) return;
  show(message, "");
  if (chosen.has(id)) chosen.delete(id);
  else if (seat.status !== "available") return;
  else if (chosen.size >= limit) { show(message, say("limit", { n: limit })); restyle(id); return; }
  else chosen.add(id);
  restyle(id);
  refreshBasket();
}

async function statuses() {
  const headers = etag ? { "If-None-Match": etag } : {};
  const response = await fetch(`/api/v1/shows/${encodeURIComponent(showId)}/seats`, { headers });
  if (response.status === 304) return false;
  if (!response.ok) throw new Problem(response.status, await response.json().catch(() => ({})));
  etag = response.headers.get("ETag");
  const body = await response.json();
  const changed = [];
  for (const s of body.seats) {
    const known = seats.get(s.id);
    if (known && known.status !== s.status) { known.status = s.status; changed.push(s.id); }
    else if (!known) seats.set(s.id, { ...s, x: 0, y: 0 });
  }
  return changed;
}

async function live() {
  try {
    const changed = await statuses();
    if (changed && changed.length) {
      let lost = false;
      for (const id of changed) {
        if (chosen.has(id) && seats.get(id).status !== "available") { chosen.delete(id); lost = true; }
        restyle(id);
      }
      if (lost) { refreshBasket(); show(message, say("seat_taken")); }
      if (plan.seat_count > Number(root.dataset.overviewAbove) && !focusSection) drawOverview();
      root.dataset.version = etag;
    }
  } catch { /* the next round tries again */ }
  setTimeout(live, REFRESH_MS);
}

function admissionToken() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(`bo.admission.${showId}`));
    return kept && (!kept.expires_at || Date.parse(kept.expires_at) > Date.now()) ? kept.token : null;
  } catch { return null; }
}

// A refused hold, whoever chose the seats: what the fan is told, and the map brought up to date.
function refused(error) {
  if (!(error instanceof Problem)) show(message, say("error"));
  else if (error.code === "seat_unavailable") {
    for (const id of error.body.seat_ids || []) { const s = seats.get(id); if (s) s.status = "held"; chosen.delete(id); restyle(id); }
    // The API offers as many free seats side by side (docs/seating.md): choose them for
    // the fan, who holds them with one more press or picks others.
    const offered = (error.body.suggested_seat_ids || []).filter((id) => seats.has(id));
    if (offered.length) {
      for (const id of [...chosen]) { chosen.delete(id); restyle(id); }
      for (const id of offered) { seats.get(id).status = "available"; chosen.add(id); restyle(id); }
    }
    refreshBasket();
    show(message, say(offered.length ? "seat_offered" : "seat_taken"));
  } else if (error.code === "admission_required" || error.code === "admission_invalid") {
    location.assign(root.dataset.queueUrl);
  } else if (error.code === "purchase_limit_exceeded") show(message, error.message || say("limit", { n: limit }));
  else if (error.code === "sale_not_open") show(message, say("sale_not_open"));
  else show(message, error.message);
}

async function hold(body) {
  show(message, say("holding"));
  const headers = {};
  const token = admissionToken();
  if (token) headers["X-Admission-Token"] = token;
  const held = await json(`/shows/${encodeURIComponent(showId)}/holds`, { method: "POST", headers, json: body });
  location.assign(`/checkout/${encodeURIComponent(held.hold_id)}`);
}

holdButton.addEventListener("click", async () => {
  holdButton.disabled = true;
  try {
    await hold({ seat_ids: [...chosen] });
  } catch (error) {
    refused(error);
    holdButton.disabled = chosen.size === 0;
  }
});

// The shop chooses: as many seats side by side as asked for, of a grade or any (docs/seating.md).
const bestForm = document.getElementById("best-form");
bestForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("best-hold");
  const quantity = Number(document.getElementById("best-quantity").value);
  const grade = document.getElementById("best-grade").value;
  button.disabled = true;
  try {
    await hold({ best_available: grade ? { quantity, grade } : { quantity } });
  } catch (error) {
    if (error instanceof Problem && error.code === "seat_unavailable") show(message, say("best_none", { n: quantity }));
    else refused(error);
    button.disabled = false;
  }
});

svg.addEventListener("click", (event) => {
  const dot = event.target.closest("circle[data-id]");
  if (dot) { toggle(dot.dataset.id); return; }
  const section = event.target.closest("[data-section]");
  if (section) drawSection(section.dataset.section);
});
svg.addEventListener("keydown", (event) => {
  const section = event.target.closest("[data-section]");
  if (section && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); drawSection(section.dataset.section); }
});
back.addEventListener("click", () => drawOverview());
options.addEventListener("change", (event) => { if (event.target.matches("input[type=checkbox]")) toggle(event.target.value); });
sectionSelect.addEventListener("change", () => {
  if (plan.seat_count > Number(root.dataset.overviewAbove)) drawSection(sectionSelect.value);
  else listSection(sectionSelect.value);
});

async function start() {
  const [planResponse] = await Promise.all([fetch(`/shows/${encodeURIComponent(showId)}/seatplan.json`), statuses()]);
  plan = await planResponse.json();
  for (const section of plan.sections) {
    for (const [id, , , x, y] of section.seats) { const s = seats.get(id); if (s) { s.x = x; s.y = y; } }
    const option = document.createElement("option");
    option.value = option.textContent = section.name;
    sectionSelect.append(option);
  }
  if (plan.sections.length) listSection(plan.sections[0].name);
  draw();
  document.getElementById("map-loading").hidden = true;
  root.dataset.ready = String(Math.round(performance.now()));
  root.dataset.version = etag;
  refreshBasket();
  setTimeout(live, REFRESH_MS);
}

start().catch(() => show(message, say("error")));
