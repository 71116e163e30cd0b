// The Content-Security-Policy the playground is made for (sent by vite's dev and preview servers
// and by the browser test's server): no 'unsafe-eval', no inline script or style, only
// 'wasm-unsafe-eval' for compiling the WebAssembly adgen generates.
export const PLAYGROUND_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'";
