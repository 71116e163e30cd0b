// Regressions of issue 9 for ahead-of-time export: export names (reserved words, globals, the
// module's own helper names, unicode, empty) are rejected with an ArgumentError or give a module
// that imports (by a static `import { name }`) and runs; bool inputs follow adgen's truthiness
// (np.array(v, {dtype: "bool"})) for nested arrays, scalars and typed arrays; a symbol used only
// in a linear size (2*B, B+1, 2*B*T) is solved at call time, one that cannot be solved is rejected
// at export time.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type Tensor, exportFunction, np, spec } from "../src/index.js";
import { ArgumentError } from "../src/core/errors.js";

const dir = mkdtempSync(join(tmpdir(), "adgen-regress-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** Writes an export into a fresh folder; returns the folder. */
async function written(e: { write(d: string): Promise<string[]> }): Promise<string> {
  const d = join(dir, `e${seq++}`);
  await e.write(d);
  return d;
}
const importFile = (file: string) => import(/* @vite-ignore */ pathToFileURL(file).href) as Promise<Record<string, any>>;

// ---- names ---------------------------------------------------------------------------------------

// sum(x @ x^T): the module then carries the GEMM runtime (matmul, $gemm, ...) as well
const f = (x: Tensor) => np.sum(np.matmul(x, np.transpose(x)));
const X = [
  [1, 2],
  [3, -1],
];
const WANT = 1 + 4 + 9 + 1 + 2 * (3 - 2);

/** Independent reference for ASCII names: a usable binding iff strict-mode `let name;` parses (and not `await`, reserved in modules). */
const usableAscii = (n: string) => {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n) || n === "await" || n.length > 128) return false;
  try {
    new Function(`"use strict"; let ${n};`);
    return true;
  } catch {
    return false;
  }
};

const RESERVED = "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with implements interface let package private protected public static yield await eval arguments".split(" ");

describe("issue 9: export names", () => {
  /**
   * Exports f under each name (alternating backends): each is either rejected with an
   * ArgumentError or written; then one plain Node process imports every written module with a
   * static `import { name }` and calls it. Returns the accepted names.
   */
  function exportAndImportAll(names: string[], tag: string): string[] {
    const accepted: string[] = [];
    names.forEach((n, i) => {
      try {
        const e = exportFunction(f, [spec("float32", [2, 2])], { name: n, backend: i % 2 ? "wasm" : "js" });
        writeFileSync(join(dir, `${tag}${i}.mjs`), e.source);
        accepted.push(n);
      } catch (err) {
        expect(err, `name ${JSON.stringify(n)}`).toBeInstanceOf(ArgumentError);
      }
    });
    // the checker declares no binding of its own (any name may be imported) and uses no global
    const check = join(dir, `check-${tag}.mjs`);
    writeFileSync(
      check,
      accepted.map((n) => `import { ${n} } from "./${tag}${names.indexOf(n)}.mjs";`).join("\n") +
        `\nexport default [${accepted.map((n) => `${n}(${JSON.stringify(X)}).data[0]`).join(", ")}];\n`,
    );
    const runner = join(dir, `run-${tag}.mjs`);
    writeFileSync(runner, `import r from "./check-${tag}.mjs";\nprocess.stdout.write("R=" + r.join(","));\n`);
    const out = execFileSync(process.execPath, [runner], { timeout: 60_000 }).toString();
    expect(out).toBe("R=" + accepted.map(() => WANT).join(","));
    // independent reference on the ASCII names
    for (const n of names) if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n)) expect(accepted.includes(n) ? "works" : "rejected", n).toBe(usableAscii(n) ? "works" : "rejected");
    return accepted;
  }

  it("issue 9 (export names): every identifier of a generated module (its helpers and the globals it uses: matmul, $fail, Float32Array, ...) and every reserved word is rejected or works", () => {
    const sources = [
      exportFunction(f, [spec("float32", [2, 2])], { name: "probe" }).source,
      exportFunction((x: Tensor) => np.sum(np.matmul(x, np.transpose(x))), [spec("float32", ["B", 2])], { name: "probe", backend: "js" }).source,
    ];
    // the module's own bindings (not one-letter locals), and every global it refers to
    const declared = sources.flatMap((s) => [...s.matchAll(/(?:function|const|let|var|class)\s+([\p{ID_Start}$_][\p{ID_Continue}$]*)/gu)].map((m) => m[1]!)).filter((n) => n.length > 2);
    const globals = sources.flatMap((s) => [...s.matchAll(/[\p{ID_Start}$_][\p{ID_Continue}$]*/gu)].map((m) => m[0]).filter((n) => n in globalThis));
    const names = [...new Set(["matmul", "let", "eval", "$fail", "Float32Array", "$f0", "$NAME", "default", "undefined", "arguments", ...RESERVED, ...declared, ...globals])];
    expect(names.length).toBeGreaterThan(80);
    const accepted = exportAndImportAll(names, "n");
    for (const n of ["matmul", "$fail", "Float32Array", "Math", "WebAssembly", "$toArray", "AdgenModuleError", "undefined"]) expect(accepted, n).toContain(n);
    for (const n of ["let", "eval", "default", "await", "yield", "static", "arguments"]) expect(accepted, n).not.toContain(n);
  }, 60_000);

  it("issue 9 (export names): random names (ASCII, unicode, empty, very long) are rejected with an ArgumentError or import and run", () => {
    const name = fc.oneof(
      fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,12}$/),
      fc.string({ unit: "binary", maxLength: 6 }),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    );
    const fixed = ["", " ", "a b", "a;b", "a\nb", "a/**/", "é", "ℝx", "x\u200d", "\u{1d4b3}", "𝑥1", "a".repeat(129), "a".repeat(128), "__proto__", "constructor", "$", "_"];
    const names = [...new Set([...fixed, ...fc.sample(name, { numRuns: 100, seed: 9 })])];
    const accepted = exportAndImportAll(names, "r");
    expect(accepted).toEqual(expect.arrayContaining(["ℝx", "𝑥1", "a".repeat(128), "__proto__", "$", "_"]));
    expect(accepted).not.toEqual(expect.arrayContaining([""]));
  }, 60_000);
});

