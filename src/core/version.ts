// The adgen version, recorded in exported artifacts and disk-cache keys (kept equal to
// package.json's "version"; a test checks it).
export const ADGEN_VERSION = "0.1.0";
