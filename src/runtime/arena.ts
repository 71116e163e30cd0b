// Arena planning, written once as a runtime (core/runtime-text.ts): the memory planner
// (lower/memory.ts) derives a size-independent schedule from a lowered program (which temporaries
// are allocated and released at each kernel, and which dying inputs a map kernel may overwrite in
// place), and this function turns the schedule and the temporaries' byte sizes into offsets in
// one arena. The jit calls it in-process (once for a static program, once per binding of the
// symbols for a shape-polymorphic one); an exported module embeds the same text as `$planArena`
// and receives the schedule as data, so live ranges are computed in exactly one place.

import { defineRuntime } from "../core/runtime-text.js";

/**
 * One step of a schedule (one kernel): the temporaries it allocates, then those it releases, as
 * indices into the schedule's `temps`. An allocation is `t`, or `[t, ...donors]` when the kernel
 * may write t in place of a dying input: the first donor not yet handed over whose block is at
 * least as large as t's is taken (its block is then not released).
 */
export type ArenaStep = [allocs: (number | number[])[], releases: number[]];

/** The size-independent plan of lower/memory.ts: the temporaries (buffer ids) and the steps. */
export interface ArenaSchedule {
  temps: number[];
  steps: ArenaStep[];
}

/** The result: byte offset of each temporary (by buffer id, other entries empty) and the arena's size. */
export interface ArenaPlan {
  offsets: number[];
  end: number;
}

function arenaRuntime() {
  /**
   * Best-fit allocation from a free list of merged [offset, size] blocks, given every buffer's
   * element count and element bytes (by buffer id); blocks are 16-byte aligned.
   */
  function planArena(schedule: ArenaSchedule, sizes: readonly number[], elemBytes: readonly number[]): ArenaPlan {
    const steps = schedule.steps, temps = schedule.temps;
    const bytes: number[] = [];
    for (let t = 0; t < temps.length; t++) bytes.push(Math.ceil((sizes[temps[t]!]! * elemBytes[temps[t]!]!) / 16) * 16);
    const at: number[] = new Array(temps.length);
    let free: number[][] = [];
    let end = 0;
    const alloc = (size: number): number => {
      let best = -1;
      for (let i = 0; i < free.length; i++) if (free[i]![1]! >= size && (best < 0 || free[i]![1]! < free[best]![1]!)) best = i;
      if (best < 0) {
        end += size;
        return end - size;
      }
      const blk = free[best]!;
      const off = blk[0]!;
      if (blk[1] === size) free.splice(best, 1);
      else free[best] = [off + size, blk[1]! - size];
      return off;
    };
    const release = (offset: number, size: number) => {
      free.push([offset, size]);
      free.sort((a, b) => a[0]! - b[0]!);
      const merged: number[][] = [];
      for (let i = 0; i < free.length; i++) {
        const last = merged[merged.length - 1];
        if (last && last[0]! + last[1]! === free[i]![0]) last[1]! += free[i]![1]!;
        else merged.push([free[i]![0]!, free[i]![1]!]);
      }
      free = merged;
    };
    for (let s = 0; s < steps.length; s++) {
      const allocs = steps[s]![0];
      const releases = steps[s]![1];
      const handed: number[] = [];
      for (let i = 0; i < allocs.length; i++) {
        const a = allocs[i]!;
        const t = typeof a === "number" ? a : a[0]!;
        let donor = -1;
        if (typeof a !== "number") {
          for (let j = 1; j < a.length && donor < 0; j++) if (handed.indexOf(a[j]!) < 0 && bytes[a[j]!]! >= bytes[t]!) donor = a[j]!;
        }
        if (donor >= 0) {
          at[t] = at[donor]!;
          handed.push(donor);
        } else at[t] = alloc(bytes[t]!);
      }
      for (let i = 0; i < releases.length; i++) if (handed.indexOf(releases[i]!) < 0) release(at[releases[i]!]!, bytes[releases[i]!]!);
    }
    const offsets: number[] = [];
    for (let t = 0; t < temps.length; t++) if (at[t] !== undefined) offsets[temps[t]!] = at[t]!;
    return { offsets, end };
  }
  return { planArena };
}

const ARENA = defineRuntime(arenaRuntime, []);
/** The planner, in-process. */
export const planArena = ARENA.value.planArena;
/** The text an exported module embeds: declares $planArena. */
export const ARENA_JS = ARENA.text;
