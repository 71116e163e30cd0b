// Eager tape introspection and saved-tensor hooks (src/eager/saved.ts, docs/diagnostics.md):
// savedTensors(loss) lists exactly what each recorded primitive keeps for backward (checked
// against the derivative rules by hand: sin keeps cos x, a product keeps both operands, a sum
// keeps nothing, ...); savedTensorsHooks packs every saved value and unpacks it in backward, and
// with hooks that offload to plain JS arrays the gradients are bit-identical to the run without
// hooks (and match the closed forms).

import { afterEach, describe, expect, it } from "vitest";
import { ArgumentError, GradError, type SavedTensor, type Tensor, config, jit, np, savedTensors, savedTensorsHooks, variable } from "../src/index.js";

const saved = { ...config };
afterEach(() => {
  const { update: _u, ...rest } = saved;
  config.update(rest);
});

const xs = [0.5, 1, 2];
const row = (r: SavedTensor) => [r.node, r.primitive, r.value, r.dtype, r.shape, r.bytes, r.packed];
const values = (t: Tensor | null) => Array.from(t!.dataSync());

/** y = sum(sin(x) * x), dy/dx = x cos x + sin x */
function program(x: Tensor): Tensor {
  return np.sum(np.multiply(np.sin(x), x));
}

describe("savedTensors(loss)", () => {
  it("lists exactly what each primitive saves, with the user's line", () => {
    const x = variable(np.array(xs));
    const y = program(x);
    const s = savedTensors(y);
    // sin keeps cos(x); multiply keeps both operands (sin x and x); reduce_sum keeps nothing
    expect(s.map(row)).toEqual([
      [0, "sin", "cos", "float32", [3], 12, false],
      [1, "mul", "operand 1", "float32", [3], 12, false],
      [1, "mul", "operand 0", "float32", [3], 12, false],
    ]);
    expect(s.bytes).toBe(36);
    for (const r of s) expect(r.source).toMatch(/diagnostics-tape\.test\.ts:23:\d+$/);
    expect(s.toString().split("\n")[0]).toMatch(/^node +primitive +saves +dtype +shape +bytes +packed +line$/);
    expect(s.toString().split("\n").at(-1)).toBe("3 saved values, 36 B");
  });

  it("a matmul keeps both operands, tanh its derivative, exp its output; int and non-tracked values add nothing", () => {
    const x = variable(np.array(xs));
    const w = variable(np.reshape(np.arange(6).astype("float32"), [3, 2]));
    const loss = np.sum(np.exp(np.tanh(np.matmul(x, w))));
    expect(savedTensors(loss).map(row)).toEqual([
      [0, "dot_general", "operand 1", "float32", [3, 2], 24, false],
      [0, "dot_general", "operand 0", "float32", [3], 12, false],
      [1, "tanh", "sub", "float32", [2], 8, false],
      [2, "exp", "exp", "float32", [2], 8, false],
    ]);
    expect(() => savedTensors(np.array(xs))).toThrow(GradError);
  });
});

describe("savedTensorsHooks({ pack, unpack }, fn)", () => {
  it("offloading every saved value to JS arrays: each packed once, unpacked once by backward, gradients bit-identical", () => {
    const plain = variable(np.array(xs));
    program(plain).backward();
    let packs = 0;
    let unpacks = 0;
    const x = variable(np.array(xs));
    const y = savedTensorsHooks(
      {
        pack: (t) => {
          packs++;
          return { data: Array.from(t.dataSync()), shape: t.shape, dtype: t.dtype };
        },
        unpack: (p) => {
          unpacks++;
          const { data, shape, dtype } = p as { data: number[]; shape: number[]; dtype: "float32" };
          return np.reshape(np.array(data, { dtype }), shape);
        },
      },
      () => program(x),
    );
    const s = savedTensors(y);
    expect(s.map((r) => r.packed)).toEqual([true, true, true]);
    expect([packs, unpacks]).toEqual([3, 0]);
    y.backward();
    expect(unpacks).toBe(3);
    expect(values(x.grad)).toEqual(values(plain.grad));
    values(x.grad).forEach((g, i) => expect(g).toBeCloseTo(xs[i]! * Math.cos(xs[i]!) + Math.sin(xs[i]!), 5));
  });

  it("identity hooks leave gradients unchanged, through a jitted function on the tape too", () => {
    const f = jit((a: Tensor) => np.sum(np.exp(np.multiply(a, a))), { name: "f" });
    const ref = variable(np.array(xs));
    f(ref).backward();
    const x = variable(np.array(xs));
    const seen: string[] = [];
    const y = savedTensorsHooks({ pack: (t) => (seen.push(String(t.aval)), t), unpack: (t) => t as Tensor }, () => f(x));
    y.backward();
    expect(values(x.grad)).toEqual(values(ref.grad));
    expect(seen.length).toBe(savedTensors(y).length);
    values(x.grad).forEach((g, i) => expect(g).toBeCloseTo(2 * xs[i]! * Math.exp(xs[i]! ** 2), 3));
  });

  it("the innermost hooks apply; outside any hooks nothing is packed; pack's own operations are not recorded", () => {
    const x = variable(np.array(xs));
    const outer: string[] = [];
    const inner: string[] = [];
    const id = (log: string[]) => ({ pack: (t: Tensor) => (log.push(t.dtype), np.multiply(t, 1)), unpack: (t: unknown) => t as Tensor });
    const y = savedTensorsHooks(id(outer), () => {
      const a = np.sin(x);
      const b = savedTensorsHooks(id(inner), () => np.multiply(a, x));
      return np.sum(np.cos(b));
    });
    expect([outer.length, inner.length]).toEqual([2, 2]); // outer: sin, cos; inner: multiply's two operands
    expect(savedTensors(y).map((r) => r.primitive)).toEqual(["sin", "mul", "mul", "cos"]);
    const z = np.sum(np.sin(x));
    expect(savedTensors(z).map((r) => r.packed)).toEqual([false]);
  });

  it("an unpack returning the wrong shape is a GradError naming the primitive; bad hooks are refused", () => {
    const x = variable(np.array(xs));
    const y = savedTensorsHooks({ pack: () => 0, unpack: () => np.zeros([2]) }, () => np.sum(np.sin(x)));
    expect(() => y.backward()).toThrow(/savedTensorsHooks unpack returned f32\[2\] for saved value 0 of sin .*which was f32\[3\]/);
    expect(() => savedTensorsHooks({ pack: (t: Tensor) => t, unpak: (t: unknown) => t } as any, () => 0)).toThrow(ArgumentError);
    expect(() => savedTensorsHooks({ pack: (t: Tensor) => t, unpak: (t: unknown) => t } as any, () => 0)).toThrow(/Did you mean "unpack"/);
    expect(() => savedTensorsHooks({ pack: (t: Tensor) => t } as any, () => 0)).toThrow(/pass \{ pack, unpack \}/);
  });
});
