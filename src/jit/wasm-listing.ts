// A readable listing of a WebAssembly module: its sections, imports, exports and, per function,
// its signature, locals and instructions (a small decoder of the binary format for the opcodes
// adgen emits: MVP, bulk memory, SIMD by number; anything else ends that function's listing with
// its remaining bytes in hex). The one decoder of the project: the "wasm" stage of
// `jit(f).lower(...)` / `.compile()` (lowered.ts, staged.ts) and the playground's "wasm" pane use
// it. No disassembler is bundled: the page stays small and the listing needs nothing but the
// bytes adgen generated.

const SECTIONS = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count"];
const VALTYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["func", "table", "memory", "global"];

class Reader {
  constructor(
    readonly b: Uint8Array,
    public p = 0,
  ) {}
  byte(): number {
    return this.b[this.p++]!;
  }
  u32(): number {
    let r = 0,
      shift = 0,
      x: number;
    do {
      x = this.byte();
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  }
  /** signed LEB128 (i32.const, i64.const, block types), as a BigInt */
  sleb(): bigint {
    let r = 0n,
      shift = 0n,
      x: number;
    do {
      x = this.byte();
      r |= BigInt(x & 0x7f) << shift;
      shift += 7n;
    } while (x & 0x80);
    return x & 0x40 ? r - (1n << shift) : r;
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return s;
  }
  limits(): string {
    const flag = this.byte();
    const min = this.u32();
    const max = flag & 1 ? this.u32() : undefined;
    return `min ${min} pages${max !== undefined ? `, max ${max}` : ""}${flag & 2 ? ", shared" : ""}`;
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/**
 * The listing of a module. `label(i)` may name function i (printed after its header line as a
 * comment, e.g. which kernel it computes).
 */
export function wasmListing(bytes: Uint8Array, maxLines = 400, label?: (func: number) => string | undefined): string {
  const r = new Reader(bytes, 8);
  const out = [`module: ${bytes.length} bytes`];
  const types: string[] = [];
  const funcTypes: number[] = [];
  let imported = 0;
  const exportNames = new Map<number, string>();
  const importNames = new Map<number, string>();
  const sections: [number, Reader, number][] = [];
  while (r.p < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    sections.push([id, new Reader(bytes.subarray(r.p, r.p + size)), size]);
    r.p += size;
  }
  for (const [id, s, size] of sections) {
    out.push(`section ${SECTIONS[id] ?? id} (${size} bytes)`);
    if (id === 1) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        s.byte(); // 0x60
        const ps = Array.from({ length: s.u32() }, () => VALTYPES[s.byte()] ?? "?");
        const rs = Array.from({ length: s.u32() }, () => VALTYPES[s.byte()] ?? "?");
        types.push(`(${ps.join(", ")}) -> (${rs.join(", ")})`);
      }
      out.push(...types.map((t, i) => `  type ${i}: ${t}`));
    } else if (id === 2) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        const what = `${s.name()}.${s.name()}`;
        const kind = s.byte();
        let desc = KINDS[kind] ?? `kind ${kind}`;
        if (kind === 0) {
          const t = s.u32();
          funcTypes.push(t);
          importNames.set(imported, what);
          desc = `func ${imported++} ${types[t]}`;
        } else if (kind === 1) desc = `table ${VALTYPES[s.byte()]} ${s.limits()}`;
        else if (kind === 2) desc = `memory ${s.limits()}`;
        else if (kind === 3) desc = `global ${VALTYPES[s.byte()]}${s.byte() ? " mut" : ""}`;
        out.push(`  import ${what}: ${desc}`);
      }
    } else if (id === 3) {
      for (let n = s.u32(), i = 0; i < n; i++) funcTypes.push(s.u32());
      out.push(`  ${funcTypes.length - imported} defined functions`);
    } else if (id === 7) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        const name = s.name();
        const kind = s.byte();
        const index = s.u32();
        if (kind === 0) exportNames.set(index, name);
        out.push(`  export ${JSON.stringify(name)}: ${KINDS[kind]} ${index}`);
      }
    } else if (id === 10) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        const size = s.u32();
        const body = new Reader(s.b.subarray(s.p, s.p + size));
        s.p += size;
        const locals: string[] = [];
        for (let g = body.u32(), k = 0; k < g; k++) {
          const count = body.u32();
          locals.push(`${count} ${VALTYPES[body.byte()] ?? "?"}`);
        }
        const fi = imported + i;
        const note = label?.(fi);
        out.push(`  func ${fi}${exportNames.has(fi) ? ` "${exportNames.get(fi)}"` : ""} ${types[funcTypes[fi]!] ?? ""}: ${size} bytes, locals ${locals.join(", ") || "none"}${note ? `   ;; ${note}` : ""}`);
        out.push(...instructions(body, maxLines, (f) => importNames.get(f) ?? (exportNames.has(f) ? `"${exportNames.get(f)}"` : label?.(f)?.replace(/:.*/, ""))));
      }
    }
  }
  return out.join("\n");
}

