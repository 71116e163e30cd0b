// np.linalg factorizations and solvers: LU with partial pivoting (solve, inv, det, slogdet),
// Cholesky and triangular solves, batched over leading dimensions. The primal of each is a loop
// of masked O(n^2) steps (linalg-util); the derivative is the closed form, attached with
// customJvp (JAX's rules in jax/_src/lax/linalg.py and jax/_src/numpy/linalg.py), so AD never
// runs through the iterations. Linear solves inside the JVP rules use the raw loops on the
// primal factors: those are linear in the tangent, so reverse mode transposes them (scan
// transpose) into the adjoint solves.

import { ArgumentError, DTypeError, ShapeError } from "../../core/errors.js";
import { shapeToString } from "../../core/shape.js";
import type { Tensor } from "../../core/tensor.js";
import { customJvp } from "../custom.js";
import { foriLoop } from "../lax.js";
import { abs, add, divide, equal, greater, greaterEqual, log, logicalAnd, multiply, negative, sign, sqrt, subtract, where } from "./elementwise.js";
import { argmax, prod, sum } from "./reductions.js";
import { all } from "./stats.js";
import { broadcastTo, expandDims, squeeze } from "./shape.js";
import { full, zerosLike } from "./creation.js";
import { matmul } from "./linalg.js";
import {
  type X,
  broadcastBatch,
  colAt,
  diagMat,
  diagOf,
  entryAt,
  eyeLike,
  fname,
  floatArg,
  iota,
  lowerMask,
  mT,
  matvec,
  oneHot,
  rowAt,
  setRow,
  squareArg,
  tril,
  upperMask,
  vecmat,
} from "./linalg-util.js";

/**
 * Solves T X = B for X by substitution, T [..., n, n] triangular (only its triangle is read),
 * B [..., n, k] with the same batch shape. Forward substitution for lower, backward for upper.
 */
export function trsm(t: Tensor, b: Tensor, lower: boolean, unitDiagonal: boolean): Tensor {
  const n = t.shape.at(-1)!;
  const tm = where(lower ? lowerMask(n, n, unitDiagonal ? -1 : 0) : upperMask(n, n, unitDiagonal ? 1 : 0), t, 0);
  return foriLoop(
    0,
    n,
    (i: Tensor, x: Tensor) => {
      const e = oneHot(n, lower ? i : subtract(n - 1, i));
      const tk = rowAt(tm, e); // row k of T: only entries of already solved rows meet nonzero x
      const r = subtract(rowAt(b, e), vecmat(tk, x));
      const xk = unitDiagonal ? r : divide(r, expandDims(entryAt(tk, e), -1));
      return setRow(x, e, xk);
    },
    zerosLike(b),
  );
}

/** LU with partial pivoting (LAPACK getrf's choices): [lu (unit L below, U on and above the diagonal), perm, parity]. */
export function luRaw(a: Tensor): [Tensor, Tensor, Tensor] {
  const n = a.shape.at(-1)!;
  const io = iota(n);
  const batch = a.shape.slice(0, -2);
  const [lu, perm, parity] = foriLoop(
    0,
    n,
    (k: Tensor, [m, perm, parity]: [Tensor, Tensor, Tensor]) => {
      const e = oneHot(n, k);
      const below = greater(io, k);
      const col = colAt(m, e);
      const p = argmax(where(greaterEqual(io, k), abs(col), -1), { axis: -1 }); // first largest |a_ik|, i >= k
      const ep = oneHot(n, p);
      const rk = rowAt(m, e);
      const rp = rowAt(m, ep);
      m = setRow(setRow(m, ep, rk), e, rp);
      perm = where(e, expandDims(entryAt(perm, ep), -1), where(ep, expandDims(entryAt(perm, e), -1), perm));
      parity = where(equal(p, k), parity, negative(parity));
      const piv = expandDims(entryAt(rp, e), -1);
      // a zero pivot leaves its column as it is (LAPACK): U gets a zero on the diagonal, det is 0
      const l = where(logicalAnd(below, greater(abs(piv), 0)), divide(colAt(m, e), where(equal(piv, 0), 1, piv)), 0);
      m = subtract(m, multiply(expandDims(l, -1), expandDims(where(below, rp, 0), -2)));
      return [where(logicalAnd(expandDims(e, -2), expandDims(below, -1)), expandDims(l, -1), m), perm, parity];
    },
    [a, broadcastTo(io, [...batch, n]), full(batch, 1, { dtype: a.dtype })],
  );
  return [lu, perm, parity];
}

