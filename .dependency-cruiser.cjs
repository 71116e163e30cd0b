// The layer order of src/ (issue 10 item 3; src/README.md explains each layer), checked by
// dependency-cruiser from test/layers.test.ts. A module may import from its own layer and from
// lower ones; importing from a higher layer is a violation, and so is a cycle between folders
// except inside the kernel (see below). Type-only imports are free in both rules: with
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
  // The kernel: primitives and the rule combinators they are written with, the trace stack
  // they bind through, and the reference evaluators (the eager trace and its program-level twin,
  // the interpreter). These four folders are mutually recursive by nature (a rule uses
  // primitives, a primitive binds through the current trace, tracing reads literals as
  // tensors, the eager trace re-runs sub-programs in the interpreter under debugNans), so they
  // form one layer and the only folders allowed to import each other in a cycle.
  ["kernel", "^src/(prims|rules|trace|backends/interp)/"],
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

const KERNEL_FOLDERS = "^src/(prims|rules|trace|backends/interp)(/|$)";

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
      comment: "no import cycle between folders, except among the kernel's folders",
      scope: "folder",
      from: { path: "^src", pathNot: KERNEL_FOLDERS },
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
