// Select: point anywhere to decode it, click to select that exact point; the details of the
// selection are drawn below the plot when the page asks for them (data.mode.neighbours > 0).

import { SelectionDetails } from "../view/details.js";
import { Mode } from "./mode.js";

export class Select extends Mode {
  static kind = "select";

  constructor(plane) {
    super(plane);
    this.details = plane.data.mode.neighbours > 0 ? new SelectionDetails(plane) : null;
  }

  update() {
    this.details?.show(this.plane.selected);
  }

  onSelect(pick) {
    this.details?.show(pick);
  }

  onLinkedSelect(index) {
    const plane = this.plane;
    plane.select({ x: plane.points[2 * index], y: plane.points[2 * index + 1], index, seq: ++plane.seq }, false);
  }

  imagesArrived() {
    this.details?.show(this.plane.selected, true);
  }
}
