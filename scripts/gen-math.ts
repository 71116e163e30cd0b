// Writes src/math/runtime-f32.ts from the definitions in src/math/defs-f32.ts (issue 12: the
// math functions are written once). Run `npm run gen:math` after changing a definition;
// test/math.test.ts fails while the checked-in file is stale.

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtimeFileText } from "../src/math/runtime-source.js";

const out = fileURLToPath(new URL("../src/math/runtime-f32.ts", import.meta.url));
writeFileSync(out, runtimeFileText());
console.log(`wrote ${out}`);
