// The activity pass: uses activity analysis (src/analysis/activity.ts) in plain dependence mode
// to (a) fold equations varied by no program input at all into constants, with the same size
// rule and higher-order exclusion as the fold pass, and (b) drop equations that are not useful
// for the outputs (dead-code elimination).

import { analyzeActivity } from "../analysis/activity.js";
import type { Program } from "../ir/program.js";
import { dce } from "./dce.js";
import { foldWhere } from "./fold.js";

export function activity(p: Program): Program {
  const { varied } = analyzeActivity(p, { differentiable: false });
  const folded = foldWhere(p, (e) => !e.outs.some((o) => varied.has(o)));
  return dce(folded);
}
