// A new event in two steps, through the API: the venue (sections of rows, with a live SVG
// preview of the seat map, POST /venues), then the event with its prices, sale window,
// line and shows (POST /events, /events/{id}/shows, /events/{id}/publish).
// Grades come from the section, and can be painted seat by seat on the preview: select
// seats (Shift: a whole row), then give them a grade or mark them as no seat. Painted
// seats are sent as the venue API's per-seat grades; a row without paint stays a count.
import { Problem, json, say, show } from "./api.js";
import { button, cell, fail } from "./console.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const body = document.querySelector("#sections tbody");
let venue = null;
let nextSection = 1;
// Paint, by seat key "<section id>:<row index in the section>:<seat number>": a grade, or
// null for no seat. Kept across edits of the table; seats a resize removes are ignored.
const paint = new Map();
const selected = new Set();

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
  tr.dataset.section = String(nextSection++);
  const n = body.children.length + 1;
  cell(tr, input("name", name || `${n}`, { required: true, maxLength: 64, ariaLabel: `${say("section")} ${n}` }));
  cell(tr, input("grade", grade, { required: true, maxLength: 16, ariaLabel: `${say("grade")} ${n}` }));
  cell(tr, input("rows", rows, { type: "number", min: 1, max: 200, ariaLabel: `${say("rows")} ${n}` }));
  cell(tr, input("seats", seats, { type: "number", min: 1, max: 500, ariaLabel: `${say("seats")} ${n}` }));
  cell(tr, button(say("remove"), { remove: "1" }));
  body.append(tr);
  preview();
}

// The table and the paint as drawn: each seat with its key and grade (null: no seat).
function layout() {
  let row = 0;
  return [...body.children].map((tr) => {
    const value = (name) => tr.querySelector(`[name=${name}]`).value.trim();
    const rows = Math.max(1, Number(value("rows")) || 1);
    const seats = Math.max(1, Number(value("seats")) || 1);
    const grade = value("grade");
    return {
      name: value("name"),
      grade,
      rows: Array.from({ length: rows }, (_, r) => ({
        label: rowLabel(row++),
        seats: Array.from({ length: seats }, (_, i) => {
          const key = `${tr.dataset.section}:${r}:${i + 1}`;
          return { key, number: i + 1, grade: paint.has(key) ? paint.get(key) : grade };
        }),
      })),
    };
  });
}

// The venue API's body: an unpainted row is a count, a painted one its seats, each with
// its grade where it differs from the section's; a row left with no seat is not sent.
function sections() {
  return layout().map((section) => ({
    name: section.name,
    grade: section.grade,
    rows: section.rows.flatMap((row) => {
      const seats = row.seats.filter((seat) => seat.grade !== null);
      if (!seats.length) return [];
      if (seats.length === row.seats.length && seats.every((seat) => seat.grade === section.grade)) {
        return [{ label: row.label, seats: row.seats.length }];
      }
      return [{ label: row.label, seats: seats.map((seat) => (seat.grade === section.grade ? { number: seat.number } : { number: seat.number, grade: seat.grade })) }];
    }),
  }));
}

function preview() {
  const svg = document.getElementById("venue-preview");
  const ns = "http://www.w3.org/2000/svg";
  const all = layout();
  const grades = [...new Set(all.flatMap((s) => [s.grade, ...s.rows.flatMap((r) => r.seats.map((seat) => seat.grade))]).filter((g) => g))];
  const widest = Math.max(1, ...all.flatMap((s) => s.rows.map((r) => r.seats.length)));
  const step = Math.min(12, 380 / widest);
  let y = 16;
  let total = 0;
  svg.replaceChildren();
  const stage = document.createElementNS(ns, "rect");
  for (const [k, v] of Object.entries({ x: 100, y: 0, width: 200, height: 8, class: "stage" })) stage.setAttribute(k, String(v));
  svg.append(stage);
  const keys = new Set();
  for (const section of all) {
    for (const row of section.rows) {
      const left = 200 - (row.seats.length * step) / 2;
      row.seats.forEach((seat, i) => {
        const dot = document.createElementNS(ns, "circle");
        dot.setAttribute("cx", String(left + i * step + step / 2));
        dot.setAttribute("cy", String(y));
        dot.setAttribute("r", String(Math.max(1, step / 2 - 1)));
        const look = seat.grade === null ? "gap" : `g${grades.indexOf(seat.grade) % 8}`;
        dot.setAttribute("class", `seatdot ${look}${selected.has(seat.key) ? " selected" : ""}`);
        dot.dataset.key = seat.key;
        dot.dataset.row = seat.key.slice(0, seat.key.lastIndexOf(":"));
        dot.dataset.grade = seat.grade ?? "";
        svg.append(dot);
        keys.add(seat.key);
        if (seat.grade !== null) total += 1;
      });
      y += step;
    }
    y += step;
  }
  for (const key of [...selected]) if (!keys.has(key)) selected.delete(key);
  svg.setAttribute("viewBox", `0 0 400 ${Math.max(40, y)}`);
  svg.dataset.seats = String(total);
  document.getElementById("seat-total").textContent = `(${total})`;
  const count = document.getElementById("selection-count");
  count.textContent = selected.size ? count.dataset.template.replace("{n}", String(selected.size)) : "";
  const legend = document.getElementById("grade-legend");
  legend.replaceChildren(...grades.map((grade, i) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch g${i % 8}`;
    item.append(swatch, ` ${grade}`);
    return item;
  }));
}

function select(event) {
  const dot = event.target.closest("circle[data-key]");
  if (!dot) return;
  const keys = event.shiftKey
    ? [...document.querySelectorAll(`#venue-preview circle[data-row="${dot.dataset.row}"]`)].map((d) => d.dataset.key)
    : [dot.dataset.key];
  const on = !selected.has(dot.dataset.key);
  for (const key of keys) if (on) selected.add(key); else selected.delete(key);
  preview();
}

function paintSelected(grade) {
  for (const key of selected) paint.set(key, grade);
  selected.clear();
  preview();
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
    show(document.getElementById("venue-message"), explain(error)); return;
  }
  show(document.getElementById("venue-message"), say("saved"));
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
    show(document.getElementById("event-message"), explain(error));
  }
}

body.addEventListener("input", preview);
body.addEventListener("click", (event) => {
  if (event.target.closest("[data-remove]") && body.children.length > 1) { event.target.closest("tr").remove(); preview(); }
});
document.getElementById("add-section").addEventListener("click", () => addSection("", "R"));
document.getElementById("venue-preview").addEventListener("click", select);
document.getElementById("paint-selected").addEventListener("click", () => {
  const grade = document.getElementById("paint-grade").value.trim();
  if (grade) paintSelected(grade);
});
document.getElementById("no-seat").addEventListener("click", () => paintSelected(null));
document.getElementById("clear-selection").addEventListener("click", () => { selected.clear(); preview(); });
document.getElementById("save-venue").addEventListener("click", saveVenue);
document.getElementById("add-show").addEventListener("click", addShow);
document.getElementById("event-form").addEventListener("submit", createEvent);
addSection("Floor", "VIP", 2, 10);
addSection("Balcony", "R", 3, 12);
addShow();
addShow();
