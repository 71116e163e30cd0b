// Browser test page (see page.html): counts the workers adgen starts (the GEMM's threads), records
// Content-Security-Policy violations, runs the probe on dist/adgen.mjs and publishes the result as
// globalThis.__adgen for the test to read.
const violations = [];
document.addEventListener("securitypolicyviolation", (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
let workers = 0;
const NativeWorker = globalThis.Worker;
if (NativeWorker) {
  globalThis.Worker = class extends NativeWorker {
    constructor(...args) {
      super(...args);
      workers++;
    }
  };
}

async function main() {
  const adgen = await import("./adgen.mjs");
  const { probe } = await import("./probe.mjs");
  const result = await probe(adgen, { backends: ["wasm", "interp"] });
  // let deferred workers start, then run large products again so they take chunks
  await new Promise((r) => setTimeout(r, 300));
  const { np, jit } = adgen;
  const A = np.ones([256, 256], { dtype: "float32" });
  const mm = jit((a, b) => np.matmul(a, b));
  let s = 0;
  for (let i = 0; i < 4; i++) s = np.sum(mm(A, A)).data[0];
  return { probe: result, afterThreads: s, workers, violations, crossOriginIsolated: globalThis.crossOriginIsolated === true, sab: typeof SharedArrayBuffer };
}

main().then(
  (r) => (globalThis.__adgen = r),
  (e) => (globalThis.__adgen = { error: `${e && e.name}: ${e && e.message}\n${e && e.stack}`, violations }),
);
