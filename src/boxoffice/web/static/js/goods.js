// The event's goods, through the merch API: the products with their variants and stock
// (GET /events/{id}/products: the event's seller sees the stock), a new product with its
// variants (POST /events/{id}/products), name, description, price and status (PATCH
// /products/{id}, the changed fields only), stock changed by a delta with a reason
// (POST /products/{id}/variants/{sku}/stock: never below zero, recorded), images
// (POST /products/{id}/images).
import { Problem, call, json, money, say, session, show } from "./api.js";
import { cell, fail, refused } from "./console.js";

const root = document.getElementById("goods");
const eventId = root.dataset.event;
const products = document.getElementById("products");
const template = document.getElementById("product-template");
const variantRows = document.querySelector("#variant-rows tbody");
let event = null;

function explain(error) {
  if (!(error instanceof Problem)) return say("error");
  const first = (error.body.errors || [])[0];
  return first ? `${error.message} (${first.msg})` : error.message;
}

function input(attrs) {
  const field = document.createElement("input");
  Object.assign(field, attrs);
  return field;
}

function addVariantRow(sku = "", option = "", stock = 0) {
  const tr = document.createElement("tr");
  const n = variantRows.children.length + 1;
  cell(tr, input({ name: "sku", value: sku, required: true, maxLength: 64, ariaLabel: `SKU ${n}` }));
  cell(tr, input({ name: "option", value: option, required: true, maxLength: 100, ariaLabel: `${say("option")} ${n}` }));
  cell(tr, input({ name: "stock", value: stock, type: "number", min: 0, max: 1000000, required: true, ariaLabel: `${say("stock")} ${n}` }));
  variantRows.append(tr);
}

function variantRow(product, variant) {
  const tr = document.createElement("tr");
  tr.dataset.sku = variant.sku;
  cell(tr, variant.sku).className = "mono";
  cell(tr, variant.option);
  cell(tr, String(variant.stock ?? "–")).dataset.stock = variant.sku;
  const form = document.createElement("form");
  form.className = "filters";
  form.dataset.adjust = variant.sku;
  form.append(
    input({ name: "delta", type: "number", min: -1000000, max: 1000000, required: true, ariaLabel: `${say("stock_change")} ${variant.sku}` }),
    input({ name: "reason", value: say("stock_reason"), required: true, maxLength: 200, ariaLabel: `${say("stock_reason_label")} ${variant.sku}` }),
  );
  const apply = document.createElement("button");
  apply.type = "submit";
  apply.textContent = say("apply");
  form.append(apply);
  form.addEventListener("submit", (submitted) => { submitted.preventDefault(); adjust(product, variant.sku, form); });
  cell(tr, form);
  return tr;
}

function productCard(product) {
  const card = template.content.firstElementChild.cloneNode(true);
  card.dataset.product = product.id;
  card.querySelector("[data-field=name]").textContent = `${product.name} · ${money(product.price, product.currency)}`;
  const edit = card.querySelector("[data-form=edit]");
  for (const field of edit.querySelectorAll("[data-input]")) {
    field.id = `${field.dataset.input}-${product.id}`;
    field.value = product[field.dataset.input];
  }
  for (const label of card.querySelectorAll("label[data-for]")) label.htmlFor = `${label.dataset.for}-${product.id}`;
  edit.addEventListener("submit", (submitted) => { submitted.preventDefault(); update(product, edit); });
  card.querySelector("[data-field=variants] tbody").append(...product.variants.map((v) => variantRow(product, v)));
  const image = card.querySelector("[data-form=image]");
  image.querySelector("[data-input=file]").id = `file-${product.id}`;
  image.addEventListener("submit", (submitted) => { submitted.preventDefault(); upload(product, image); });
  card.querySelector("[data-field=images]").append(...(product.images || []).map((img) => {
    const item = document.createElement("li");
    const tag = document.createElement("img");
    tag.src = img.thumbnail_url;
    tag.alt = product.name;
    item.append(tag);
    return item;
  }));
  return card;
}

async function load() {
  try {
    event = await json(`/events/${encodeURIComponent(eventId)}`);
    const mine = session();
    if (mine && mine.role !== "admin" && event.seller_id !== mine.id) { refused(new Problem(403, {})); return; }
    root.querySelector("[data-field=title]").textContent = event.title;
    const list = (await json(`/events/${encodeURIComponent(eventId)}/products`)).items;
    products.replaceChildren(...list.map(productCard));
    root.querySelector("[data-empty]").hidden = list.length > 0;
    root.dataset.loaded = String(Date.now());
  } catch (error) { fail(error); }
}

async function act(card, work) {
  const message = card.querySelector("[data-field=message]");
  try {
    await work();
    await load();
    const fresh = products.querySelector(`[data-product="${card.dataset.product}"] [data-field=message]`);
    if (fresh) show(fresh, say("saved"));
  } catch (error) {
    if (!refused(error)) show(message, explain(error));
  }
}

// Only the fields that changed are sent, as the event editor does.
function update(product, form) {
  const data = new FormData(form);
  const now = { name: data.get("name").trim(), description: form.querySelector("[data-input=description]").value, price: Number(data.get("price")), status: data.get("status") };
  const patch = Object.fromEntries(Object.entries(now).filter(([key, value]) => value !== product[key]));
  if (Object.keys(patch).length === 0) { show(form.closest(".product").querySelector("[data-field=message]"), say("saved")); return; }
  return act(form.closest(".product"), () => json(`/products/${encodeURIComponent(product.id)}`, { method: "PATCH", json: patch }));
}

function adjust(product, sku, form) {
  const data = new FormData(form);
  const body = { delta: Number(data.get("delta")), reason: data.get("reason").trim() };
  const path = `/products/${encodeURIComponent(product.id)}/variants/${encodeURIComponent(sku)}/stock`;
  return act(form.closest(".product"), () => json(path, { method: "POST", json: body }));
}

function upload(product, form) {
  return act(form.closest(".product"), async () => {
    const response = await call(`/products/${encodeURIComponent(product.id)}/images`, { method: "POST", body: new FormData(form) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Problem(response.status, body);
  });
}

document.getElementById("add-variant").addEventListener("click", () => addVariantRow());
document.getElementById("product-new").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const form = submitted.target;
  const data = new FormData(form);
  const variants = [...variantRows.children].map((tr) => ({
    sku: tr.querySelector("[name=sku]").value.trim(),
    option: tr.querySelector("[name=option]").value.trim(),
    stock: Number(tr.querySelector("[name=stock]").value),
  }));
  const body = { name: data.get("name").trim(), description: data.get("description"), price: Number(data.get("price")), variants };
  const message = document.getElementById("product-message");
  try {
    await json(`/events/${encodeURIComponent(eventId)}/products`, { method: "POST", json: body });
  } catch (error) {
    if (!refused(error)) show(message, explain(error));
    return;
  }
  form.reset();
  variantRows.replaceChildren();
  addVariantRow();
  show(message, say("saved"));
  await load();
});

addVariantRow();
load();