/** Solves A X = B from A's LU factors: X = U^-1 L^-1 P B. */
export function luSolveRaw(lu: Tensor, perm: Tensor, b: Tensor): Tensor {
  const n = lu.shape.at(-1)!;
  const p = equal(expandDims(perm, -1), iota(n)).astype(lu.dtype); // P[i, j] = perm[i] == j
  return trsm(lu, trsm(lu, matmul(p, b), true, true), false, false);
}

function asMatrixRhs(f: string, a: Tensor, b: Tensor): [Tensor, Tensor, boolean] {
  const n = a.shape.at(-1)!;
  const vector = b.ndim === 1;
  const bm = vector ? expandDims(b, -1) : b;
  if (bm.ndim < 2 || bm.shape.at(-2) !== n) {
    throw new ShapeError(`${fname(f)}: a has shape ${shapeToString(a.shape)} but b has shape ${shapeToString(b.shape)}; b must be [${n}] or [..., ${n}, k]`);
  }
  const [a2, b2] = broadcastBatch(f, a, bm);
  return [a2, b2, vector];
}

function sameDtype(f: string, a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) throw new DTypeError(`${fname(f)}: a is ${a.aval} but b is ${b.aval}; pass both in the same float dtype`);
  return b;
}

const solveCore: (a: Tensor, b: Tensor) => Tensor = customJvp((a: Tensor, b: Tensor) => {
  const [lu, perm] = luRaw(a);
  return luSolveRaw(lu, perm, b);
}, {
  // x = A^-1 b:  dx = A^-1 (db - dA x)
  jvp: ([a, b]: Tensor[], [da, db]: Tensor[]) => {
    const x = solveCore(a!, b!);
    const [lu, perm] = luRaw(a!);
    return [x, luSolveRaw(lu, perm, subtract(db!, matmul(da!, x)))];
  },
});

/**
 * Solves a x = b. a is [..., n, n]; b is [n] (one vector) or [..., n, k] (NumPy 2 / JAX rule:
 * a 1-D b is a vector, anything else a stack of matrices). A singular a gives Inf/NaN, as JAX.
 */
export function solve(a: X, b: X): Tensor {
  const [at] = squareArg("solve", a);
  const bt = sameDtype("solve", at, floatArg("solve", b, 1, "b"));
  const [a2, b2, vector] = asMatrixRhs("solve", at, bt);
  const x = solveCore(a2, b2);
  return vector ? squeeze(x, -1) : x;
}

const invCore: (a: Tensor) => Tensor = customJvp((a: Tensor) => {
  const [lu, perm] = luRaw(a);
  return luSolveRaw(lu, perm, eyeLike(a, a.shape.at(-1)!));
}, {
  // d(A^-1) = -A^-1 dA A^-1
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const ai = invCore(a!);
    return [ai, negative(matmul(matmul(ai, da!), ai))];
  },
});

/** The inverse of a [..., n, n]; a singular matrix gives Inf/NaN entries (as JAX). */
export function inv(a: X): Tensor {
  return invCore(squareArg("inv", a)[0]);
}

/** sign and log|det| from LU factors. */
function slogdetRaw(a: Tensor): [Tensor, Tensor] {
  const [lu, , parity] = luRaw(a);
  const d = diagOf(lu);
  // + 0 turns a -0 sign (singular, odd permutation) into NumPy's 0
  return [add(multiply(parity, prod(sign(d), { axis: -1 })), 0), sum(log(abs(d)), { axis: -1 })];
}

// d log|det A| = tr(A^-1 dA) = sum(A^-T * dA)
const trInvDot = (a: Tensor, da: Tensor) => sum(multiply(mT(invCore(a)), da), { axis: [-1, -2] });

const detCore: (a: Tensor) => Tensor = customJvp((a: Tensor) => {
  const [lu, , parity] = luRaw(a);
  return multiply(parity, prod(diagOf(lu), { axis: -1 }));
}, {
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const d = detCore(a!);
    return [d, multiply(d, trInvDot(a!, da!))];
  },
});

/** det(a) by LU; its derivative det(a) tr(a^-1 da) is NaN at an exactly singular a (JAX: finite). */
export function det(a: X): Tensor {
  return detCore(squareArg("det", a)[0]);
}

const slogdetCore: (a: Tensor) => [Tensor, Tensor] = customJvp((a: Tensor) => slogdetRaw(a), {
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const [s, l] = slogdetCore(a!);
    return [[s, l], [multiply(s, 0), trInvDot(a!, da!)]];
  },
});

/** [sign, log|det a|]; a singular a gives [0, -Infinity] (as NumPy). */
export function slogdet(a: X): [Tensor, Tensor] {
  return slogdetCore(squareArg("slogdet", a)[0]);
}

