// fieldvault service worker: caches the static files only. Pages and answers carry
// data (jobs, addresses, codes) and always go to the network; nothing of them is stored.
const CACHE = "fieldvault-static-v2";
const STATIC = [
  "/static/app.css",
  "/static/app.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(STATIC)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))),
    ),
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/static/")) return; // pages: the network, never a cache
  event.respondWith(
    caches.match(event.request).then((hit) => hit || fetch(event.request)),
  );
});
