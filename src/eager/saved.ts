// What the eager tape saves for backward, and hooks on it (like PyTorch's
// torch.autograd.graph.saved_tensors_hooks). Every primitive recorded on the tape keeps the
// residuals of its linearization (the values its pullback needs: an operand of a product, the
// cosine of a sine, ...). `savedTensors(loss)` lists them for the graph that `loss.backward()`
// would walk: primitive, what produced the value, dtype, shape, bytes, and the user's source line
// of the operation. `savedTensorsHooks({ pack, unpack }, fn)` passes each value saved while `fn`
// runs through `pack` (offload it, compress it, count it) and what `pack` returned through
// `unpack` when `backward()` reaches the node; the unpacked tensor must have the saved value's
// dtype and shape (else a GradError). Nested hooks: the innermost applies (as in PyTorch).

import { config } from "../core/config.js";
import { byteSize } from "../core/dtype.js";
import { GradError } from "../core/errors.js";
import { checkOptions, is } from "../core/options.js";
import { shapeToString } from "../core/shape.js";
import { type SourceRef, captureSource } from "../core/source.js";
import { Tensor } from "../core/tensor.js";
import { formatBytes, formatTable } from "../jit/report.js";
import type { Linearized, Residual } from "../transforms/linearize.js";

export interface SavedTensorHooks {
  /** called once per value saved for backward while the hooks are active; returns what the tape keeps */
  pack(t: Tensor): unknown;
  /** called by backward() with what pack returned; must return a tensor of the saved value's dtype and shape */
  unpack(packed: unknown): Tensor;
}

interface SavedSlot {
  /** the value, or what pack returned */
  packed: unknown;
  /** the hooks that packed it (null: kept as is) */
  hooks: SavedTensorHooks | null;
  residual: Omit<Residual, "value">;
}

/** One recorded primitive application (eager/tape.ts). */
export interface TapeNode {
  prim: string;
  /** the tracked inputs, in the order the pullback returns their cotangents */
  inputs: Tensor[];
  /** the tangent map whose transpose is the pullback */
  lin: Linearized;
  saved: SavedSlot[];
  /** all outputs of the primitive application (a cotangent is needed for each) */
  outs: Tensor[];
  /** the user's line that applied the primitive */
  source?: SourceRef | undefined;
}

const stack: SavedTensorHooks[] = [];

/** Keeps a node's residuals (through the innermost active hooks); `operands` name saved inputs. */
export function packResiduals(rs: Residual[], operands: readonly Tensor[]): SavedSlot[] {
  const hooks = stack.at(-1) ?? null;
  return rs.map(({ value, aval, producedBy }) => {
    const k = producedBy === "input" ? operands.indexOf(value) : -1;
    return { packed: hooks ? hooks.pack(value) : value, hooks, residual: { aval, producedBy: k >= 0 ? `operand ${k}` : producedBy } };
  });
}

/** The user's line of the primitive being recorded (when config.captureSourceLines). */
export const nodeSource = () => (config.captureSourceLines ? captureSource() : undefined);

/** A node's residual values for its pullback (unpacked, and checked against what was saved). */
export function unpackResiduals(n: TapeNode): Tensor[] {
  return n.saved.map((s, i) => {
    if (!s.hooks) return s.packed as Tensor;
    const t = s.hooks.unpack(s.packed);
    const want = s.residual.aval;
    if (!(t instanceof Tensor) || t.aval.dtype !== want.dtype || shapeToString(t.aval.shape) !== shapeToString(want.shape)) {
      const got = t instanceof Tensor ? String(t.aval) : typeof t;
      throw new GradError(`backward: savedTensorsHooks unpack returned ${got} for saved value ${i} of ${n.prim}${at(n)}, which was ${want}: unpack must return a tensor of the packed value's dtype and shape`);
    }
    return t;
  });
}

const at = (n: TapeNode) => (n.source && String(n.source) ? ` (at ${String(n.source)})` : "");

/**
 * Runs `fn` with pack/unpack hooks on every value the eager tape saves for backward while it
 * runs (see the file comment). Returns what `fn` returns.
 */
export function savedTensorsHooks<T>(hooks: SavedTensorHooks, fn: () => T): T {
  checkOptions("savedTensorsHooks", hooks, { pack: is.func, unpack: is.func });
  if (typeof hooks?.pack !== "function" || typeof hooks.unpack !== "function") throw new GradError("savedTensorsHooks: pass { pack, unpack }, both functions");
  if (typeof fn !== "function") throw new GradError(`savedTensorsHooks: expected a function to run with the hooks, got ${typeof fn}`);
  stack.push(hooks);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/** The nodes reachable from `root` through tracked inputs, producers before consumers. */
export function tapeOrder(root: TapeNode | null): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  const visit = (n: TapeNode) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const x of n.inputs) {
      const child = x._tape?.node as TapeNode | null;
      if (child) visit(child);
    }
    order.push(n);
  };
  if (root) visit(root);
  return order;
}

export interface SavedTensor {
  /** position of the recording primitive in the graph (producers first) */
  node: number;
  /** the primitive that saved it, e.g. "sin" */
  primitive: string;
  /** what the value is: "operand k" (the primitive's k-th input), "constant", or the primitive computing it, e.g. "cos" */
  value: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** the user's line of the primitive ("" when config.captureSourceLines is off) */
  source: string;
  /** true when savedTensorsHooks packed it */
  packed: boolean;
}

/** The values a tape graph saves for backward; prints as a table. */
export class SavedTensors extends Array<SavedTensor> {
  static override get [Symbol.species]() {
    return Array;
  }

  /** Bytes of all rows (a tensor saved by two primitives counts twice: each keeps it). */
  get bytes(): number {
    return this.reduce((a, r) => a + r.bytes, 0);
  }

  override toString(): string {
    if (!this.length) return "(nothing saved for backward)";
    const head = ["node", "primitive", "saves", "dtype", "shape", "bytes", "packed", "line"];
    const cells = this.map((r) => [`#${r.node}`, r.primitive, r.value, r.dtype, shapeToString(r.shape), formatBytes(r.bytes), r.packed ? "yes" : "no", r.source]);
    return [...formatTable(head, cells), `${this.length} saved values, ${formatBytes(this.bytes)}`].join("\n");
  }
}

/** What the tape keeps for `out.backward()`: one row per saved value of every node it would reach. */
export function savedTensors(out: Tensor): SavedTensors {
  if (!(out instanceof Tensor)) throw new GradError(`savedTensors: expected a tensor, got ${typeof out}`);
  if (!out._tape?.requiresGrad) throw new GradError(`savedTensors: this tensor (${out.aval}) does not depend on any variable(); the tape saved nothing for it`);
  const rows = new SavedTensors();
  tapeOrder(out._tape.node as TapeNode | null).forEach((n, i) => {
    for (const s of n.saved) {
      const a = s.residual.aval;
      const shape = a.shape.map(Number);
      rows.push({
        node: i,
        primitive: n.prim,
        value: s.residual.producedBy.replace(/ at .*$/, ""),
        dtype: a.dtype,
        shape,
        bytes: shape.reduce((p, d) => p * d, 1) * byteSize(a.dtype),
        source: n.source ? String(n.source) : "",
        packed: s.hooks !== null,
      });
    }
  });
  return rows;
}
