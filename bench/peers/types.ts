/**
 * A peer = one column of the results table: a library (and backend) or the hand-written baseline.
 * To add adgen, fill in bench/peers/adgen.ts; run.ts picks up every peer listed in PEER_MODULES.
 */
import type { SetupFactory } from "../harness.js";
import type { WorkloadId } from "../workloads/index.js";

export interface Peer {
  /** Column name in the table and key in the JSON. */
  name: string;
  /** Library version(s) for the JSON metadata. */
  version: string;
  /** One-time initialisation (load wasm, ...); called lazily before the first setup. */
  init?: () => Promise<void>;
  /** Called before every setup of this peer (e.g. tf.setBackend: peers may share a library). */
  activate?: () => Promise<void>;
  /** Extra facts for the JSON metadata (backend flags, thread counts, ...). */
  info?: () => Record<string, unknown>;
  /** Workloads this peer implements; missing ids are reported as "n/a (not implemented)". */
  impls: Partial<Record<WorkloadId, SetupFactory>>;
}
