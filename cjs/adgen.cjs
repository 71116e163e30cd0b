// adgen is published as an ES module only. This file is what `require("adgen")` resolves to (the
// "require" condition of package.json "exports"): it replaces Node's generic ERR_REQUIRE_ESM /
// "No exports main defined" with a message that says what to do instead.
"use strict";

const err = new Error(
  'adgen is ESM-only and cannot be loaded with require("adgen"). Import it from an ES module ' +
    '(a .mjs/.mts file, or "type": "module" in your package.json): import { grad, np } from "adgen"; ' +
    'or, from CommonJS, load it asynchronously: const adgen = await import("adgen");',
);
err.code = "ERR_ADGEN_ESM_ONLY";
throw err;
