// The primitive registry: every primitive by name (used by the IR deserializer, the verifier and
// the per-primitive test table). Adding a primitive: define it in its family file, list it here.

import { binaryPrims } from "./binary.js";
import { compareP, logicalP, notP, selectP } from "./compare.js";
import { dotGeneralP } from "./dot.js";
import type { Primitive } from "./primitive.js";
import { argmaxP, argminP, reduceMaxP, reduceMinP, reduceProdP, reduceSumP } from "./reduce.js";
import { cumprodP, cumsumP } from "./cumulative.js";
import { broadcastInDimP, concatenateP, padP, reshapeP, revP, sliceP, transposeP } from "./shape.js";
import { convertP, negP, stopGradientP, unaryPrims } from "./unary.js";
import { jitCallP } from "../jit/jit-call.js";
import { scanP } from "./scan.js";
import { condP } from "./cond.js";
import { whileP, whileStackP } from "./while.js";
import { customJvpCallP, customLinP, customVjpCallP } from "./custom.js";
import { checkpointP } from "./checkpoint.js";
import { dimValueP } from "./dim.js";
// indexing, special functions and random numbers (api/np indexing, nn, random)
import { gatherP, indexCheckP, scatterAddP } from "./gather.js";
import { erfP } from "./special.js";
import { randomBitsP, randomFoldInP, randomSplitP } from "./random.js";

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
  // indexing, special functions and random numbers
  gatherP,
  scatterAddP,
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
  whileStackP,
  customJvpCallP,
  customVjpCallP,
  customLinP,
  checkpointP,
];

export const primitives: ReadonlyMap<string, Primitive<any>> = new Map(list.map((p) => [p.name, p]));

export function lookupPrimitive(name: string): Primitive<any> | undefined {
  return primitives.get(name);
}