const symmetrize = (a: Tensor) => multiply(add(a, mT(a)), 0.5);

const choleskyCore: (a: Tensor) => Tensor = customJvp((a: Tensor) => {
  const n = a.shape.at(-1)!;
  const s = symmetrize(a);
  const io = iota(n);
  const l = foriLoop(
    0,
    n,
    (k: Tensor, l: Tensor) => {
      const e = oneHot(n, k);
      const v = subtract(colAt(s, e), matvec(l, rowAt(l, e))); // a_k - L L_k^T: column k of the Schur complement
      const r = sqrt(expandDims(entryAt(v, e), -1));
      const col = where(greater(io, k), divide(v, r), where(e, r, 0));
      return where(expandDims(e, -2), expandDims(col, -1), l);
    },
    zerosLike(a),
  );
  // not positive definite (a pivot <= 0, or NaN input): the whole factor is NaN, as JAX
  const ok = all(greater(diagOf(l), 0), { axis: -1 });
  return where(expandDims(ok, [-1, -2]), l, NaN);
}, {
  // dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with half the diagonal
  jvp: ([a]: Tensor[], [da]: Tensor[]) => {
    const l = choleskyCore(a!);
    const x = trsm(l, symmetrize(da!), true, false);
    const y = trsm(l, mT(x), true, false);
    const phi = subtract(tril(y), multiply(diagMat(diagOf(y)), 0.5));
    return [l, matmul(l, phi)];
  },
});

/**
 * The lower Cholesky factor L of a symmetric positive definite a [..., n, n] (a = L L^T). As JAX,
 * a is symmetrized, (a + a^T)/2 (NumPy reads only the lower triangle: the same for symmetric
 * input); a matrix that is not positive definite gives an all-NaN factor.
 */
export function cholesky(a: X): Tensor {
  return choleskyCore(squareArg("cholesky", a)[0]);
}

export interface TriangularSolveOptions {
  /** a is lower triangular (default false, as scipy.linalg.solve_triangular) */
  lower?: boolean;
  /** 0/"N": a x = b; 1/"T": a^T x = b */
  trans?: 0 | 1 | "N" | "T";
  /** the diagonal of a is taken to be all ones (and not read) */
  unitDiagonal?: boolean;
}

const trsmCores = new Map<string, (t: Tensor, b: Tensor) => Tensor>();
function trsmCore(lower: boolean, unit: boolean): (t: Tensor, b: Tensor) => Tensor {
  const key = `${lower}${unit}`;
  let f = trsmCores.get(key);
  if (!f) {
    const tri = (t: Tensor) => where(lower ? lowerMask(t.shape.at(-1)!, t.shape.at(-1)!, unit ? -1 : 0) : upperMask(t.shape.at(-1)!, t.shape.at(-1)!, unit ? 1 : 0), t, 0);
    const core: (t: Tensor, b: Tensor) => Tensor = customJvp((t: Tensor, b: Tensor) => trsm(t, b, lower, unit), {
      // x = T^-1 b: dx = T^-1 (db - dT x), dT restricted to the triangle that is read
      jvp: ([t, b]: Tensor[], [dt, db]: Tensor[]) => {
        const x = core(t!, b!);
        return [x, trsm(t!, subtract(db!, matmul(tri(dt!), x)), lower, unit)];
      },
    });
    trsmCores.set(key, (f = core));
  }
  return f;
}

/**
 * scipy.linalg.solve_triangular / jax.scipy.linalg.solve_triangular: solves a x = b (or a^T x = b)
 * for triangular a [..., n, n]; b is [n] or [..., n, k]. Only a's triangle is read. A zero on the
 * diagonal gives Inf/NaN.
 */
export function triangularSolve(a: X, b: X, opts: TriangularSolveOptions = {}): Tensor {
  const [at] = squareArg("triangularSolve", a);
  const bt = sameDtype("triangularSolve", at, floatArg("triangularSolve", b, 1, "b"));
  const trans = opts.trans ?? 0;
  if (![0, 1, "N", "T"].includes(trans)) throw new ArgumentError(`${fname("triangularSolve")}: trans must be 0, 1, "N" or "T", got ${JSON.stringify(trans)}`);
  const t = trans === 1 || trans === "T";
  const lower = !!opts.lower !== t; // a^T of a lower matrix is upper
  const [a2, b2, vector] = asMatrixRhs("triangularSolve", at, bt);
  const x = trsmCore(lower, !!opts.unitDiagonal)(t ? mT(a2) : a2, b2);
  return vector ? squeeze(x, -1) : x;
}
