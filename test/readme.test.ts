// The README's code examples run: each ```ts block that imports from "adgen" is transpiled (types
// stripped), pointed at this checkout, and executed; a `console.log(...)` line ending in
// `// prints: <text>` must print exactly that text (util.format, as console.log does).

import { describeMarkdownExamples } from "./util/md-examples.js";

describeMarkdownExamples("README examples", new URL("../README.md", import.meta.url), 2);