/**
 * The listing of a kernel module of the wasm backend (one function per top-level kernel, called
 * in kernel order by the exported `run`: backends/wasm/kernels.ts), each kernel's function
 * labelled with `kernels[k]` (what that kernel computes). The kernel functions are found from
 * `run`'s calls, not assumed from the function order (helper functions such as the float32 math
 * routines are interleaved with them).
 */
export function kernelModuleListing(bytes: Uint8Array, kernels: readonly string[], maxLines = 1e9): string {
  const plain = wasmListing(bytes, maxLines);
  const run = plain.split("\n  func ").find((f) => /^\d+ "run"/.test(f));
  const calls = run ? [...run.matchAll(/^\s*call (\d+)/gm)].map((m) => Number(m[1])) : [];
  const byFunc = new Map(calls.map((f, k) => [f, `kernel ${k}: ${kernels[k] ?? "?"}`]));
  return wasmListing(bytes, maxLines, (f) => byFunc.get(f));
}

// numeric instructions 0x45..0xc4 (no immediates), in opcode order
const NUMERIC = (
  "i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u " +
  "i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u " +
  "f32.eq f32.ne f32.lt f32.gt f32.le f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge " +
  "i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr " +
  "i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr " +
  "f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign " +
  "f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign " +
  "i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u " +
  "f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64 f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32 " +
  "i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64 i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s"
).split(" ");
// memory instructions 0x28..0x3e (a memarg: alignment, offset)
const MEMORY = (
  "i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u " +
  "i32.store i64.store f32.store f64.store i32.store8 i32.store16 i64.store8 i64.store16 i64.store32"
).split(" ");
const SIMPLE: Record<number, string> = { 0x00: "unreachable", 0x01: "nop", 0x05: "else", 0x0b: "end", 0x0f: "return", 0x1a: "drop", 0x1b: "select" };
const INDEXED: Record<number, string> = { 0x0c: "br", 0x0d: "br_if", 0x10: "call", 0x20: "local.get", 0x21: "local.set", 0x22: "local.tee", 0x23: "global.get", 0x24: "global.set" };
const SIMD_NAMES: Record<number, string> = { 0: "v128.load", 11: "v128.store", 12: "v128.const", 19: "f32x4.splat", 20: "f64x2.splat", 31: "f32x4.extract_lane", 33: "f64x2.extract_lane", 228: "f32x4.add", 229: "f32x4.sub", 230: "f32x4.mul", 231: "f32x4.div", 240: "f64x2.add", 241: "f64x2.sub", 242: "f64x2.mul", 243: "f64x2.div", 261: "f32x4.relaxed_madd", 263: "f64x2.relaxed_madd" };

