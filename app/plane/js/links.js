// Planes linked on one page (Compare, data.link_group): the same test image under the pointer, the
// same t, the same selection. Messages go through one window event.

const LINK_EVENT = "latent-plane:link";

export function broadcast(plane, message) {
  if (!plane.data.link_group) return;
  window.dispatchEvent(new CustomEvent(LINK_EVENT, { detail: { ...message, group: plane.data.link_group, from: plane } }));
}

export function listenToLinkedPlanes(plane) {
  const listener = (event) => {
    const message = event.detail;
    if (!plane.root.isConnected) return window.removeEventListener(LINK_EVENT, listener); // unmounted
    if (message.from === plane || message.group !== plane.data.link_group) return;
    if (message.type === "hover") {
      plane.linked = message.index !== null && plane.labels && message.index < plane.labels.length ? message.index : null;
      plane.drawOverlay();
      plane.refreshPanel();
    } else if (message.type === "t") {
      plane.mode?.onLinkedT(message.t);
    } else if (message.type === "select" && message.index !== null && plane.points) {
      plane.mode?.onLinkedSelect(message.index);
    }
  };
  window.addEventListener(LINK_EVENT, listener);
}
