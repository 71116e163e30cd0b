// A representative run of adgen's public API, written once as plain JS so that it runs unchanged
// wherever adgen is loaded: in Node against the sources or the bundle (packaging and CSP tests),
// under `node --disallow-code-generation-from-strings`, and in Chromium from dist/adgen.mjs
// (browser tests). Every result is returned as plain numbers, so the callers compare the runs
// with each other (the browser's and the CSP run's results against Node's).
//
// probe(adgen, { backends }) -> { [case]: { values: number[], exact: boolean } }
//   exact: integer results (random bits, counts) must match bit for bit; float results are
//   compared with a relative tolerance (the GEMM takes fused multiply-adds where the engine has
//   relaxed SIMD, e.g. Chromium and Node >= 22 but not Node 20, which changes the last bits).

/** Deterministic float inputs: sin of the element index, scaled. */
function data(n, scale = 1, phase = 0) {
  return Array.from({ length: n }, (_, i) => scale * Math.sin(i * 0.37 + phase));
}

function values(t) {
  return Array.from(t.data, Number);
}

export async function probe(adgen, opts = {}) {
  const { np, nn, lax, random, grad, jit, valueAndGrad, config, exportFunction, spec } = adgen;
  const backends = opts.backends ?? ["wasm", "interp"];
  const out = {};
  const put = (name, t, exact = false) => (out[name] = { values: Array.isArray(t) ? t : values(t), exact });
  const saved = { backend: config.backend, interpretBelowWork: config.interpretBelowWork };
  try {
    // ---- eager ops (including erf through exact GELU, and the int32 cast)
    const x = np.array(data(6, 1.5), { dtype: "float64" });
    const f = (v) => np.sum(np.multiply(np.sin(v), np.exp(np.multiply(v, 0.5))));
    put("eager.f", f(x));
    put("eager.gelu", nn.gelu(x, { approximate: false }));
    put("eager.softmax", nn.softmax(np.reshape(x, [2, 3])));
    put("eager.astype_int32", np.astype(np.multiply(x, 1e10), "int32"), true);

    // ---- grad, and value-and-grad of a small MLP loss
    put("grad.f", grad(f)(x));
    const W = np.array(data(12, 0.5, 1), { dtype: "float32" }).reshape([4, 3]);
    const xb = np.array(data(8, 1, 2), { dtype: "float32" }).reshape([2, 4]);
    const loss = (w, inp) => np.mean(np.square(np.tanh(np.matmul(inp, w))));
    const [lv, lg] = valueAndGrad(loss)(W, xb);
    put("grad.mlp.value", lv);
    put("grad.mlp.grad", lg);

    // ---- control flow (traceable and differentiable)
    const cf = (v) => {
      const y = lax.foriLoop(0, 3, (i, c) => np.add(np.multiply(c, 0.9), np.sin(c)), v);
      const z = lax.cond(np.greater(np.sum(y), 0), (a) => np.multiply(a, 2), (a) => np.negative(a), y);
      const [carry, ys] = lax.scan((c, e) => [np.add(c, e), np.multiply(c, e)], np.array(0, { dtype: "float64" }), z);
      return np.add(carry, np.sum(ys));
    };
    put("lax.value", cf(x));
    put("lax.grad", grad(cf)(x));
    put("lax.while", lax.whileLoop((c) => np.less(c[0], 10), (c) => [np.add(c[0], 1), np.multiply(c[1], 1.5)], [np.array(0, { dtype: "int32" }), np.array(1, { dtype: "float64" })])[1]);

    // ---- random (Threefry kernels)
    const k = random.key(42);
    const [k1, k2] = random.split(k);
    put("random.bits", random.bits(k1, [6]), true);
    put("random.split", random.split(k2, 3), true);
    put("random.uniform", random.uniform(k1, [5]));
    put("random.normal", random.normal(k2, [5], { dtype: "float64" }));

    // ---- jit on each backend (compiled at once, not interpreted first)
    config.update({ interpretBelowWork: 0 });
    for (const b of backends) {
      config.update({ backend: b });
      put(`jit.${b}.f`, jit(f)(x));
      put(`jit.${b}.gradf`, jit(grad(f))(x));
      put(`jit.${b}.lax`, jit(grad(cf))(x));
      put(`jit.${b}.mlp`, jit(grad(loss))(W, xb));
      put(`jit.${b}.random`, jit((key) => random.uniform(key, [4]))(k2));
    }
    config.update({ backend: backends[0] });

    // ---- a GEMM-sized product (the wasm GEMM, with worker threads after a few large products)
    const A = np.array(data(96 * 160, 1, 3), { dtype: "float32" }).reshape([96, 160]);
    const B = np.array(data(160 * 128, 1, 4), { dtype: "float32" }).reshape([160, 128]);
    const mm = jit((a, b) => np.matmul(a, b));
    let C;
    for (let i = 0; i < 6; i++) C = mm(A, B);
    // sums of magnitudes (no cancellation, so a last-bit change per element stays within rtol)
    put("gemm.abssum", np.sum(np.astype(np.abs(C), "float64")));
    put("gemm.rows", values(C).slice(0, 300));
    put("gemm.eager", np.sum(np.astype(np.abs(np.matmul(np.transpose(B), np.transpose(A))), "float64")));

    // ---- AOT export: the module's source (callers load and run it)
    if (opts.exportSource) {
      const e = exportFunction(grad(loss), [spec("float32", [4, 3]), spec("float32", ["B", 4])], { name: "probeGrad" });
      out["export.source"] = e.source;
    }
  } finally {
    config.update(saved);
  }
  return out;
}

/** Inputs and expected use of the exported module (the same W, xb as grad.mlp.grad). */
export function exportedArgs() {
  return [
    { data: Float32Array.from(data(12, 0.5, 1)), shape: [4, 3] },
    { data: Float32Array.from(data(8, 1, 2)), shape: [2, 4] },
  ];
}

/**
 * Differences between two probe results (empty when they agree): every case of `want` must be in
 * `got` with the same length; exact cases bit for bit, the others within rtol of the largest
 * magnitude of the case.
 */
export function compareProbes(got, want, rtol = 1e-5) {
  const problems = [];
  for (const [name, w] of Object.entries(want)) {
    if (name === "export.source") continue;
    const g = got[name];
    if (!g) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (g.values.length !== w.values.length) {
      problems.push(`${name}: ${g.values.length} values, want ${w.values.length}`);
      continue;
    }
    const scale = Math.max(1e-30, ...w.values.map(Math.abs));
    for (let i = 0; i < w.values.length; i++) {
      const a = g.values[i], b = w.values[i];
      const ok = w.exact ? Object.is(a, b) : Object.is(a, b) || Math.abs(a - b) <= rtol * scale;
      if (!ok) {
        problems.push(`${name}[${i}]: ${a}, want ${b}`);
        break;
      }
    }
  }
  return problems;
}
