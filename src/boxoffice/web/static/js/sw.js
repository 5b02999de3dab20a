// Keeps the tickets page and the shop's files for offline use: the network first, the copy
// last seen when there is none. Only GETs of this site's pages and files, never the API.
const CACHE = "boxoffice-v1";
const KEPT = ["/account/tickets", "/static/"];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (!KEPT.some((prefix) => url.pathname.startsWith(prefix))) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((c) => c.put(event.request, copy)); }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreVary: true, ignoreSearch: url.pathname === "/account/tickets" })),
  );
});
