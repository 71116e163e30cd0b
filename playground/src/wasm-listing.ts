// A readable listing of a WebAssembly module for the playground's "wasm" pane: its sections,
// imports, exports and, per function, its signature, locals and body bytes (hex), read straight
// from the binary format (no text-format disassembler is bundled: the page stays small and the
// listing needs nothing but the bytes adgen generated).

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

export function wasmListing(bytes: Uint8Array, maxBodyBytes = 96): string {
  const r = new Reader(bytes, 8);
  const out = [`module: ${bytes.length} bytes`];
  const types: string[] = [];
  const funcTypes: number[] = [];
  let imported = 0;
  const exportNames = new Map<number, string>();
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
        const code = body.b.subarray(body.p);
        out.push(`  func ${fi}${exportNames.has(fi) ? ` "${exportNames.get(fi)}"` : ""} ${types[funcTypes[fi]!] ?? ""}: ${size} bytes, locals ${locals.join(", ") || "none"}`);
        out.push(`    ${hex(code.subarray(0, maxBodyBytes))}${code.length > maxBodyBytes ? ` ... (${code.length - maxBodyBytes} more)` : ""}`);
      }
    }
  }
  return out.join("\n");
}
