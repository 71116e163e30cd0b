// Hand-written float64 ADBench workloads (GMM, D-LSTM, BA): the "hand JS" baseline for the
// benchmarks and the independent oracle for the tests. Plain TypeScript on typed arrays,
// independent of the adgen library. Implementations live in ./hand/{gmm,lstm,ba}.ts.

export { gmmObjective, gmmGradient, lgamma, logGammaD } from "./hand/gmm.js";
export { lstmObjective, lstmGradient } from "./hand/lstm.js";
export { baObjective, baJacobian } from "./hand/ba.js";
export type { BaResiduals, CsrMatrix } from "./hand/ba.js";
