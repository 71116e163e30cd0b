// Printing tensors: NumPy-style nested brackets with a dtype/shape header, abbreviated when large.

import type { Tensor } from "../core/tensor.js";

function fmt(v: number, dtype: string): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e8)) return v.toExponential(4);
  return String(Number(v.toPrecision(dtype === "float32" ? 6 : 10)));
}

export function formatTensor(t: Tensor, maxPerAxis = 6): string {
  const head = `Tensor(${t.aval})`;
  if (!t.isConcrete) return head;
  const d = t.data;
  const shape = t.shape;
  const rec = (axis: number, off: number, indent: string): string => {
    if (axis === shape.length) return fmt(d[off]!, t.dtype);
    const n = shape[axis]!;
    let stride = 1;
    for (let i = axis + 1; i < shape.length; i++) stride *= shape[i]!;
    const idx = n > maxPerAxis ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i < 0 ? "..." : rec(axis + 1, off + i * stride, indent + " ")));
    const sep = axis === shape.length - 1 ? ", " : ",\n" + indent + " ";
    return `[${parts.join(sep)}]`;
  };
  return `${head} ${rec(0, 0, "")}`;
}
