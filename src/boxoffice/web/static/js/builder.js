// A new event in two steps, through the API: the venue (sections of rows, with a live SVG
// preview of the seat map, POST /venues), then the event with its prices, sale window,
// line and shows (POST /events, /events/{id}/shows, /events/{id}/publish).
import { Problem, json, say } from "./api.js";
import { button, cell, fail } from "./console.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const body = document.querySelector("#sections tbody");
let venue = null;

function rowLabel(index) {
  return index < 26 ? LETTERS[index] : LETTERS[Math.floor(index / 26) - 1] + LETTERS[index % 26];
}

function input(name, value, attrs = {}) {
  const field = document.createElement("input");
  field.name = name;
  field.value = value;
  Object.assign(field, attrs);
  return field;
}

function addSection(name = "", grade = "R", rows = 2, seats = 10) {
  const tr = document.createElement("tr");
  const n = body.children.length + 1;
  cell(tr, input("name", name || `${n}`, { required: true, maxLength: 64, ariaLabel: `${say("section")} ${n}` }));
  cell(tr, input("grade", grade, { required: true, maxLength: 16, ariaLabel: `${say("grade")} ${n}` }));
  cell(tr, input("rows", rows, { type: "number", min: 1, max: 200, ariaLabel: `${say("rows")} ${n}` }));
  cell(tr, input("seats", seats, { type: "number", min: 1, max: 500, ariaLabel: `${say("seats")} ${n}` }));
  cell(tr, button(say("remove"), { remove: "1" }));
  body.append(tr);
  preview();
}

function sections() {
  let row = 0;
  return [...body.children].map((tr) => {
    const value = (name) => tr.querySelector(`[name=${name}]`).value.trim();
    const rows = Math.max(1, Number(value("rows")) || 1);
    const seats = Math.max(1, Number(value("seats")) || 1);
    return { name: value("name"), grade: value("grade"), rows: Array.from({ length: rows }, () => ({ label: rowLabel(row++), seats })) };
  });
}

function preview() {
  const svg = document.getElementById("venue-preview");
  const ns = "http://www.w3.org/2000/svg";
  const all = sections();
  const grades = [...new Set(all.map((s) => s.grade))];
  const widest = Math.max(1, ...all.flatMap((s) => s.rows.map((r) => r.seats)));
  const step = Math.min(12, 380 / widest);
  let y = 16;
  let total = 0;
  svg.replaceChildren();
  const stage = document.createElementNS(ns, "rect");
  for (const [k, v] of Object.entries({ x: 100, y: 0, width: 200, height: 8, class: "stage" })) stage.setAttribute(k, String(v));
  svg.append(stage);
  for (const section of all) {
    for (const row of section.rows) {
      const left = 200 - (row.seats * step) / 2;
      for (let i = 0; i < row.seats; i++) {
        const dot = document.createElementNS(ns, "circle");
        dot.setAttribute("cx", String(left + i * step + step / 2));
        dot.setAttribute("cy", String(y));
        dot.setAttribute("r", String(Math.max(1, step / 2 - 1)));
        dot.setAttribute("class", `seatdot g${grades.indexOf(section.grade) % 8}`);
        svg.append(dot);
      }
      total += row.seats;
      y += step;
    }
    y += step;
  }
  svg.setAttribute("viewBox", `0 0 400 ${Math.max(40, y)}`);
  svg.dataset.seats = String(total);
  document.getElementById("seat-total").textContent = `(${total})`;
}

function message(id, text) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.hidden = !text;
}

function explain(error) {
  if (!(error instanceof Problem)) return say("error");
  const first = (error.body.errors || [])[0];
  return first ? `${error.message} (${first.msg})` : error.message;
}

async function saveVenue() {
  const payload = {
    name: document.getElementById("venue-name").value.trim(),
    address: document.getElementById("venue-address").value.trim(),
    sections: sections(),
  };
  try {
    venue = await json("/venues", { method: "POST", json: payload });
  } catch (error) {
    if (error instanceof Problem && error.status === 403) { fail(error); return; }
    message("venue-message", explain(error)); return;
  }
  message("venue-message", say("saved"));
  document.getElementById("venue-builder").dataset.venue = venue.id;
  for (const field of document.querySelectorAll("#venue-builder input, #venue-builder button")) field.disabled = true;
  const prices = document.getElementById("grade-prices");
  prices.replaceChildren();
  for (const grade of venue.grades) {
    const label = document.createElement("label");
    label.htmlFor = `price-${grade}`;
    label.textContent = grade;
    prices.append(label, input("price", "", { id: `price-${grade}`, type: "number", min: 0, required: true }));
    prices.lastChild.dataset.grade = grade;
  }
  const categories = await json("/categories");
  document.getElementById("category").replaceChildren(...categories.filter((c) => c.active).map((c) => new Option(c.name, c.code)));
  document.getElementById("event-form").hidden = false;
  document.getElementById("title").focus();
}

function addShow() {
  const box = document.getElementById("show-times");
  const n = box.children.length + 1;
  const label = document.createElement("label");
  label.textContent = `${say("show")} ${n}`;
  const field = input("starts_at", "", { type: "datetime-local", required: true });
  label.append(" ", field);
  box.append(label);
}

const kst = (local) => `${local}:00+09:00`;

async function createEvent(event) {
  event.preventDefault();
  const grades = [...document.querySelectorAll("#grade-prices input")].map((field) => ({
    code: field.dataset.grade, name: field.dataset.grade, price: Number(field.value),
  }));
  const payload = {
    title: document.getElementById("title").value.trim(),
    description: document.getElementById("description").value,
    category: document.getElementById("category").value,
    venue_id: venue.id,
    grades,
    sale_opens_at: kst(document.getElementById("opens").value),
    sale_closes_at: kst(document.getElementById("closes").value),
    max_tickets_per_user: Number(document.getElementById("per-buyer").value),
    queue: { enabled: document.getElementById("queue-on").checked, admit_per_second: Number(document.getElementById("queue-rate").value) },
  };
  try {
    const created = await json("/events", { method: "POST", json: payload });
    for (const field of document.querySelectorAll("#show-times input")) {
      if (field.value) await json(`/events/${created.id}/shows`, { method: "POST", json: { starts_at: kst(field.value) } });
    }
    if (document.getElementById("publish").checked) await json(`/events/${created.id}/publish`, { method: "POST" });
    location.assign(`/console/events/${encodeURIComponent(created.id)}`);
  } catch (error) {
    message("event-message", explain(error));
  }
}

body.addEventListener("input", preview);
body.addEventListener("click", (event) => {
  if (event.target.closest("[data-remove]") && body.children.length > 1) { event.target.closest("tr").remove(); preview(); }
});
document.getElementById("add-section").addEventListener("click", () => addSection("", "R"));
document.getElementById("save-venue").addEventListener("click", saveVenue);
document.getElementById("add-show").addEventListener("click", addShow);
document.getElementById("event-form").addEventListener("submit", createEvent);
addSection("Floor", "VIP", 2, 10);
addSection("Balcony", "R", 3, 12);
addShow();
addShow();
