// The layer order of src/ (issue 10 item 3; src/README.md explains each layer), checked by
// dependency-cruiser from test/layers.test.ts. A module may import from its own layer and from
// lower ones; importing from a higher layer is a violation, and so is any cycle between
// folders. Type-only imports are free in both rules: with
// tsPreCompilationDeps false, dependency-cruiser sees only the imports that survive
// compilation, so `import type { Program }` from a lower layer is not a dependency.
// (The depcruise CLI needs Node >= 22; the test calls its API, which runs on Node 20 too.)

/** Lowest first: [name, regular expression over paths relative to the repository]. */
const LAYERS = [
  ["core", "^src/core/"],
  ["ir", "^src/ir/"],
  // our float32 math written once (src/math/dsl.ts), as runtime texts for the kernel and backends
  ["math", "^src/math/"],
  // the code that runs compiled programs, written once (src/runtime/README.md): defined
  // in-process for jit and embedded verbatim in exported modules
  ["runtime", "^src/runtime/"],
  // The kernel, four layers. rules: what rules are written with that needs no primitive
  // (symbolic zeros, scalar constants, elementwise shape inference, the reference loops).
  ["rules", "^src/rules/"],
  // the interpreter: runs a program (or one primitive, applyConcrete) with the reference
  // implementations it reaches through the equations; debugNans
  ["interp", "^src/backends/interp/"],
  // the trace stack primitives bind through, staging, makeProgram, the eager (root) trace
  ["trace", "^src/trace/"],
  // first-order primitives and the rule combinators written with primitives (prims/rule-*.ts)
  ["prims", "^src/prims/"],
  ["transforms", "^src/transforms/"],
  ["higher-order", "^src/higher-order/"],
  ["passes", "^src/(analysis|passes)/"],
  ["lower", "^src/lower/"],
  ["backends", "^src/backends/(?!interp/)"],
  ["jit", "^src/jit/"],
  // graph breaks: the public jit over the core jit (data-dependent JS between compiled regions)
  ["hybrid", "^src/hybrid/"],
  ["aot", "^src/aot/"],
  ["onnx", "^src/onnx/"],
  ["api", "^src/(api|eager)/"],
  ["entry", "^src/(index\\.ts$|cli/)"],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `layer-${name}`,
  severity: "error",
  comment: `${name} may import only from itself and lower layers (${LAYERS.slice(0, i).map(([n]) => n).join(", ") || "none"})`,
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join("|") },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "no-folder-cycle",
      severity: "error",
      comment: "no import cycle between folders",
      scope: "folder",
      from: { path: "^src" },
      to: { circular: true },
    },
    {
      name: "no-unlayered-module",
      severity: "error",
      comment: "every module under src/ belongs to a layer (add a new folder to LAYERS)",
      from: { path: "^src/", pathNot: LAYERS.map(([, p]) => `(${p})`).join("|") },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
