/**
 * Markdown summary of a bench run, for the README.
 *
 *   npx tsx bench/table.ts                    # newest bench/results/*.json (by the run's date)
 *   npx tsx bench/table.ts --full             # newest full run (--quick: newest quick run)
 *   npx tsx bench/table.ts bench/results/2026-11-25-full.json
 *   npm run bench:table [-- <args>]
 *
 * One row per workload; columns adgen / jax-js / tfjs-wasm / tfjs-cpu / hand with the median and
 * its unit ("n/a" = the peer cannot run the row, "ERR" = it failed, "!" = wrong result), then
 * "vs best peer": adgen's advantage over the best other column, as cost(best) / cost(adgen)
 * (for GFLOP/s: adgen / best), so above 1 adgen is better; derived x rows (grad/obj ratios)
 * count lower as better, like costs. Cells with a wrong result are not candidates for "best".
 * Above the table: date, mode, machine and the command that produced the JSON; below it the
 * row footnotes of the run (e.g. published ADBench ratios).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { costRatio, fmtNum, type CellResult, type RunResult, type Unit, type WorkloadResult } from "./harness.js";
import { REPO_ROOT } from "./peers/child.js";

const COLUMNS = ["adgen", "jax-js", "tfjs-wasm", "tfjs-cpu", "hand"];
const RESULTS_DIR = path.join(REPO_ROOT, "bench", "results");

function usage(): never {
  console.log("usage: npx tsx bench/table.ts [results.json] [--quick | --full]");
  process.exit(0);
}

interface Loaded {
  file: string;
  run: RunResult;
}

function load(file: string): Loaded {
  return { file, run: JSON.parse(readFileSync(file, "utf8")) as RunResult };
}

/** The newest run in bench/results (by meta.date), optionally of one mode. */
function newest(mode?: string): Loaded {
  const runs = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      try {
        return load(path.join(RESULTS_DIR, f));
      } catch {
        return undefined;
      }
    })
    .filter((r): r is Loaded => r !== undefined && Array.isArray(r.run.workloads))
    .filter((r) => !mode || r.run.meta["mode"] === mode)
    .sort((a, b) => String(b.run.meta["date"]).localeCompare(String(a.run.meta["date"])));
  if (runs.length === 0) throw new Error(`no ${mode ?? ""} results in ${path.relative(process.cwd(), RESULTS_DIR)}`);
  return runs[0]!;
}

function unitLabel(u: Unit): string {
  return u === "us" ? " µs" : u === "x" ? "x" : ` ${u}`;
}

function cellText(w: WorkloadResult, c: CellResult | undefined): string {
  if (!c) return "";
  if (c.status === "unavailable") return "n/a";
  if (c.status === "error") return "ERR";
  const v = fmtNum(c.median) + unitLabel(w.unit);
  return c.verifyError ? `${v} !` : v;
}

function vsBest(w: WorkloadResult, peers: string[]): string {
  const a = w.results["adgen"];
  if (!a || a.status !== "ok" || a.verifyError) return "";
  let best: { name: string; cost: number } | undefined;
  for (const p of peers) {
    if (p === "adgen") continue;
    const c = w.results[p];
    if (!c || c.status !== "ok" || c.verifyError) continue;
    // cost of p relative to adgen: > 1 = adgen is better
    const r = costRatio(w.unit, c.median, a.median);
    if (!best || r < best.cost) best = { name: p, cost: r };
  }
  if (!best || !(best.cost > 0) || !Number.isFinite(best.cost)) return "";
  const r = best.cost;
  const s = r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
  return `${s}x (${best.name})`;
}

function machineLine(meta: Record<string, unknown>): string {
  const m = (meta["machine"] ?? {}) as Record<string, unknown>;
  const parts = [
    `${m["cpu"] ?? "unknown CPU"} x${m["cores"] ?? "?"} cores`,
    m["totalMemGB"] !== undefined ? `${m["totalMemGB"]} GB` : undefined,
    m["platform"] as string | undefined,
    m["node"] ? `node ${m["node"]}` : undefined,
  ].filter(Boolean);
  return parts.join(", ");
}

/** The command line of the run (stored since the ADBench rows; reconstructed for older files). */
function commandLine(meta: Record<string, unknown>): string {
  if (typeof meta["command"] === "string") return meta["command"];
  const only = (meta["only"] as string[] | undefined) ?? [];
  return (
    "npx tsx bench/run.ts" + (meta["mode"] === "quick" ? " --quick" : "") + (only.length ? ` --only ${only.join(",")}` : "")
  );
}

export function markdownTable(run: RunResult, file?: string): string {
  const peers = COLUMNS.filter((p) => run.peers.includes(p));
  const extra = run.peers.filter((p) => !COLUMNS.includes(p));
  const cols = [...peers, ...extra];
  const meta = run.meta;
  const date = String(meta["date"] ?? "");
  const out: string[] = [];
  out.push(`**adgen bench, ${meta["mode"]} run, ${date.slice(0, 16).replace("T", " ")} UTC**` + (meta["durationS"] ? ` (${meta["durationS"]} s)` : ""));
  out.push("");
  out.push(`Machine: ${machineLine(meta)}. Command: \`${commandLine(meta)}\`` + (file ? ` (${file})` : "") + ".");
  out.push("");
  out.push(`| workload | ${cols.join(" | ")} | vs best peer |`);
  out.push(`|---|${cols.map(() => "--:").join("|")}|---|`);
  for (const w of run.workloads) {
    out.push(`| ${w.id} | ${cols.map((p) => cellText(w, w.results[p])).join(" | ")} | ${vsBest(w, cols)} |`);
  }
  out.push("");
  out.push(
    "Medians. vs best peer: cost(best other column) / cost(adgen), for GFLOP/s adgen / best; above 1 adgen is " +
      "better (for the x rows lower is better). n/a: the peer cannot run the row (reasons in the full table of " +
      "`npm run bench`); !: wrong result.",
  );
  for (const w of run.workloads) if (w.footnote) out.push(`- ${w.id}: ${w.footnote}`);
  return out.join("\n");
}

function main(): void {
  const argv = process.argv.slice(2);
  let mode: string | undefined;
  let file: string | undefined;
  for (const a of argv) {
    if (a === "--quick") mode = "quick";
    else if (a === "--full") mode = "full";
    else if (a === "--help" || a === "-h") usage();
    else if (a.startsWith("--")) throw new Error(`unknown argument ${a}`);
    else file = a;
  }
  const loaded = file ? load(path.resolve(file)) : newest(mode);
  console.log(markdownTable(loaded.run, path.relative(REPO_ROOT, loaded.file)));
}

main();
