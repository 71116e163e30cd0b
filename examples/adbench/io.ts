// Parsers for the ADBench input files (GMM, D-LSTM, BA) into plain Float64Array-based structures,
// and ADBench's agreement metric (used by the tests, the benchmarks and run.ts).
// Format definitions: /work/shared/adbench/README.md. Files are whitespace-separated numbers;
// blank lines and line structure are ignored, values are consumed in the documented order.
// Independent of the adgen library (no imports from src/).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of the bundled data directory (examples/adbench/data/). */
export const DATA_DIR = fileURLToPath(new URL("./data/", import.meta.url));

/** Resolve a path relative to examples/adbench/data/ (e.g. "gmm/test.txt"). */
export function dataPath(rel: string): string {
  return DATA_DIR + rel;
}

export interface GmmData {
  d: number;
  k: number;
  n: number;
  alphas: Float64Array; // k
  means: Float64Array; // k*d, row k = mu_k
  icf: Float64Array; // k*d(d+1)/2, row k = [q_k (d), l_k (d(d-1)/2)]
  x: Float64Array; // n*d, row i = x_i
  gamma: number;
  m: number;
}

export interface LstmData {
  l: number; // layers
  c: number; // sequence length (characters)
  b: number; // hidden size / alphabet size
  mainParams: Float64Array; // 2l rows of 4b: per layer weight row then bias row, [f, i, o, c] blocks
  extraParams: Float64Array; // 3 rows of b: in_weight, out_weight, out_bias
  state: Float64Array; // 2l rows of b: per layer hidden then cell
  sequence: Float64Array; // c rows of b
}

export interface BaData {
  n: number; // cameras
  m: number; // points
  p: number; // observations
  cams: Float64Array; // n*11: r(3), C(3), f, u0, v0, k1, k2
  X: Float64Array; // m*3
  w: Float64Array; // p
  feats: Float64Array; // p*2
  obs: Int32Array; // p*2: camera index, point index of observation i
}

/** Sequential reader over the whitespace-separated numeric tokens of a file. */
class TokenReader {
  private readonly tokens: string[];
  private pos = 0;

  constructor(
    text: string,
    private readonly path: string,
  ) {
    this.tokens = text.split(/\s+/).filter((t) => t.length > 0);
  }

  get remaining(): number {
    return this.tokens.length - this.pos;
  }

  next(): number {
    if (this.pos >= this.tokens.length) {
      throw new Error(`${this.path}: unexpected end of file after ${this.pos} values`);
    }
    const tok = this.tokens[this.pos++]!;
    const v = Number(tok);
    if (!Number.isFinite(v)) {
      throw new Error(`${this.path}: value #${this.pos} is not a finite number: "${tok}"`);
    }
    return v;
  }

  int(): number {
    const v = this.next();
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`${this.path}: expected a non-negative integer, got ${v}`);
    }
    return v;
  }

  fill(out: Float64Array, offset = 0, count = out.length - offset): Float64Array {
    for (let i = 0; i < count; i++) out[offset + i] = this.next();
    return out;
  }

  array(count: number): Float64Array {
    return this.fill(new Float64Array(count));
  }
}

function open(path: string): TokenReader {
  return new TokenReader(readFileSync(path, "utf8"), path);
}

/** Repeat `src` as `rows` consecutive rows. */
function replicateRow(src: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows * src.length);
  for (let r = 0; r < rows; r++) out.set(src, r * src.length);
  return out;
}

export function readGmm(path: string): GmmData {
  const rd = open(path);
  const d = rd.int();
  const k = rd.int();
  const n = rd.int();
  const icfSize = (d * (d + 1)) / 2;
  const alphas = rd.array(k);
  const means = rd.array(k * d);
  const icf = rd.array(k * icfSize);
  // Points: n rows, or (2.5M-point variant) a single row that stands for n identical rows.
  let x: Float64Array;
  if (rd.remaining === n * d + 2) x = rd.array(n * d);
  else if (rd.remaining === d + 2) x = replicateRow(rd.array(d), n);
  else throw new Error(`${path}: expected ${n * d + 2} values after icf, found ${rd.remaining}`);
  const gamma = rd.next();
  const m = rd.int();
  return { d, k, n, alphas, means, icf, x, gamma, m };
}

export function readLstm(path: string): LstmData {
  const rd = open(path);
  const l = rd.int();
  const c = rd.int();
  const b = rd.int();
  const mainParams = rd.array(2 * l * 4 * b);
  const extraParams = rd.array(3 * b);
  const state = rd.array(2 * l * b);
  const sequence = rd.array(c * b);
  if (rd.remaining !== 0) throw new Error(`${path}: ${rd.remaining} unexpected trailing values`);
  return { l, c, b, mainParams, extraParams, state, sequence };
}

/** Keep only the first `c` characters of the sequence (for fast tests); parameters are shared. */
export function truncateLstm(data: LstmData, c: number): LstmData {
  if (c < 2 || c > data.c) throw new Error(`truncateLstm: c must be in [2, ${data.c}]`);
  return { ...data, c, sequence: data.sequence.slice(0, c * data.b) };
}

export function readBa(path: string): BaData {
  const rd = open(path);
  const n = rd.int();
  const m = rd.int();
  const p = rd.int();
  const cam = rd.array(11);
  const point = rd.array(3);
  const w0 = rd.next();
  const feat = rd.array(2);
  if (rd.remaining !== 0) throw new Error(`${path}: ${rd.remaining} unexpected trailing values`);
  // The file stores one camera/point/weight/feature; replicate as in ADBench's reader.
  const obs = new Int32Array(2 * p);
  for (let i = 0; i < p; i++) {
    obs[2 * i] = i % n;
    obs[2 * i + 1] = i % m;
  }
  return {
    n,
    m,
    p,
    cams: replicateRow(cam, n),
    X: replicateRow(point, m),
    w: new Float64Array(p).fill(w0),
    feats: replicateRow(feat, p),
    obs,
  };
}

/** ADBench's agreement of two numbers: |x - y| / max(1, |x| + |y|). */
export function adbenchRelErr(x: number, y: number): number {
  return Math.abs(x - y) / Math.max(1, Math.abs(x) + Math.abs(y));
}

/** The worst adbenchRelErr over two arrays; Infinity for a NaN or for different lengths. */
export function adbenchErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = adbenchRelErr(got[i]!, ref[i]!);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}
