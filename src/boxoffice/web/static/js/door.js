// The door: a typed code or the camera (jsQR, served from this site) → POST /checkin with
// the show the door scans for; the verdict at once, and the count checked in / sold.
import { Problem, json, say, when } from "./api.js";
import { fail } from "./console.js";

const pickShow = new URLSearchParams(location.search).get("show");
if (pickShow && !document.getElementById("door")) location.replace(`/console/door/${encodeURIComponent(pickShow.trim())}`);

const root = document.getElementById("door");
const showId = root?.dataset.show;
const verdict = document.getElementById("verdict");
let busy = false;
let lastCode = "";
let lastAt = 0;

async function count() {
  try {
    const door = await json(`/shows/${encodeURIComponent(showId)}/checkins`);
    document.getElementById("door-count").textContent = `${door.checked_in} / ${door.live}`;
  } catch (error) { fail(error); }
}

function tell(kind, text) {
  verdict.className = `verdict ${kind}`;
  verdict.textContent = text;
  verdict.hidden = false;
  verdict.dataset.kind = kind;
}

async function checkIn(code) {
  if (busy || !code) return;
  busy = true;
  try {
    const ticket = await json("/checkin", { method: "POST", json: { code, show_id: showId } });
    tell("ok", `${say("valid")} — ${ticket.seat ? say("seat", ticket.seat) : ""}`);
  } catch (error) {
    if (!(error instanceof Problem)) tell("bad", say("error"));
    else if (error.code === "already_checked_in") tell("bad", say("used_at", { t: when(error.body.checked_in_at) }));
    else if (error.code === "wrong_show") tell("bad", say("wrong_show"));
    else if (error.code === "ticket_void") tell("bad", say("void"));
    else if (error.status === 422) tell("bad", say("invalid"));
    else fail(error);
  } finally {
    busy = false;
    count();
  }
}

async function camera() {
  const video = document.getElementById("camera");
  const canvas = document.getElementById("camera-frame");
  const message = document.getElementById("camera-message");
  if (!navigator.mediaDevices?.getUserMedia || !window.jsQR) {
    message.textContent = say("camera_off"); message.hidden = false; return;
  }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    message.textContent = say("camera_off"); message.hidden = false; return;
  }
  video.hidden = false;
  await video.play();
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const scan = () => {
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
      // The same ticket held in front of the camera is scanned once, not once per frame.
      if (found && found.data && (found.data !== lastCode || Date.now() - lastAt > 4000)) {
        lastCode = found.data;
        lastAt = Date.now();
        root.dataset.scanned = found.data;
        checkIn(found.data);
      }
    }
    requestAnimationFrame(scan);
  };
  requestAnimationFrame(scan);
}

if (root) {
  document.getElementById("checkin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("code");
    checkIn(input.value.trim());
    input.value = "";
    input.focus();
  });
  document.getElementById("camera-start").addEventListener("click", camera);
  count();
  setInterval(count, 5000); // other doors scan too: the count follows them

}
