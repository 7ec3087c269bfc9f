// What this tab remembers of a plane across remounts (sessionStorage, per model): zoom, hidden
// digits, the backdrop, its opacity and t. A shared link (data.url, checked by the server) wins.

import { DEFAULT_OPACITY, writeViewToUrl } from "./url.js";

function storageKey(plane) {
  return `latent-plane:${plane.data.model.key}`;
}

export function restoreSession(plane) {
  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(storageKey(plane)) || "{}"); } catch { saved = {}; }
  const url = plane.data.url || {};
  plane.hidden = new Set(url.hide ?? saved.hidden ?? []);
  plane.view = url.view ?? saved.view ?? null;
  plane.userView = Boolean(plane.view);
  plane.backdropOn.checked = Boolean(url.backdrop ?? saved.backdrop ?? plane.data.backdrop);
  plane.opacity.value = String(url.opacity ?? saved.opacity ?? DEFAULT_OPACITY);
  plane.backdrop.style.opacity = plane.opacity.value;
  plane.savedT = url.t ?? saved.t;
}

export function saveSession(plane) {
  if (!plane.data) return;
  const state = { hidden: [...(plane.hidden || [])], view: plane.userView ? plane.view : null,
                  backdrop: plane.backdropOn.checked, opacity: Number(plane.opacity.value), t: plane.mode?.t };
  try { sessionStorage.setItem(storageKey(plane), JSON.stringify(state)); } catch { /* storage full or off */ }
  clearTimeout(plane.urlTimer);
  plane.urlTimer = setTimeout(() => {
    // Only the page this plane is on, while it is on it (a late timer must not write another page's URL);
    // never for linked planes: two on one page would overwrite each other's view.
    if (!plane.root.isConnected || window.location.pathname !== plane.path || plane.data.link_group) return;
    writeViewToUrl(plane.data.url.names, state);
  }, 250);
}
