// Runs the bench bundle in this Node process (bench/runtimes.ts starts one per Node version):
//   node node-child.mjs <bundle.mjs> '<options JSON>'   -> one JSON line on stdout
const [bundle, opts = "{}"] = process.argv.slice(2);
const { run } = await import(bundle);
const r = await run(`Node ${process.version}`, JSON.parse(opts));
process.stdout.write(JSON.stringify(r) + "\n");
process.exit(0); // parked GEMM workers are unref'd, but do not wait for anything else either
