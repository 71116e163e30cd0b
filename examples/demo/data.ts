// Loads the Palmer penguins table shipped in examples/data/penguins.csv (CC0, see the README
// there), keeps the rows with all four measurements, splits them into train and test sets with a
// fixed adgen random key, and standardizes the features with the training set's mean and std.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { np, random, type Tensor } from "../../src/index.js";

export const FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"] as const;
export const SPECIES = ["Adelie", "Chinstrap", "Gentoo"] as const;

export interface Split {
  /** standardized features, float32 [n, 4] */
  x: Tensor;
  /** species index, int32 [n] */
  y: Tensor;
}

export interface Dataset {
  train: Split;
  test: Split;
  /** rows read from the file, and rows dropped because a measurement is missing */
  rows: number;
  dropped: number;
  /** training-set mean and std of each feature, in the file's units */
  mean: number[];
  std: number[];
}

const CSV = fileURLToPath(new URL("../data/penguins.csv", import.meta.url));

/** Parses the CSV into feature rows and labels, skipping rows with a missing measurement. */
function readRows(path: string): { feats: number[][]; labels: number[]; rows: number } {
  const lines = readFileSync(path, "utf8").trim().split(/\r?\n/);
  const header = lines[0]!.split(",");
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${path}: no column ${name}`);
    return i;
  };
  const speciesCol = col("species");
  const featCols = FEATURES.map(col);
  const feats: number[][] = [];
  const labels: number[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    const label = (SPECIES as readonly string[]).indexOf(cells[speciesCol]!);
    if (label < 0) throw new Error(`${path}: unknown species ${cells[speciesCol]}`);
    const row = featCols.map((c) => (cells[c] === "NA" ? NaN : Number(cells[c])));
    if (row.some((v) => !Number.isFinite(v))) continue;
    feats.push(row);
    labels.push(label);
  }
  return { feats, labels, rows: lines.length - 1 };
}

/** Reads, shuffles with `seed`, splits off `testFraction` and standardizes. */
export function loadPenguins(seed: number, testFraction = 0.2): Dataset {
  const { feats, labels, rows } = readRows(CSV);
  const n = feats.length;
  const x = np.array(feats, { dtype: "float32" });
  const y = np.array(labels, { dtype: "int32" });
  const perm = random.permutation(random.key(seed), n);
  const nTest = Math.round(n * testFraction);
  const testIdx = np.slice(perm, [0], [nTest]);
  const trainIdx = np.slice(perm, [nTest], [n]);
  const xTrain = np.take(x, trainIdx, { axis: 0 });
  const xTest = np.take(x, testIdx, { axis: 0 });
  // statistics from the training rows only, so nothing about the test set leaks into training
  const mean = np.mean(xTrain, { axis: 0 });
  const std = np.sqrt(np.mean(np.square(np.subtract(xTrain, mean)), { axis: 0 }));
  const scale = (t: Tensor) => np.divide(np.subtract(t, mean), std);
  return {
    train: { x: scale(xTrain), y: np.take(y, trainIdx) },
    test: { x: scale(xTest), y: np.take(y, testIdx) },
    rows,
    dropped: rows - n,
    mean: Array.from(mean.dataSync()),
    std: Array.from(std.dataSync()),
  };
}

/** Rows `idx` of a split, as a new minibatch. */
export function batch(s: Split, idx: Tensor): Split {
  return { x: np.take(s.x, idx, { axis: 0 }), y: np.take(s.y, idx) };
}
