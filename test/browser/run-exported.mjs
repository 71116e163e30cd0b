// Loaded by a module script tag of page.html: imports an exported module (written by the test from
// Node's exportFunction, served as ./exported.mjs) and runs it on the probe's inputs.
import probeGrad from "./exported.mjs";
import { exportedArgs } from "./probe.mjs";

try {
  globalThis.__exported = { values: Array.from(probeGrad(...exportedArgs()).data) };
} catch (e) {
  globalThis.__exported = { error: `${e.name}: ${e.message}` };
}
