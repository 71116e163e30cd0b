// Test helper: runs an exported ONNX model on onnxruntime-node (CPU) with adgen tensors as inputs
// and returns the outputs as plain arrays with shapes, for comparison with the interpreter.

import * as ort from "onnxruntime-node";
import type { Tensor } from "../src/index.js";

export interface RunOutput {
  data: number[];
  shape: number[];
  type: string;
}

export function ortTensor(t: Tensor): ort.Tensor {
  const shape = t.shape as number[];
  switch (t.dtype) {
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(t.dataSync() as Float32Array), shape);
    case "float64":
      return new ort.Tensor("float64", Float64Array.from(t.dataSync() as Float64Array), shape);
    case "int32":
      return new ort.Tensor("int32", Int32Array.from(t.dataSync() as Int32Array), shape);
    case "bool":
      return new ort.Tensor("bool", Uint8Array.from(t.dataSync() as Uint8Array), shape);
  }
}

const sessions = new WeakMap<Uint8Array, Promise<ort.InferenceSession>>();

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  let s = sessions.get(bytes);
  if (!s) {
    s = ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], graphOptimizationLevel: "all" });
    sessions.set(bytes, s);
  }
  return s;
}

/** Runs `bytes` with inputs in the model's input order; outputs in the model's output order. */
export async function runOnnx(bytes: Uint8Array, inputs: Tensor[]): Promise<RunOutput[]> {
  const s = await session(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  s.inputNames.forEach((n, i) => (feeds[n] = ortTensor(inputs[i]!)));
  const res = await s.run(feeds);
  return s.outputNames.map((n) => {
    const t = res[n]!;
    return { data: Array.from(t.data as ArrayLike<number>, Number), shape: [...t.dims], type: t.type };
  });
}