// ---- bool truthiness -----------------------------------------------------------------------------

describe("issue 9: exported bool inputs follow adgen's truthiness", () => {
  const g = (b: Tensor, x: Tensor) => [np.where(b, x, np.negative(x)), np.sum(b.astype("float32"))];

  it("issue 9.6 (export bool): nested numbers, booleans, scalars and Uint8Array data convert exactly like np.array(v, {dtype: 'bool'})", async () => {
    const d = await written(exportFunction(g, [spec("bool", [8]), spec("float32", [8])], { name: "sel" }));
    const { sel } = await importFile(join(d, "sel.mjs"));
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const cases: [string, unknown, unknown][] = [
      ["fractions and specials", [0.5, 0, NaN, -1, 2, -0, Infinity, 1e-30], [0.5, 0, NaN, -1, 2, -0, Infinity, 1e-30]],
      ["booleans", [true, false, true, true, false, false, true, false], [true, false, true, true, false, false, true, false]],
      ["mixed", [true, 0.25, 0, -0.5, false, 256, 3, -Infinity], [true, 0.25, 0, -0.5, false, 256, 3, -Infinity]],
      ["Uint8Array values > 1", { data: Uint8Array.of(0, 1, 2, 255, 0, 128, 1, 0), shape: [8] }, Uint8Array.of(0, 1, 2, 255, 0, 128, 1, 0)],
    ];
    for (const [what, input, ref] of cases) {
      const got = sel(input, x);
      const [w, s] = g(np.array(ref as never, { dtype: "bool" }), np.array(x, { dtype: "float32" })) as Tensor[];
      expect(Array.from(got[0].data as Float32Array), what).toEqual(Array.from(w!.data));
      expect(got[1].data[0], what).toBe(s!.item());
    }
    // an adgen bool tensor is passed through
    const bt = np.array([0.5, 0, 1, 0, 0, 1, 1, 0], { dtype: "bool" });
    expect(Array.from(sel(bt, x)[0].data)).toEqual(Array.from((g(bt, np.array(x, { dtype: "float32" }))[0] as Tensor).data));
  });

  it("issue 9.6 (export bool): a bool scalar given 0.5 is true, as in adgen; 2-D nested arrays too", async () => {
    const h = (b: Tensor, x: Tensor) => np.where(b, x, 0);
    const d = await written(exportFunction(h, [spec("bool", []), spec("float32", [2])], { name: "pick", backend: "js" }));
    const { pick } = await importFile(join(d, "pick.mjs"));
    for (const v of [0.5, 0, -0.5, NaN, true, false]) {
      const want = Array.from((h(np.array(v as never, { dtype: "bool" }), np.array([3, 4], { dtype: "float32" })) as Tensor).data);
      expect(Array.from(pick(v, [3, 4]).data), String(v)).toEqual(want);
    }
    const d2 = await written(exportFunction((b: Tensor) => np.sum(b.astype("int32")), [spec("bool", [2, 3])], { name: "count" }));
    const { count } = await importFile(join(d2, "count.mjs"));
    const m = [
      [0.1, 0, 7],
      [false, -3, 0.999],
    ];
    expect(count(m).data[0]).toBe((np.sum(np.array(m as never, { dtype: "bool" }).astype("int32")) as Tensor).item());
  });

  it("issue 9 (export int32): nested numbers convert to int32 like adgen's cast (truncate, saturate, NaN -> 0)", async () => {
    const d = await written(exportFunction((k: Tensor) => np.add(k, 0), [spec("int32", [6])], { name: "ints" }));
    const { ints } = await importFile(join(d, "ints.mjs"));
    const v = [0.5, -1.7, 1e10, -1e10, NaN, 2 ** 31];
    expect(Array.from(ints(v).data)).toEqual(Array.from(np.array(v, { dtype: "float64" }).astype("int32").data));
  });
});

