// Every mode of the plane by the name the server gives it; an unknown name is an error.

import { Encode } from "./encode.js";
import { Samples } from "./samples.js";
import { Select } from "./select.js";
import { Walk } from "./walk.js";

const MODES = new Map([Select, Walk, Encode, Samples].map((mode) => [mode.kind, mode]));

export function makeMode(name, plane) {
  const Kind = MODES.get(name);
  if (!Kind) throw new Error(`the plane has no mode "${name}" (known: ${[...MODES.keys()].join(", ")})`);
  return new Kind(plane);
}
