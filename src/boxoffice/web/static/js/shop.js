// On every page: who is signed in, the countdowns, and pages that need a login.
import { forget, json, loginFirst, say, session } from "./api.js";

function showSession() {
  const signedIn = Boolean(session());
  for (const node of document.querySelectorAll("[data-auth]")) {
    node.hidden = (node.dataset.auth === "in") !== signedIn;
  }
}

export function remaining(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60), s = total % 60;
  if (d > 0) return `${say("days", { n: d })} ${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  if (h > 0) return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  return m > 0 ? say("minutes", { m, s }) : say("seconds", { s });
}

function tick() {
  for (const node of document.querySelectorAll("[data-countdown]")) {
    if (!node.dataset.countdown) continue;
    const left = Date.parse(node.dataset.countdown) - Date.now();
    if (left <= 0) {
      node.textContent = node.dataset.expiredText || "0";
      if (!node.dataset.done) { node.dataset.done = "1"; node.dispatchEvent(new CustomEvent("bo:elapsed", { bubbles: true })); }
    } else {
      node.textContent = remaining(left);
    }
  }
}

document.addEventListener("click", async (event) => {
  if (!event.target.closest("[data-logout]")) return;
  const s = session();
  if (s) await json("/auth/logout", { method: "POST", json: { refresh_token: s.refresh } }).catch(() => {});
  forget();
  // Nothing of this fan stays on a shared device: saved tickets go with the session.
  for (const key of Object.keys(localStorage)) if (key.startsWith("bo.tickets.")) localStorage.removeItem(key);
  location.assign("/");
});

window.addEventListener("storage", showSession); // logged in or out in another tab
document.addEventListener("bo:fragment", tick); // a fragment's countdowns start at once
showSession();
if (document.querySelector("[data-require-login]") && !session()) loginFirst();
tick();
setInterval(tick, 1000);
