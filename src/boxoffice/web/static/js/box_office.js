// The box office: seats kept back from the sale (house, press, partners). The map is the
// public one (GET /shows/{id}/seats, where a kept seat reads "sold"), the kept ones are
// the seller's list (GET /shows/{id}/blocks); the seller selects seats and keeps them back
// (POST /shows/{id}/blocks, all or nothing) or puts them back on sale (/blocks/release).
import { Problem, json, say, show } from "./api.js";
import { fail } from "./console.js";

const root = document.getElementById("box-office");
const showId = encodeURIComponent(root.dataset.show);
const map = document.getElementById("house-map");
const note = document.getElementById("block-message");
const selected = new Set();
let states = new Map(); // seat id -> "available" | "blocked" | "taken"

function seatName(seat) {
  return say("seat", { section: seat.section, row: seat.row, number: seat.number });
}

function seatButton(seat, state) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = seat.number;
  b.className = state;
  b.dataset.seat = seat.id;
  b.dataset.state = state;
  b.disabled = state === "taken";
  b.setAttribute("aria-pressed", String(selected.has(seat.id)));
  b.setAttribute("aria-label", `${seatName(seat)}, ${seat.grade}, ${say(`state_${state}`)}`);
  b.title = b.getAttribute("aria-label");
  return b;
}

function draw(seats) {
  const rows = new Map();
  for (const seat of seats) {
    const key = `${seat.section}\u0000${seat.row}`;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(seat);
  }
  map.replaceChildren();
  for (const row of rows.values()) {
    const line = document.createElement("div");
    line.className = "seat-row";
    const label = document.createElement("span");
    label.className = "row-label";
    label.textContent = `${row[0].section} ${row[0].row}`;
    line.append(label, ...row.map((seat) => seatButton(seat, states.get(seat.id))));
    map.append(line);
  }
  const count = (state) => [...states.values()].filter((s) => s === state).length;
  for (const state of ["available", "blocked", "taken"]) document.getElementById(`count-${state}`).textContent = String(count(state));
  document.getElementById("selected-count").textContent = selected.size ? `(${selected.size})` : "";
}

async function load() {
  let seatMap, blocks;
  try {
    blocks = await json(`/shows/${showId}/blocks`); // the seller's (403/404 otherwise)
    seatMap = await json(`/shows/${showId}/seats`);
  } catch (error) { fail(error); return; }
  const kept = new Set(blocks.map((b) => b.seat_id));
  states = new Map(seatMap.seats.map((seat) => [
    seat.id, kept.has(seat.id) ? "blocked" : seat.status === "available" ? "available" : "taken",
  ]));
  for (const id of [...selected]) if (states.get(id) === "taken" || !states.has(id)) selected.delete(id);
  draw(seatMap.seats);
  root.dataset.loaded = String(Date.now());
}

async function act(path, state, body, done) {
  const ids = [...selected].filter((id) => states.get(id) === state);
  if (ids.length === 0) { show(note, say("pick_first")); return; }
  try {
    const result = await json(`/shows/${showId}/${path}`, { method: "POST", json: { seat_ids: ids, ...body } });
    for (const id of ids) selected.delete(id);
    show(note, say(done, { n: result.seat_ids.length }));
  } catch (error) {
    if (refusedHere(error)) return;
    const taken = error instanceof Problem && error.body.seat_ids ? ` (${error.body.seat_ids.length})` : "";
    show(note, error instanceof Problem ? `${error.message}${taken}` : say("error"));
  }
  await load();
}

function refusedHere(error) {
  if (error instanceof Problem && (error.status === 403 || error.status === 404)) { fail(error); return true; }
  return false;
}

map.addEventListener("click", (event) => {
  const b = event.target.closest("button[data-seat]");
  if (!b || b.disabled) return;
  const id = b.dataset.seat;
  if (selected.has(id)) selected.delete(id); else selected.add(id);
  b.setAttribute("aria-pressed", String(selected.has(id)));
  document.getElementById("selected-count").textContent = selected.size ? `(${selected.size})` : "";
});

document.getElementById("block-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = document.getElementById("block-reason").value.trim() || "house";
  act("blocks", "available", { reason }, "blocked_n");
});
document.getElementById("release-seats").addEventListener("click", () => act("blocks/release", "blocked", {}, "released_n"));
load();
