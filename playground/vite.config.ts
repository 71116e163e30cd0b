// Vite config of the playground (npm run playground: dev server; npm run playground:build: static
// site in playground/dist; npm run playground:preview serves that build). The page imports
// adgen's sources directly. Both servers send the strict policy of csp.ts.
import { defineConfig, type Plugin } from "vite";
import { PLAYGROUND_CSP } from "./csp.js";

/**
 * adgen's `new URL("..", import.meta.url)` (its own directory, to tell its stack frames from the
 * user's) is not an asset: keep Vite from emitting the directory's index.ts as one.
 */
const notAnAsset: Plugin = {
  name: "adgen-own-dir-url",
  enforce: "pre",
  transform(code, id) {
    if (!id.includes("/src/") || !code.includes('new URL("..", import.meta.url)')) return null;
    return { code: code.replaceAll('new URL("..", import.meta.url)', 'new URL("..", String(import.meta.url))'), map: null };
  },
};

export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  plugins: [notAnAsset],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // no inline preload helper script: everything the page runs is a file from 'self'
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  // the dev server injects styles as inline <style> elements (HMR): style-src is relaxed there
  // only; scripts get the same rules as the built site
  server: { headers: { "Content-Security-Policy": PLAYGROUND_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") } },
  preview: { headers: { "Content-Security-Policy": PLAYGROUND_CSP } },
});
