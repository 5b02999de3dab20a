// My account: the e-mail (confirmation link, change), the password, the data export and
// the deletion — each a call of the API with the user's token; the API's refusal shown.
import { Problem, call, forget, json, say, show } from "./api.js";

const field = (name) => document.querySelector(`#settings [data-field=${name}]`);

function explain(error) {
  if (!(error instanceof Problem)) return say("error");
  const first = (error.body.errors || [])[0];
  return first ? `${error.message} (${first.msg})` : error.message;
}

async function load() {
  const me = await json("/users/me");
  field("email").textContent = me.email;
  field("verified").textContent = me.email_verified ? say("verified") : say("unverified");
  document.getElementById("verify-row").hidden = me.email_verified;
  document.getElementById("settings").dataset.loaded = String(Date.now());
}

function form(id, message, send) {
  document.getElementById(id).addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const node = submitted.target;
    try {
      show(document.getElementById(message), await send(new FormData(node)));
      node.reset();
    } catch (error) {
      show(document.getElementById(message), explain(error));
    }
  });
}

document.getElementById("send-verification").addEventListener("click", async () => {
  try {
    const answer = await json("/users/me/email-verification", { method: "POST" });
    show(document.getElementById("verify-message"), answer.detail);
  } catch (error) { show(document.getElementById("verify-message"), explain(error)); }
});

form("email-form", "email-message", async (data) => {
  const answer = await json("/users/me/email", { method: "POST", json: { email: data.get("email"), password: data.get("password") } });
  return answer.detail;
});

form("password-form", "password-message", async (data) => {
  const body = { current_password: data.get("current_password"), new_password: data.get("new_password") };
  await json("/users/me/password", { method: "POST", json: body });
  return say("saved");
});

form("delete-form", "delete-message", async (data) => {
  if (!window.confirm(say("delete_confirm"))) return "";
  await json("/users/me", { method: "DELETE", json: { password: data.get("password") || null } });
  forget();
  location.assign("/");
  return "";
});

document.getElementById("export-data").addEventListener("click", async () => {
  const response = await call("/users/me/export");
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = "boxoffice-account.json";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
});

load().catch(() => {});
