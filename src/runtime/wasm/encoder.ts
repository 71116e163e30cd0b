/**
 * A small WebAssembly binary encoder: LEB128, module sections (type, import, function, export,
 * code) and a typed instruction builder (`Code`) for the scalar, bulk-memory and SIMD128 opcodes
 * our generators need. Everything emitted comes from our own generator code, never from user
 * strings; there is no text format and no parser.
 *
 * Usage:
 *   const m = new ModuleBuilder();
 *   m.importMemory("env", "memory", { initial: 1 });
 *   const f = m.func("add", ["i32", "i32"], ["i32"]);      // exported under "add"
 *   f.code.localGet(0).localGet(1).i32Add();
 *   const bytes = m.build();
 *
 * Structured control flow uses labels: `block()`/`loop()` return a label, `br(label)` /
 * `brIf(label)` compute the relative depth, `end()` closes the innermost construct.
 * Memory instructions take a byte `offset` immediate (the constant part of the address, so inner
 * loops can bump one pointer and address neighbours through immediates) and an `align` (log2).
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Signed LEB128 (32-bit range). */
export function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const utf8 = new TextEncoder();
function name(out: number[], s: string): void {
  const bytes = utf8.encode(s);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

// scratch for the little-endian bytes of float constants (one allocation, not one per constant)
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/**
 * A module beyond the JS API's implementation limits (locals per function, function body size),
 * which every engine rejects: callers fall back (the jit runs such a program with the JS backend).
 */
export class WasmLimitError extends RangeError {}
const MAX_LOCALS = 50000;
const MAX_BODY_BYTES = 7654321;

/** A label handed out by `block`/`loop`/`if_`: its absolute nesting depth. */
export type Label = number & { readonly __label: unique symbol };

/** Instruction builder for one function body. Every method appends and returns `this`. */
export class Code {
  readonly bytes: number[] = [];
  private depth = 0;

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  private simd(opcode: number): this {
    this.bytes.push(0xfd);
    uleb(this.bytes, opcode);
    return this;
  }
  private mem(opcode: number, offset: number, align: number, isSimd = false): this {
    if (isSimd) this.simd(opcode);
    else this.bytes.push(opcode);
    uleb(this.bytes, align);
    uleb(this.bytes, offset);
    return this;
  }

  // ---- control flow ----
  block(): Label {
    this.op(0x02, 0x40);
    return this.depth++ as Label;
  }
  loop(): Label {
    this.op(0x03, 0x40);
    return this.depth++ as Label;
  }
  /** `if` with no result (or one value of type `result`); pops an i32 condition. */
  if_(result?: ValType): Label {
    this.op(0x04, result ? VALTYPE[result] : 0x40);
    return this.depth++ as Label;
  }
  /** Appends raw opcode bytes (for scalar opcodes without a named method; see wasm/scalar.ts). */
  raw(...bytes: number[]): this {
    return this.op(...bytes);
  }
  /** A load or store opcode with its memory immediate. */
  memOp(opcode: number, offset = 0, align = 0): this {
    return this.mem(opcode, offset, align);
  }
  else_(): this {
    return this.op(0x05);
  }
  end(): this {
    if (this.depth === 0) throw new Error("wasm encoder: end() without an open block");
    this.depth--;
    return this.op(0x0b);
  }
  private rel(label: Label): number {
    const d = this.depth - 1 - label;
    if (d < 0) throw new Error("wasm encoder: branch to a closed label");
    return d;
  }
  br(label: Label): this {
    this.op(0x0c);
    uleb(this.bytes, this.rel(label));
    return this;
  }
  brIf(label: Label): this {
    this.op(0x0d);
    uleb(this.bytes, this.rel(label));
    return this;
  }
  return_(): this {
    return this.op(0x0f);
  }
  call(funcIndex: number): this {
    this.op(0x10);
    uleb(this.bytes, funcIndex);
    return this;
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  // ---- variables ----
  localGet(i: number): this {
    this.op(0x20);
    uleb(this.bytes, i);
    return this;
  }
  localSet(i: number): this {
    this.op(0x21);
    uleb(this.bytes, i);
    return this;
  }
  localTee(i: number): this {
    this.op(0x22);
    uleb(this.bytes, i);
    return this;
  }
  globalGet(i: number): this {
    this.op(0x23);
    uleb(this.bytes, i);
    return this;
  }

  // ---- scalar memory (offset in bytes, align = log2 bytes) ----
  i32Load(offset = 0, align = 2): this {
    return this.mem(0x28, offset, align);
  }
  f32Load(offset = 0, align = 2): this {
    return this.mem(0x2a, offset, align);
  }
  f64Load(offset = 0, align = 3): this {
    return this.mem(0x2b, offset, align);
  }
  i32Store(offset = 0, align = 2): this {
    return this.mem(0x36, offset, align);
  }
  f32Store(offset = 0, align = 2): this {
    return this.mem(0x38, offset, align);
  }
  f64Store(offset = 0, align = 3): this {
    return this.mem(0x39, offset, align);
  }
  /** memory.copy (bulk memory): [dst, src, n] -> []. */
  memoryCopy(): this {
    return this.op(0xfc, 10, 0x00, 0x00);
  }
  /** memory.fill (bulk memory): [dst, byteValue, n] -> []. */
  memoryFill(): this {
    return this.op(0xfc, 11, 0x00);
  }

  // ---- scalar constants and arithmetic ----
  i32Const(v: number): this {
    this.op(0x41);
    sleb(this.bytes, v);
    return this;
  }
  f32Const(v: number): this {
    F32[0] = v;
    this.bytes.push(0x43);
    for (let i = 0; i < 4; i++) this.bytes.push(F32_BYTES[i]!);
    return this;
  }
  f64Const(v: number): this {
    F64[0] = v;
    this.bytes.push(0x44);
    for (let i = 0; i < 8; i++) this.bytes.push(F64_BYTES[i]!);
    return this;
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtS(): this {
    return this.op(0x4a);
  }
  i32LeS(): this {
    return this.op(0x4c);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32DivU(): this {
    return this.op(0x6e);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }

  // ---- SIMD128 memory ----
  v128Load(offset = 0, align = 4): this {
    return this.mem(0, offset, align, true);
  }
  v128Load32Splat(offset = 0, align = 2): this {
    return this.mem(9, offset, align, true);
  }
  v128Load64Splat(offset = 0, align = 3): this {
    return this.mem(10, offset, align, true);
  }
  v128Store(offset = 0, align = 4): this {
    return this.mem(11, offset, align, true);
  }
  v128Load32Zero(offset = 0, align = 2): this {
    return this.mem(0x5c, offset, align, true);
  }
  v128Load64Zero(offset = 0, align = 3): this {
    return this.mem(0x5d, offset, align, true);
  }
  /** [addr, v128] -> [] : stores lane `lane` (f32-sized). */
  v128Store32Lane(lane: number, offset = 0, align = 2): this {
    this.mem(0x5a, offset, align, true);
    return this.op(lane);
  }
  /** [addr, v128] -> [] : stores lane `lane` (f64-sized). */
  v128Store64Lane(lane: number, offset = 0, align = 3): this {
    this.mem(0x5b, offset, align, true);
    return this.op(lane);
  }

  // ---- SIMD128 values ----
  v128Const(bytes16: ArrayLike<number>): this {
    this.simd(12);
    for (let i = 0; i < 16; i++) this.bytes.push(bytes16[i]! & 0xff);
    return this;
  }
  v128Zero(): this {
    return this.v128Const(new Uint8Array(16));
  }
  i8x16Shuffle(lanes: ArrayLike<number>): this {
    this.simd(13);
    for (let i = 0; i < 16; i++) this.bytes.push(lanes[i]!);
    return this;
  }
  f32x4Splat(): this {
    return this.simd(19);
  }
  f64x2Splat(): this {
    return this.simd(20);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(31).op(lane);
  }
  f32x4ReplaceLane(lane: number): this {
    return this.simd(32).op(lane);
  }
  f64x2ExtractLane(lane: number): this {
    return this.simd(33).op(lane);
  }
  f64x2ReplaceLane(lane: number): this {
    return this.simd(34).op(lane);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  /** Relaxed SIMD: a*b+c, fused or not (engine's choice). [a, b, c] -> [v128]. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  f64x2RelaxedMadd(): this {
    return this.simd(0x107);
  }
}

/** One function under construction: its signature, extra locals and body. */
export class FuncBuilder {
  readonly code = new Code();
  private readonly locals: ValType[] = [];
  constructor(
    readonly index: number,
    readonly exportName: string | undefined,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}
  /** Declare a local; returns its index (params come first). */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }
  /** Params and declared locals. */
  localCount(): number {
    return this.params.length + this.locals.length;
  }
  /** The compressed local declarations: the body is these, the instructions, then end (ModuleBuilder.build). */
  header(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(VALTYPE[t]);
    }
    return out;
  }
}

export interface MemoryLimits {
  /** Pages of 64 KiB. */
  initial: number;
  maximum?: number;
  shared?: boolean;
}

type Import =
  | { module: string; field: string; kind: "memory"; limits: MemoryLimits }
  | { module: string; field: string; kind: "global"; type: ValType; mutable: boolean }
  | { module: string; field: string; kind: "func"; type: string };

/** Collects imports and functions and writes the module bytes. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly imports: Import[] = [];
  private readonly funcs: FuncBuilder[] = [];
  private globalCount = 0;
  private funcImports = 0;

  importMemory(module: string, field: string, limits: MemoryLimits): void {
    if (limits.shared && limits.maximum === undefined) throw new Error("shared memory needs a maximum");
    this.imports.push({ module, field, kind: "memory", limits });
  }
  /** Import a global; returns its global index. */
  importGlobal(module: string, field: string, type: ValType, mutable = false): number {
    if (this.funcs.length > 0) throw new Error("declare imports before functions");
    this.imports.push({ module, field, kind: "global", type, mutable });
    return this.globalCount++;
  }
  /** Import a function; returns its function index (imports come before defined functions). */
  importFunc(module: string, field: string, params: ValType[], results: ValType[]): number {
    if (this.funcs.length > 0) throw new Error("declare imports before functions");
    this.imports.push({ module, field, kind: "func", type: params.join(",") + "->" + results.join(",") });
    return this.funcImports++;
  }
  /** Declare a function (exported under `exportName` if given). Indices follow declaration order. */
  func(exportName: string | undefined, params: ValType[], results: ValType[]): FuncBuilder {
    const f = new FuncBuilder(this.funcImports + this.funcs.length, exportName, params, results);
    this.funcs.push(f);
    return f;
  }

  private typeOf(key: string): number {
    let i = this.types.indexOf(key);
    if (i < 0) i = this.types.push(key) - 1;
    return i;
  }

  private typeIndex(f: FuncBuilder): number {
    return this.typeOf(f.params.join(",") + "->" + f.results.join(","));
  }

  build(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, body: number[]) => {
      out.push(id);
      uleb(out, body.length);
      for (const b of body) out.push(b);
    };
    const importTypes = this.imports.map((imp) => (imp.kind === "func" ? this.typeOf(imp.type) : -1));
    const typeIdx = this.funcs.map((f) => this.typeIndex(f));

    const types: number[] = [];
    uleb(types, this.types.length);
    for (const key of this.types) {
      const [p, r] = key.split("->") as [string, string];
      const ps = p ? (p.split(",") as ValType[]) : [];
      const rs = r ? (r.split(",") as ValType[]) : [];
      types.push(0x60);
      uleb(types, ps.length);
      for (const t of ps) types.push(VALTYPE[t]);
      uleb(types, rs.length);
      for (const t of rs) types.push(VALTYPE[t]);
    }
    section(1, types);

    if (this.imports.length > 0) {
      const imps: number[] = [];
      uleb(imps, this.imports.length);
      for (const [i, imp] of this.imports.entries()) {
        name(imps, imp.module);
        name(imps, imp.field);
        if (imp.kind === "memory") {
          const { initial, maximum, shared } = imp.limits;
          imps.push(0x02, shared ? 0x03 : maximum !== undefined ? 0x01 : 0x00);
          uleb(imps, initial);
          if (maximum !== undefined) uleb(imps, maximum);
        } else if (imp.kind === "global") {
          imps.push(0x03, VALTYPE[imp.type], imp.mutable ? 1 : 0);
        } else {
          imps.push(0x00);
          uleb(imps, importTypes[i]!);
        }
      }
      section(2, imps);
    }

    const fsec: number[] = [];
    uleb(fsec, this.funcs.length);
    for (const t of typeIdx) uleb(fsec, t);
    section(3, fsec);

    const exported = this.funcs.filter((f) => f.exportName !== undefined);
    const exps: number[] = [];
    uleb(exps, exported.length);
    for (const f of exported) {
      name(exps, f.exportName!);
      exps.push(0x00);
      uleb(exps, f.index);
    }
    section(7, exps);

    // the code section is most of the module: its bodies are copied once, straight into the result
    const heads: number[][] = [];
    let codeBytes = 0;
    const counts: number[] = [];
    uleb(counts, this.funcs.length);
    codeBytes += counts.length;
    for (const f of this.funcs) {
      const h = f.header();
      const size = h.length + f.code.bytes.length + 1; // + end
      const locals = f.localCount();
      if (locals > MAX_LOCALS || size > MAX_BODY_BYTES) {
        throw new WasmLimitError(`function ${f.index} has ${locals} locals and ${size} bytes (limits: ${MAX_LOCALS} locals, ${MAX_BODY_BYTES} bytes)`);
      }
      const head: number[] = [];
      uleb(head, size);
      for (const b of h) head.push(b);
      heads.push(head);
      codeBytes += head.length + size - h.length;
    }
    out.push(10);
    uleb(out, codeBytes);
    const bytes = new Uint8Array(out.length + codeBytes);
    bytes.set(out);
    let at = out.length;
    bytes.set(counts, at);
    at += counts.length;
    this.funcs.forEach((f, i) => {
      bytes.set(heads[i]!, at);
      at += heads[i]!.length;
      bytes.set(f.code.bytes, at);
      at += f.code.bytes.length;
      bytes[at++] = 0x0b;
    });
    return bytes;
  }
}
