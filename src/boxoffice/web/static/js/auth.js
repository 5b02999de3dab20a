// Log in and sign up through the API's own /auth routes; the token pair stays in this browser.
import { Problem, json, keep, say, show } from "./api.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

async function logIn(email, password) {
  keep(await json("/auth/login", { method: "POST", json: { email, password } }));
  location.assign(nextPage());
}

function explain(error) {
  if (error instanceof Problem) {
    const first = (error.body.errors || [])[0];
    return first && first.msg && error.code === "validation_error" ? `${error.message} (${first.msg})` : error.message;
  }
  return say("error");
}

function onSubmit(form, handler) {
  const message = document.getElementById("form-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    show(message, "");
    try { await handler(new FormData(form)); }
    catch (error) { show(message, explain(error)); message.focus?.(); }
    finally { button.disabled = false; }
  });
}

// A form that did its job gives way to the note saying so.
function replaceBy(form, noteId) {
  form.hidden = true;
  document.getElementById(noteId).hidden = false;
}

// An e-mailed link carries its single-use secret in the query; it leaves the address bar at
// once (and the page sends no Referer), and goes only to the API.
function linkSecret() {
  const token = new URLSearchParams(location.search).get("token") || "";
  history.replaceState(null, "", location.pathname);
  return token;
}

const login = document.getElementById("login-form");
if (login) onSubmit(login, (data) => logIn(data.get("email"), data.get("password")));

const signup = document.getElementById("signup-form");
if (signup) {
  onSubmit(signup, async (data) => {
    const body = { name: data.get("name"), email: data.get("email"), password: data.get("password") };
    await json("/auth/signup", { method: "POST", json: body });
    await logIn(body.email, body.password);
  });
}

const forgot = document.getElementById("forgot-form");
if (forgot) {
  onSubmit(forgot, async (data) => {
    await json("/auth/password-reset", { method: "POST", json: { email: data.get("email") } });
    replaceBy(forgot, "forgot-sent");
  });
}

const reset = document.getElementById("reset-form");
if (reset) {
  const token = linkSecret();
  onSubmit(reset, async (data) => {
    const body = { token, password: data.get("password") };
    await json("/auth/password-reset/confirm", { method: "POST", json: body });
    replaceBy(reset, "reset-done");
  });
}

const verifying = document.getElementById("verify-email");
if (verifying) {
  json("/auth/verify-email", { method: "POST", json: { token: linkSecret() } })
    .then(() => { document.getElementById("verify-done").hidden = false; })
    .catch(() => { document.getElementById("verify-failed").hidden = false; })
    .finally(() => { verifying.hidden = true; });
}

// Social login comes back with the pair in the URL fragment (never sent to a server).
if (document.getElementById("oauth-landing")) {
  const pair = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
  history.replaceState(null, "", location.pathname);
  if (pair.access_token && pair.refresh_token) { keep(pair); location.replace("/"); }
  else location.replace("/login");
}
