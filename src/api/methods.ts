// Installs the Tensor methods (x.add(y), x.sum(), ...) by pointing them at the np functions.

import { installTensorMethods } from "../core/tensor.js";
import { formatTensor } from "./format.js";
import * as np from "./np/index.js";

export function installMethods(extra: Record<string, (...args: any[]) => any> = {}): void {
  installTensorMethods({ ...(np as unknown as Record<string, (...args: any[]) => any>), formatTensor, ...extra });
}