// ---- symbols used only in composite sizes --------------------------------------------------------

describe("issue 9.6: a symbol used only as 2*B", () => {
  it("issue 9.6 (export 2*B): solved at call time with a divisibility check (2*B, B+1, 2*B*T with T bound elsewhere)", async () => {
    const s = (x: Tensor) => np.sum(x, { axis: 0 });
    const d = await written(exportFunction(s, [spec("float32", ["2*B", 3])], { name: "twoB" }));
    const { twoB } = await importFile(join(d, "twoB.mjs"));
    for (const n of [2, 4, 6]) {
      const x = Array.from({ length: n }, (_, i) => [i, 2 * i, -i]);
      expect(Array.from(twoB(x).data), `n=${n}`).toEqual(Array.from((s(np.array(x, { dtype: "float32" })) as Tensor).data));
    }
    expect(() => twoB([[1, 2, 3]])).toThrow(/twoB: argument 0 \(float32\) should have shape \[2\*B,3\], got \[1,3\]: axis 0 is 2\*B, which needs B = size \/ 2 to be an integer >= 1/);
    expect(() => twoB({ data: new Float32Array(0), shape: [0, 3] })).toThrow(/integer >= 1/);

    const d1 = await written(exportFunction((x: Tensor) => np.sum(x), [spec("float32", ["B+1"])], { name: "plus1", backend: "js" }));
    const { plus1 } = await importFile(join(d1, "plus1.mjs"));
    expect(plus1([1, 2, 3]).data[0]).toBe(6);
    expect(() => plus1([5])).toThrow(/B = \(size - \(1\)\) to be an integer >= 1/);

    const st = (x: Tensor, y: Tensor) => np.add(np.sum(x), np.sum(y));
    const d2 = await written(exportFunction(st, [spec("float32", ["T"]), spec("float32", ["2*B*T"])], { name: "bt" }));
    const { bt } = await importFile(join(d2, "bt.mjs"));
    expect(bt([1, 2, 3], Array.from({ length: 12 }, (_, i) => i)).data[0]).toBe(6 + 66); // T=3, B=2
    expect(() => bt([1, 2, 3], [1, 2, 3])).toThrow(/needs B = size \/ \(2\*T\)/);
  });

  it("issue 9.6 (export 2*B): a symbol no argument size determines is rejected at export time", () => {
    expect(() => exportFunction((x: Tensor) => np.sum(x), [spec("float32", ["B*B"])], { name: "sq" })).toThrow(ArgumentError);
    expect(() => exportFunction((x: Tensor) => np.sum(x), [spec("float32", ["B*B"])], { name: "sq" })).toThrow(/symbolic dimension B cannot be determined from the argument shapes \(B\*B/);
    expect(() => exportFunction((x: Tensor) => np.sum(x), [spec("float32", ["B+T"])], { name: "bt" })).toThrow(/dimensions B, T cannot be determined/);
  });
});
