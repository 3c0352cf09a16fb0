/* The village tablet's service worker (scope /tablet/): the app shell from the precache, so
   the app opens with no signal. Workbox comes from our static files, never a CDN. Drafts are
   not here: they live encrypted in IndexedDB; the data endpoints always go to the network. */
importScripts("{{ workbox_sw }}");
workbox.setConfig({ modulePathPrefix: "{{ workbox_prefix }}", debug: false });
// Load every module while the worker is first evaluated (importScripts is refused later).
workbox.loadModule("workbox-core");
workbox.loadModule("workbox-routing");
workbox.loadModule("workbox-strategies");
workbox.loadModule("workbox-precaching");

workbox.core.setCacheNameDetails({ prefix: "dk-tablet" });
workbox.core.skipWaiting();
workbox.core.clientsClaim();
workbox.precaching.cleanupOutdatedCaches();
workbox.precaching.precacheAndRoute({{ precache|safe }}, {
  ignoreURLParametersMatching: [/.*/],
});
// The manifest: fresh when online, from the cache when not.
workbox.routing.registerRoute(
  ({ url }) => url.pathname === "/tablet/manifest.webmanifest",
  new workbox.strategies.StaleWhileRevalidate({ cacheName: "dk-tablet-manifest" })
);
