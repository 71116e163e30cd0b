// The float32 math runtime in-process (typed) and as embeddable text (core/runtime-text.ts):
// the generated functions of math/runtime-f32.ts, one per MATH_F32 entry.

import { type Runtime, defineRuntime } from "../core/runtime-text.js";
import { mathF32Runtime } from "./runtime-f32.js";

export type MathF32 = Record<string, (x: number) => number>;

export const MATH_F32_RUNTIME: Runtime<MathF32> = defineRuntime(mathF32Runtime as () => MathF32, []);
