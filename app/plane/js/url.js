// The plane's part of the view in the address bar: the zoom, hidden digits, the backdrop and t.
//
// It is replaced, never pushed (no history entry per zoom); the server reads it from there when a
// link is opened. Streamlit rewrites the address from the server's copy of the parameters whenever
// the server changes one; that copy predates these, so they are put back (keepBrowserParameters).
// The parameters' names come from the server (url_state's table), as data.url.names.

const DEFAULT_OPACITY = 0.55;
const kept = { path: null, values: {} }; // the plane's parameters, re-applied to addresses Streamlit sets

function withParameters(search, values) {
  const params = new URLSearchParams(search);
  for (const [name, value] of Object.entries(values)) {
    if (value === null) params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function keepBrowserParameters() {
  if (history.__latentPlaneKeeps) return;
  history.__latentPlaneKeeps = true;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method].bind(history);
    history[method] = (state, title, url) => {
      if (url !== undefined && url !== null && kept.path) {
        const target = new URL(url, window.location.href);
        if (target.pathname === kept.path) {
          target.search = withParameters(target.search, kept.values);
          url = target.href;
        }
      }
      return original(state, title, url);
    };
  }
}

// Write the plane's state ({view, hidden, backdrop, opacity, t}) under the server's `names`.
export function writeViewToUrl(names, state) {
  const view = state.view;
  const values = {
    [names.view]: view ? view.x.concat(view.y).map((v) => v.toFixed(4)).join(",") : null,
    [names.hide]: state.hidden.length ? state.hidden.join(",") : null,
    [names.backdrop]: state.backdrop ? "1" : null,
    [names.opacity]: Math.abs(state.opacity - DEFAULT_OPACITY) > 1e-9 ? String(state.opacity) : null,
    [names.t]: state.t !== undefined && state.t !== null ? state.t.toFixed(3) : null,
  };
  kept.path = window.location.pathname;
  kept.values = values;
  const search = withParameters(window.location.search, values);
  if (search !== window.location.search)
    history.replaceState(history.state, "", `${window.location.pathname}${search}${window.location.hash}`);
}

export { DEFAULT_OPACITY };
