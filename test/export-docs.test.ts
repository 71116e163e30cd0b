// The export page's code examples (docs/export-v2.md) run as pasted and print what the page says
// (test/util/md-examples.ts, as test/readme.test.ts does for the README).

import { describeMarkdownExamples } from "./util/md-examples.js";

describeMarkdownExamples("docs/export-v2.md examples", new URL("../docs/export-v2.md", import.meta.url), 4);
