// The API as the pages use it: the session's tokens (kept in this browser), Bearer on every
// call, one refresh at a time across tabs, problem+json errors as exceptions.
const KEY = "bo.session";
const API = "/api/v1";

export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "error";
    this.body = body;
  }
}

export function session() {
  try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
}

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

export function keep(pair) {
  const c = claims(pair.access_token);
  const value = { access: pair.access_token, refresh: pair.refresh_token, exp: c.exp, id: c.sub, email: c.email, role: c.role };
  localStorage.setItem(KEY, JSON.stringify(value));
  return value;
}

export function forget() { localStorage.removeItem(KEY); }

async function refreshed(stale) {
  // Web Locks: two tabs never spend the same refresh token (a reuse revokes the login).
  const run = async () => {
    const now = session();
    if (!now) return null;
    if (now.access !== stale.access) return now; // another tab refreshed already
    const response = await fetch(`${API}/auth/refresh`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: now.refresh }),
    });
    if (!response.ok) { forget(); return null; }
    return keep(await response.json());
  };
  return navigator.locks ? navigator.locks.request("bo.refresh", run) : run();
}

async function token() {
  let s = session();
  if (s && s.exp * 1000 - Date.now() < 60_000) s = await refreshed(s);
  return s ? s.access : null;
}

// fetch() with the access token; retries once after a refresh when the token was refused.
export async function call(path, options = {}) {
  const url = path.startsWith("/") && !path.startsWith(API) && !path.startsWith("/fragments") ? API + path : path;
  const send = async (access) => {
    const headers = new Headers(options.headers || {});
    if (access) headers.set("Authorization", `Bearer ${access}`);
    if (options.json !== undefined) headers.set("content-type", "application/json");
    return fetch(url, { ...options, headers, body: options.json !== undefined ? JSON.stringify(options.json) : options.body });
  };
  let access = await token();
  let response = await send(access);
  if (response.status === 401 && access) {
    const s = await refreshed(session() || {});
    if (s) response = await send(s.access);
  }
  if (response.status === 503) {
    // A backend was busy: nothing was done (the API's promise), so once more after the wait
    // it asks for. Orders carry an Idempotency-Key and payments are idempotent per order.
    const wait = Math.min(3, Number(response.headers.get("Retry-After")) || 1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    response = await send(await token());
  }
  return response;
}

// A write answered 504 `gateway_timeout` (the gateway stopped waiting, the API may have done
// it): `look()` reads what the write would have changed and returns it when it was done;
// otherwise the problem stands. Repeating the write blindly could be refused for having
// happened (a second cancel is 409) — docs/chaos.md.
export async function orLookedUp(write, look) {
  try { return await write(); }
  catch (error) {
    if (!(error instanceof Problem) || error.status !== 504) throw error;
    const done = await look().catch(() => null);
    if (done) return done;
    throw error;
  }
}

// The look of a write on an order: the order as it is now when `done(order)` holds, else null.
export function orderWhen(id, done) {
  return async () => {
    const now = await json(`/orders/${id}`);
    return done(now) ? now : null;
  };
}

export async function json(path, options = {}) {
  const response = await call(path, options);
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 && !path.startsWith("/auth/")) loginFirst(); // the login ended
  if (!response.ok) throw new Problem(response.status, body);
  return body;
}

// The events of a text/event-stream response as {event, id, data} (its data lines joined),
// until the stream ends; leaving the loop early, or failing in it, cancels the stream.
export async function* serverEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = {};
        const data = [];
        for (const line of block.split("\n")) {
          const i = line.indexOf(":");
          if (i <= 0) continue; // a comment (a heartbeat), or not a field
          const text = line.slice(i + 1).replace(/^ /, "");
          if (line.slice(0, i) === "data") data.push(text);
          else fields[line.slice(0, i)] = text;
        }
        yield { event: fields.event, id: fields.id, data: data.join("\n") };
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export function messages() {
  const node = document.getElementById("messages");
  return node ? JSON.parse(node.textContent) : {};
}

export function say(name, values = {}) {
  let text = messages()[name] || name;
  for (const [k, v] of Object.entries(values)) text = text.replace(`{${k}}`, v);
  return text;
}

// A moment as the page's language writes it, in Seoul's time (the shop's times are KST).
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(document.documentElement.lang, {
    timeZone: "Asia/Seoul", dateStyle: "medium", timeStyle: "short",
  });
}

export function money(amount, currency = "KRW") {
  const ko = document.documentElement.lang === "ko";
  if (currency === "KRW") return ko ? `${amount.toLocaleString("ko-KR")}원` : `₩${amount.toLocaleString("en-US")}`;
  return new Intl.NumberFormat(document.documentElement.lang, { style: "currency", currency }).format(amount / 100);
}

export function loginFirst() {
  const next = location.pathname + location.search;
  location.replace(`/login?next=${encodeURIComponent(next)}`);
}

export function show(node, text) {
  if (!node) return;
  node.textContent = text;
  node.hidden = !text;
}

// A server-rendered piece of a page that needs the user's token (data-fragment="/fragments/...").
export async function loadFragment(node, url = node.dataset.fragment) {
  const response = await call(url);
  if (response.status === 401) { loginFirst(); throw new Problem(401, {}); }
  const text = await response.text();
  if (!response.ok) {
    let body = {};
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    throw new Problem(response.status, body);
  }
  const template = document.createElement("template");
  template.innerHTML = text;
  node.replaceChildren(template.content);
  document.dispatchEvent(new CustomEvent("bo:fragment", { detail: node }));
  return text;
}
