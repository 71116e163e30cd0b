// Runs a check once per jit backend (interp, js, wasm), restoring the configured backend after.
import { config } from "../../src/index.js";

export function onEveryBackend(fn: (backend: "interp" | "js" | "wasm") => void): void {
  const saved = config.backend;
  try {
    for (const backend of ["interp", "js", "wasm"] as const) {
      config.update({ backend });
      fn(backend);
    }
  } finally {
    config.update({ backend: saved });
  }
}