/** The instructions of one function body, indented by block depth (at most `maxLines` lines). */
function instructions(r: Reader, maxLines: number, callee: (func: number) => string | undefined): string[] {
  const out: string[] = [];
  let depth = 2;
  const line = (s: string) => out.push(`${"  ".repeat(Math.max(depth, 1))}${s}`);
  const memarg = () => {
    const align = r.u32();
    const offset = r.u32();
    return `${offset ? ` offset=${offset}` : ""} align=${2 ** align}`;
  };
  const blockType = () => {
    const b = r.b[r.p]!;
    if (b === 0x40) return r.p++, "";
    if (VALTYPES[b]) return r.p++, ` (result ${VALTYPES[b]})`;
    return ` (type ${r.sleb()})`;
  };
  while (r.p < r.b.length) {
    if (out.length >= maxLines) {
      line(`... (${r.b.length - r.p} more bytes)`);
      break;
    }
    const op = r.byte();
    if (op === 0x0b || op === 0x05) depth--;
    if (SIMPLE[op]) line(SIMPLE[op]!);
    else if (op === 0x10) {
      const f = r.u32();
      const name = callee(f);
      line(`call ${f}${name ? ` (${name})` : ""}`);
    } else if (INDEXED[op]) line(`${INDEXED[op]} ${r.u32()}`);
    else if (op >= 0x02 && op <= 0x04) {
      line(`${["block", "loop", "if"][op - 2]}${blockType()}`);
      depth++;
    } else if (op === 0x0e) {
      const n = r.u32();
      const labels = Array.from({ length: n + 1 }, () => r.u32());
      line(`br_table ${labels.join(" ")}`);
    } else if (op === 0x11) line(`call_indirect type=${r.u32()} table=${r.u32()}`);
    else if (op >= 0x28 && op <= 0x3e) line(`${MEMORY[op - 0x28]}${memarg()}`);
    else if (op === 0x3f || op === 0x40) line(`${op === 0x3f ? "memory.size" : "memory.grow"} ${r.byte()}`);
    else if (op === 0x41 || op === 0x42) line(`${op === 0x41 ? "i32" : "i64"}.const ${r.sleb()}`);
    else if (op === 0x43 || op === 0x44) {
      const n = op === 0x43 ? 4 : 8;
      const v = new DataView(r.b.buffer, r.b.byteOffset + r.p, n);
      line(`${op === 0x43 ? "f32" : "f64"}.const ${op === 0x43 ? v.getFloat32(0, true) : v.getFloat64(0, true)}`);
      r.p += n;
    } else if (op >= 0x45 && op <= 0xc4) line(NUMERIC[op - 0x45]!);
    else if (op === 0xfc) {
      const sub = r.u32();
      if (sub <= 7) line(`trunc_sat.${sub}`);
      else if (sub === 10) line(`memory.copy ${r.byte()} ${r.byte()}`);
      else if (sub === 11) line(`memory.fill ${r.byte()}`);
      else if (sub === 8) line(`memory.init ${r.u32()} ${r.byte()}`);
      else if (sub === 9) line(`data.drop ${r.u32()}`);
      else return [...out, unknown(r, `0xfc ${sub}`)];
    } else if (op === 0xfd) {
      const sub = r.u32();
      const name = SIMD_NAMES[sub] ?? `simd.${sub}`;
      if (sub <= 11 || sub === 92 || sub === 93) line(`${name}${memarg()}`);
      else if (sub === 12 || sub === 13) {
        line(`${name} ${hex(r.b.subarray(r.p, r.p + 16))}`);
        r.p += 16;
      } else if (sub >= 21 && sub <= 34) line(`${name} ${r.byte()}`);
      else if (sub >= 84 && sub <= 91) line(`${name}${memarg()} lane=${r.byte()}`);
      else line(name);
    } else return [...out, unknown(r, `0x${op.toString(16)}`)];
  }
  return out;
}

function unknown(r: Reader, what: string): string {
  return `    (opcode ${what} not decoded here; remaining bytes: ${hex(r.b.subarray(r.p, r.p + 64))}${r.b.length - r.p > 64 ? " ..." : ""})`;
}
