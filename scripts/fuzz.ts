// The long differential fuzzer run: `npm run fuzz -- --minutes 10 --seed 42 [--no-export] [--no-shrink]`,
// or one case again: `npm run fuzz -- --replay '[[choices], seed]'` (as printed after "replay:").
// Prints counts (programs x paths), time and every distinct failure with its shrunk repro; exits
// non-zero on any failure not in test/fuzz/known.ts.

import { formatReport, replay, runFuzz } from "../test/fuzz/run.js";
import { programCode } from "../test/fuzz/print.js";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const replayArg = arg("replay");
if (replayArg) {
  // npm run fuzz -- --replay '[[choices...], seed]'
  const { program, failures } = await replay(JSON.parse(replayArg), { exportModules: !args.includes("--no-export") });
  console.log(`${program.dt}: ${programCode(program)}`);
  for (const f of failures) console.log(`${f.known ? `known ${f.known}` : "FAIL"} ${f.path} (${f.set} inputs): ${f.detail}\n${f.repro}`);
  process.exit(failures.some((f) => !f.known) ? 1 : 0);
}
const minutes = Number(arg("minutes") ?? 2);
const seed = Number(arg("seed") ?? Date.now() % 1e9);
const maxPrograms = Number(arg("programs") ?? Infinity);
console.log(`adgen fuzz: seed ${seed}, ${minutes} min${Number.isFinite(maxPrograms) ? `, at most ${maxPrograms} programs` : ""}`);
const report = await runFuzz({
  seed,
  timeMs: minutes * 60_000,
  maxPrograms,
  exportModules: !args.includes("--no-export"),
  shrink: !args.includes("--no-shrink"),
  log: (l) => console.log(l),
});
console.log(formatReport(report));
if (report.rejections.size) {
  console.log("programs rejected by eager evaluation (check these are legitimate):");
  for (const [k, n] of [...report.rejections].sort((a, b) => b[1] - a[1])) console.log(`  ${n} x ${k}`);
}
process.exit(report.failures.length ? 1 : 0);
