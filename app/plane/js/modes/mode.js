// What a mode of the plane is: every hook the plane calls, with what it does when a mode has
// nothing to add. A mode reads its part of the server's data (data.mode, whose fields are those of
// the mode's dataclass in app/plane/modes.py) in update().

export class Mode {
  static kind = ""; // the name the server gives this mode (data.mode.name)

  constructor(plane) {
    this.plane = plane;
  }

  // Whether the plane marks its selection (plane.selected) with a cross-hair.
  get showsSelection() { return true; }

  // The server sent this mode's data (on mount and after every rerun).
  update(_data) {}

  // A click selected a point ({x, y, index, seq}; null when a double click undid the first), `undo`
  // when it puts back what the first click of a double click replaced.
  onSelect(_pick, _undo) {}

  // The pointer is over plot point `point` ([x, y]) on test image `index` (or none); both null
  // when it has left the plot.
  onHover(_index, _point) {}

  // A linked plane selected test image `index` / moved its t.
  onLinkedSelect(_index) {}
  onLinkedT(_t) {}

  // The test images have arrived (plane.images).
  imagesArrived() {}

  // What the panel shows while the pointer is away: a point {x, y, index, code?}, or null for the
  // selection; the caption above it and a note after its coordinates.
  restingPoint() { return null; }
  restingCaption() { return "decoded at the selected point"; }
  restingReadout() { return ""; }

  // Draw into the overlay's group (clipped to the plot), in frame `f` (see geometry.plotFrame).
  drawOverlay(_group, _f) {}
}
