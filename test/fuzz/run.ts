// The fuzzer's driver, shared by the bounded run in `npm test` (test/fuzz.test.ts) and the long
// run (`npm run fuzz`, scripts/fuzz.ts): samples programs with fast-check from a seed, checks each
// on every path (paths.ts), and shrinks each distinct failure with fast-check (keeping the same
// path and failure kind while shrinking) to a small repro printed as adgen code.

import fc from "fast-check";
import { config } from "../../src/index.js";
import { type Prog, generate } from "./ast.js";
import { CORPUS } from "./corpus.js";
import { KNOWN, knownOf } from "./known.js";
import { type Failure, type Options, checkProgram, cleanupExports } from "./paths.js";
import { programCode } from "./print.js";

/** A program is a choice stream (shrinks toward fewer, smaller choices) plus an input seed. */
export const programArb = fc.tuple(fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 160 }), fc.nat({ max: 1e6 }));
type Case = [number[], number];

export interface Found {
  failure: Failure;
  program: string;
  /** choices and input seed of the shrunk case, to replay it */
  replay: Case;
  known?: string;
}

export interface Report {
  seed: number;
  programs: number;
  rejected: number;
  checks: number;
  skippedRef: number;
  knownHits: Map<string, number>;
  failures: Found[];
  rejections: Map<string, number>;
  ms: number;
}

export interface RunOptions extends Options {
  seed: number;
  /** stop after this many programs or this much time, whichever comes first */
  maxPrograms: number;
  timeMs: number;
  /** shrink each new failure (costs a few more program runs per failure) */
  shrink: boolean;
  /** time budget of one shrink */
  shrinkMs?: number;
  log?: (line: string) => void;
}

const kindOf = (f: Failure) => (f.detail.startsWith("throws") ? "throws" : "mismatch");
/** What makes two failures "the same finding": the path, the kind, and the error text without numbers. */
export const signature = (f: Failure) =>
  `${f.path} ${kindOf(f)} ${kindOf(f) === "throws" ? f.detail.replace(/-?\d[\d.e+-]*/g, "#").slice(0, 120) : ""}`;

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const logger = config.logger;
  config.update({ logger: () => {} });
  try {
    return await f();
  } finally {
    config.update({ logger });
  }
}

/** Shrinks a failing case while it keeps failing on the same path with the same kind of failure. */
async function shrinkCase(c: Case, f: Failure, opts: RunOptions): Promise<{ case: Case; failure: Failure }> {
  let best = { case: c, failure: f };
  const prop = fc.asyncProperty(programArb, async ([ch, sd]) => {
    const p = generate(ch);
    const o = await checkProgram(p, sd, opts);
    const hit = o.failures.find((g) => g.path === f.path && kindOf(g) === kindOf(f) && !knownOf(g, p));
    if (hit) best = { case: [ch, sd], failure: hit };
    return !hit;
  });
  await fc.check(prop, { examples: [[c]], numRuns: 1, seed: opts.seed, interruptAfterTimeLimit: opts.shrinkMs ?? 20_000, markInterruptAsFailure: false });
  return best;
}

export async function runFuzz(opts: RunOptions): Promise<Report> {
  const log = opts.log ?? (() => {});
  const start = Date.now();
  const rep: Report = { seed: opts.seed, programs: 0, rejected: 0, checks: 0, skippedRef: 0, knownHits: new Map(), failures: [], rejections: new Map(), ms: 0 };
  const seen = new Set<string>();
  let batch = 0;
  return quietly(async () => {
    try {
      for (const { name, prog } of CORPUS) {
        const o = await checkProgram(prog, opts.seed, opts);
        rep.programs++;
        rep.checks += o.checks;
        for (const fl of o.failures) {
          if (knownOf(fl, prog)) continue;
          log(`failure on ${fl.path} (${fl.set} inputs) in corpus program "${name}": ${fl.detail}`);
          rep.failures.push({ failure: fl, program: `${prog.dt}: ${programCode(prog)} (corpus: ${name})`, replay: [[], opts.seed] });
        }
      }
      while (rep.programs < opts.maxPrograms && Date.now() - start < opts.timeMs) {
        const cases = fc.sample(programArb, { seed: opts.seed + batch++ * 7919, numRuns: 20 });
        for (const c of cases) {
          if (rep.programs >= opts.maxPrograms || Date.now() - start >= opts.timeMs) break;
          const p: Prog = generate(c[0]);
          // every exported module imported stays loaded (ES modules cannot be unloaded) with its
          // WebAssembly memory, and V8 reserves address space per memory: after ~10k imports in one
          // process every new memory fails. Export every third program keeps 10-minute runs far below.
          const o = await checkProgram(p, c[1], { ...opts, exportModules: opts.exportModules && rep.programs % 3 === 0 });
          rep.programs++;
          rep.checks += o.checks;
          rep.skippedRef += o.skippedRef;
          if (o.rejected) {
            rep.rejected++;
            const key = o.rejected.replace(/-?\d[\d.e+-]*/g, "#").slice(0, 140);
            rep.rejections.set(key, (rep.rejections.get(key) ?? 0) + 1);
            continue;
          }
          for (const fl of o.failures) {
            const k = knownOf(fl, p);
            if (k) {
              rep.knownHits.set(k.id, (rep.knownHits.get(k.id) ?? 0) + 1);
              continue;
            }
            const sig = signature(fl);
            if (seen.has(sig)) continue;
            seen.add(sig);
            log(`failure on ${fl.path} (${fl.set} inputs): ${fl.detail}\n  program: ${p.dt}: ${programCode(p)}`);
            const s = opts.shrink ? await shrinkCase(c, fl, opts) : { case: c, failure: fl };
            const sp = generate(s.case[0]);
            const found: Found = { failure: s.failure, program: `${sp.dt}: ${programCode(sp)}`, replay: s.case };
            rep.failures.push(found);
            log(`  shrunk: ${found.program}\n  ${s.failure.detail}`);
          }
        }
      }
    } finally {
      cleanupExports();
      rep.ms = Date.now() - start;
    }
    return rep;
  });
}

/** Re-runs one case (as printed after "replay:") and returns its failures, known ones marked. */
export async function replay(c: Case, opts: Options): Promise<{ program: Prog; failures: (Failure & { known?: string })[] }> {
  const program = generate(c[0]);
  const o = await quietly(() => checkProgram(program, c[1], opts));
  cleanupExports();
  return { program, failures: o.failures.map((f) => ({ ...f, known: knownOf(f, program)?.id })) };
}

export function formatReport(r: Report): string {
  const lines = [
    `fuzz seed ${r.seed}: ${r.programs} programs (${r.rejected} rejected by eager evaluation), ${r.checks} path checks, ` +
      `${r.skippedRef} reference derivative checks skipped at kinks, ${(r.ms / 1000).toFixed(1)} s`,
  ];
  for (const k of KNOWN) lines.push(`  known ${k.id}: ${r.knownHits.get(k.id) ?? 0} failing checks skipped (${k.why})`);
  for (const f of r.failures) {
    lines.push(`FAIL ${f.failure.path} (${f.failure.set} inputs): ${f.failure.detail}`, `  replay: [${JSON.stringify(f.replay[0])}, ${f.replay[1]}]`, f.failure.repro.split("\n").map((l) => "    " + l).join("\n"));
  }
  return lines.join("\n");
}
