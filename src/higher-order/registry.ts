// The primitive registry: every primitive by name (used by the IR deserializer, the verifier and
// the per-primitive test table). Adding a primitive: define it in its family file, list it here.

import { binaryPrims } from "../prims/binary.js";
import { compareP, logicalP, notP, selectP } from "../prims/compare.js";
import { dotGeneralP } from "../prims/dot.js";
import type { Primitive } from "../prims/primitive.js";
import { argmaxP, argminP, reduceMaxP, reduceMinP, reduceProdP, reduceSumP } from "../prims/reduce.js";
import { cumprodP, cumsumP } from "../prims/cumulative.js";
import { broadcastInDimP, concatenateP, padP, reshapeP, revP, sliceP, transposeP } from "../prims/shape.js";
import { convertP, negP, stopGradientP, unaryPrims } from "../prims/unary.js";
import { jitCallP } from "./jit-call.js";
import { scanP } from "./scan.js";
import { condP } from "./cond.js";
import { whileP } from "./while.js";
import { whileLinP } from "./while-reverse.js";
import { customJvpCallP, customLinP, customVjpCallP } from "./custom.js";
import { checkpointNameP, checkpointP } from "./checkpoint.js";
import { dimValueP } from "../prims/dim.js";
// indexing, special functions and random numbers (api/np indexing, nn, random)
import { gatherP, indexCheckP, scatterAddP } from "../prims/gather.js";
import { erfP } from "../prims/special.js";
import { scatterP } from "../prims/scatter.js";
import { sortP } from "../prims/sort.js";
import { windowPatchesP } from "../prims/windows.js";
import { randomBitsP, randomFoldInP, randomSplitP } from "../prims/random.js";

const list: Primitive<any>[] = [
  ...Object.values(unaryPrims),
  negP,
  stopGradientP,
  convertP,
  ...Object.values(binaryPrims),
  compareP,
  logicalP,
  notP,
  selectP,
  reduceSumP,
  reduceMaxP,
  reduceMinP,
  reduceProdP,
  argmaxP,
  argminP,
  cumsumP,
  cumprodP,
  dotGeneralP,
  reshapeP,
  transposeP,
  broadcastInDimP,
  concatenateP,
  padP,
  sliceP,
  revP,
  windowPatchesP,
  // indexing, special functions and random numbers
  gatherP,
  scatterAddP,
  scatterP,
  sortP,
  indexCheckP,
  erfP,
  randomBitsP,
  randomSplitP,
  randomFoldInP,
  dimValueP,
  // higher-order
  jitCallP,
  scanP,
  condP,
  whileP,
  whileLinP,
  customJvpCallP,
  customVjpCallP,
  customLinP,
  checkpointP,
  checkpointNameP,
];

export const primitives: ReadonlyMap<string, Primitive<any>> = new Map(list.map((p) => [p.name, p]));

export function lookupPrimitive(name: string): Primitive<any> | undefined {
  return primitives.get(name);
}
