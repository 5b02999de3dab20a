// The admin's desk, over the admin API: users (search, approve sellers), dead letters
// (retry), batch jobs (run now), and the platform's health at a glance.
import { json, say, when } from "./api.js";
import { button, cell, fail, pagedTable } from "./console.js";

const ROLES = ["customer", "seller", "staff", "admin"];

// A role is changed in place (PATCH /admin/users/{id} {role}); the API refuses what it
// must (an admin demoting the last admin, say) and the select goes back with the reason.
function roleSelect(user) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", say("role_of", { email: user.email }));
  select.dataset.user = user.id;
  select.append(...ROLES.map((role) => new Option(say(`role_${role}`), role, false, role === user.role)));
  select.dataset.current = user.role;
  select.addEventListener("change", () => patchUser(select, { role: select.value }));
  return select;
}

async function patchUser(control, changes) {
  const message = document.getElementById("user-message");
  control.disabled = true;
  try {
    await json(`/admin/users/${encodeURIComponent(control.dataset.user)}`, { method: "PATCH", json: changes });
    message.textContent = say("saved");
    message.hidden = false;
    await reloadUsers(true);
  } catch (error) {
    if (control.dataset.current) control.value = control.dataset.current;
    control.disabled = false;
    fail(error, message);
  }
}

function userRow(user) {
  const tr = document.createElement("tr");
  tr.dataset.user = user.id;
  cell(tr, user.email);
  cell(tr, user.name);
  cell(tr, roleSelect(user));
  cell(tr, user.seller_status ? say(`seller_${user.seller_status}`) : "–");
  const actions = document.createElement("span");
  actions.className = "links";
  if (user.seller_status === "pending") {
    actions.append(button(say("approve"), { approve: user.id }), button(say("reject"), { user: user.id, sellerStatus: "rejected" }));
  } else if (user.seller_status === "approved") {
    actions.append(button(say("withdraw"), { user: user.id, sellerStatus: "rejected" }));
  } else if (user.seller_status === "rejected") {
    actions.append(button(say("approve"), { approve: user.id }));
  }
  cell(tr, actions);
  return tr;
}

const reloadUsers = pagedTable(document.getElementById("users"), document.getElementById("user-search"), "/admin/users", userRow);

// An empty list says so in its one row, as the paged lists do under theirs.
function nothing(table) {
  const tr = document.createElement("tr");
  cell(tr, say("none"));
  Object.assign(tr.firstChild, { colSpan: table.querySelectorAll("thead th").length, className: "muted" });
  return tr;
}

// A table filled at once from an API list (a plain list, or a page's items), one row each.
async function fillTable(id, url, row) {
  const table = document.getElementById(id);
  try {
    const list = await json(url);
    const items = Array.isArray(list) ? list : list.items;
    table.querySelector("tbody").replaceChildren(...(items.length ? items.map(row) : [nothing(table)]));
    table.dataset.loaded = "1";
  } catch (error) { fail(error); }
}

async function categories() {
  await fillTable("categories", "/admin/categories", (category) => {
    const tr = document.createElement("tr");
    tr.dataset.category = category.code;
    cell(tr, category.code);
    const name = document.createElement("input");
    name.value = category.name;
    name.maxLength = 100;
    name.setAttribute("aria-label", `${category.code}: ${say("name")}`);
    name.addEventListener("change", () => saveCategory(category.code, { name: name.value }, name));
    cell(tr, name);
    cell(tr, String(category.position));
    cell(tr, say(category.active ? "yes" : "no"));
    cell(tr, button(say(category.active ? "hide" : "unhide"), { category: category.code, active: String(!category.active) }));
    return tr;
  });
}

async function saveCategory(code, changes, control) {
  control.disabled = true;
  try {
    await json(`/categories/${encodeURIComponent(code)}`, { method: "PATCH", json: changes });
    await categories();
  } catch (error) { fail(error); control.disabled = false; }
}

document.getElementById("category-new").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  try {
    const body = { code: data.get("code"), name: data.get("name"), position: Number(data.get("position") || 0) };
    await json("/categories", { method: "POST", json: body });
    form.reset();
    await categories();
  } catch (error) { fail(error); }
});

async function deadLetters() {
  await fillTable("dead-letters", "/admin/dead-letters?status=dead", (letter) => {
    const tr = document.createElement("tr");
    cell(tr, letter.kind);
    cell(tr, letter.event_type);
    cell(tr, letter.consumer);
    cell(tr, letter.last_error);
    cell(tr, button(say("retry"), { retry: letter.id }));
    return tr;
  });
}

async function jobs() {
  await fillTable("jobs", "/admin/jobs", (job) => {
    const tr = document.createElement("tr");
    cell(tr, job.name);
    cell(tr, job.schedule);
    cell(tr, job.last_run ? `${job.last_run.status} · ${when(job.last_run.started_at)}` : "–");
    cell(tr, button(say("run"), { run: job.name }));
    return tr;
  });
}

async function health() {
  const list = document.getElementById("health");
  const item = (name, ok) => {
    const li = document.createElement("li");
    li.textContent = `${name}: ${ok}`;
    li.className = ok === "ok" || ok === "up" ? "ok" : "bad";
    return li;
  };
  const ready = await fetch("/ready").then((r) => r.json()).catch(() => ({}));
  const batch = await json("/batch/health").catch(() => ({ status: "down" }));
  const checks = ready.checks || {};
  list.replaceChildren(
    ...Object.entries(checks).map(([name, value]) => item(name, typeof value === "object" ? value.status : String(value))),
    item("batch", batch.status),
  );
}

document.addEventListener("click", async (event) => {
  const status = event.target.closest("button[data-seller-status]");
  if (status) { patchUser(status, { seller_status: status.dataset.sellerStatus }); return; }
  const target = event.target.closest("button[data-approve], button[data-retry], button[data-run], button[data-category]");
  if (!target) return;
  if (target.dataset.category) {
    await saveCategory(target.dataset.category, { active: target.dataset.active === "true" }, target);
    return;
  }
  target.disabled = true;
  try {
    if (target.dataset.approve) {
      await json(`/admin/users/${encodeURIComponent(target.dataset.approve)}`, { method: "PATCH", json: { seller_status: "approved" } });
      target.replaceWith(say("approved"));
      reloadUsers(true);
    } else if (target.dataset.retry) {
      await json(`/admin/dead-letters/${encodeURIComponent(target.dataset.retry)}/retry`, { method: "POST" });
      target.replaceWith(say("started"));
      deadLetters();
    } else {
      await json(`/admin/jobs/${encodeURIComponent(target.dataset.run)}/run`, { method: "POST" });
      target.replaceWith(say("started"));
    }
  } catch (error) { fail(error); target.disabled = false; }
});

categories();
deadLetters();
jobs();
health();
