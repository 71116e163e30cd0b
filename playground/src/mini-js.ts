// The playground's function language: a small subset of JavaScript (arrow functions, const/let,
// return, calls, member access, array/object literals, arithmetic, comparisons, ternaries,
// destructuring of arrays), parsed and interpreted here. The page runs under a strict
// Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval'), where `eval`, `new Function`
// and blob: modules are refused, so the user's text is never handed to the engine: it is evaluated
// by walking its syntax tree, and adgen traces the resulting closures like any JS function.
// Operators on tensors map to np (a + b -> np.add(a, b)); only the names given in `globals` and
// the function's own bindings are visible, and prototype plumbing (constructor, __proto__) is not.

type Node =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "id"; name: string }
  | { t: "arr"; items: Node[] }
  | { t: "obj"; props: [string, Node][] }
  | { t: "member"; obj: Node; prop: Node; computed: boolean }
  | { t: "call"; callee: Node; args: Node[] }
  | { t: "unary"; op: string; arg: Node }
  | { t: "bin"; op: string; a: Node; b: Node }
  | { t: "cond"; test: Node; yes: Node; no: Node }
  | { t: "fn"; params: Pattern[]; body: Node | Stmt[] };
type Pattern = string | Pattern[];
type Stmt = { t: "let"; target: Pattern; init: Node } | { t: "return"; arg: Node | null } | { t: "expr"; e: Node };

/** A syntax or evaluation error in the user's function, with its line and column. */
export class MiniJsError extends Error {}

const PUNCT = ["=>", "===", "!==", "**", "<=", ">=", "==", "!=", "&&", "||", "...", "(", ")", "[", "]", "{", "}", ",", ";", ":", "?", ".", "=", "+", "-", "*", "/", "%", "<", ">", "!"];
interface Tok {
  k: "num" | "str" | "id" | "p" | "eof";
  v: string;
  pos: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (src.startsWith("//", i)) while (i < src.length && src[i] !== "\n") i++;
    else if (src.startsWith("/*", i)) i = src.indexOf("*/", i + 2) < 0 ? src.length : src.indexOf("*/", i + 2) + 2;
    else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(src.slice(i))!;
      out.push({ k: "num", v: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][\w$]*/.exec(src.slice(i))!;
      out.push({ k: "id", v: m[0], pos: i });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw err(src, i, "unterminated string");
      out.push({ k: "str", v: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else {
      const p = PUNCT.find((q) => src.startsWith(q, i));
      if (!p) throw err(src, i, `unexpected character ${JSON.stringify(c)}`);
      out.push({ k: "p", v: p, pos: i });
      i += p.length;
    }
  }
  out.push({ k: "eof", v: "end of input", pos: src.length });
  return out;
}

function err(src: string, pos: number, msg: string): MiniJsError {
  const before = src.slice(0, pos).split("\n");
  return new MiniJsError(`line ${before.length}, column ${before.at(-1)!.length + 1}: ${msg}`);
}

const BINARY: Record<string, number> = { "||": 1, "&&": 2, "===": 3, "!==": 3, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "**": 7 };

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}
  private peek(o = 0): Tok {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private is(v: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.k === "p" || t.k === "id") && t.v === v;
  }
  private eat(v: string): Tok {
    const t = this.peek();
    if (!this.is(v)) throw err(this.src, t.pos, `expected ${JSON.stringify(v)}, found ${JSON.stringify(t.v)}`);
    this.i++;
    return t;
  }
  private ident(): string {
    const t = this.peek();
    if (t.k !== "id") throw err(this.src, t.pos, `expected a name, found ${JSON.stringify(t.v)}`);
    this.i++;
    return t.v;
  }
  end(): void {
    if (this.is(";")) this.i++;
    const t = this.peek();
    if (t.k !== "eof") throw err(this.src, t.pos, `unexpected ${JSON.stringify(t.v)} after the function`);
  }
  /** An arrow function's parameter list starts here: `(` ... `)` `=>`, or `name =>`. */
  private arrowAhead(): boolean {
    if (this.peek().k === "id" && this.is("=>", 1)) return true;
    if (!this.is("(")) return false;
    let depth = 0;
    for (let j = this.i; j < this.toks.length; j++) {
      const t = this.toks[j]!;
      if (t.k === "p" && (t.v === "(" || t.v === "[")) depth++;
      if (t.k === "p" && (t.v === ")" || t.v === "]")) depth--;
      if (depth === 0) return this.toks[j + 1]?.v === "=>";
    }
    return false;
  }
  private pattern(): Pattern {
    if (!this.is("[")) return this.ident();
    this.eat("[");
    const items: Pattern[] = [];
    while (!this.is("]")) {
      items.push(this.pattern());
      if (!this.is("]")) this.eat(",");
    }
    this.eat("]");
    return items;
  }
  private fn(): Node {
    let params: Pattern[];
    if (this.peek().k === "id") params = [this.ident()];
    else {
      this.eat("(");
      params = [];
      while (!this.is(")")) {
        params.push(this.pattern());
        if (!this.is(")")) this.eat(",");
      }
      this.eat(")");
    }
    this.eat("=>");
    return { t: "fn", params, body: this.is("{") ? this.block() : this.expr() };
  }
  private block(): Stmt[] {
    this.eat("{");
    const out: Stmt[] = [];
    while (!this.is("}")) {
      if (this.is(";")) {
        this.i++;
        continue;
      }
      if (this.is("const") || this.is("let")) {
        this.i++;
        const target = this.pattern();
        this.eat("=");
        out.push({ t: "let", target, init: this.expr() });
      } else if (this.is("return")) {
        this.i++;
        out.push({ t: "return", arg: this.is(";") || this.is("}") ? null : this.expr() });
      } else out.push({ t: "expr", e: this.expr() });
      if (this.is(";")) this.i++;
    }
    this.eat("}");
    return out;
  }
  expr(): Node {
    if (this.arrowAhead()) return this.fn();
    const test = this.binary(1);
    if (!this.is("?")) return test;
    this.eat("?");
    const yes = this.expr();
    this.eat(":");
    return { t: "cond", test, yes, no: this.expr() };
  }
  private binary(min: number): Node {
    const unaryFirst = this.is("-") || this.is("+") || this.is("!");
    let a = this.unary();
    for (let first = true; ; first = false) {
      const t = this.peek();
      const prec = t.k === "p" ? BINARY[t.v] : undefined;
      if (prec === undefined || prec < min) return a;
      // as in JavaScript: -a ** b is ambiguous and refused; write (-a) ** b or -(a ** b)
      if (t.v === "**" && first && unaryFirst) throw err(this.src, t.pos, "a unary operator before ** needs parentheses: (-a) ** b or -(a ** b)");
      this.i++;
      // ** is right-associative, the others left-associative
      const b = this.binary(t.v === "**" ? prec : prec + 1);
      a = { t: "bin", op: t.v, a, b };
    }
  }
  private unary(): Node {
    if (this.is("-") || this.is("+") || this.is("!")) {
      const op = this.peek().v;
      this.i++;
      return { t: "unary", op, arg: this.unary() };
    }
    return this.postfix();
  }
  private postfix(): Node {
    let e = this.primary();
    for (;;) {
      if (this.is(".")) {
        this.i++;
        e = { t: "member", obj: e, prop: { t: "str", v: this.ident() }, computed: false };
      } else if (this.is("[")) {
        this.i++;
        const prop = this.expr();
        this.eat("]");
        e = { t: "member", obj: e, prop, computed: true };
      } else if (this.is("(")) {
        this.i++;
        const args: Node[] = [];
        while (!this.is(")")) {
          args.push(this.expr());
          if (!this.is(")")) this.eat(",");
        }
        this.eat(")");
        e = { t: "call", callee: e, args };
      } else return e;
    }
  }
  private primary(): Node {
    const t = this.peek();
    if (t.k === "num") return this.i++, { t: "num", v: Number(t.v) };
    if (t.k === "str") return this.i++, { t: "str", v: t.v };
    if (t.k === "id") {
      if (t.v === "function" || t.v === "new" || t.v === "class") throw err(this.src, t.pos, `${t.v} is not supported here; write an arrow function`);
      this.i++;
      return t.v === "true" || t.v === "false" ? { t: "num", v: t.v === "true" ? 1 : 0 } : { t: "id", name: t.v };
    }
    if (this.is("(")) {
      this.i++;
      const e = this.expr();
      this.eat(")");
      return e;
    }
    if (this.is("[")) {
      this.i++;
      const items: Node[] = [];
      while (!this.is("]")) {
        items.push(this.expr());
        if (!this.is("]")) this.eat(",");
      }
      this.eat("]");
      return { t: "arr", items };
    }
    if (this.is("{")) {
      this.i++;
      const props: [string, Node][] = [];
      while (!this.is("}")) {
        const key = this.peek().k === "str" ? this.toks[this.i++]!.v : this.ident();
        props.push([key, this.is(":") ? (this.eat(":"), this.expr()) : { t: "id", name: key }]);
        if (!this.is("}")) this.eat(",");
      }
      this.eat("}");
      return { t: "obj", props };
    }
    throw err(this.src, t.pos, `unexpected ${JSON.stringify(t.v)}`);
  }
}

const FORBIDDEN = new Set(["constructor", "__proto__", "prototype", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__"]);
const isTensor = (x: unknown) => typeof x === "object" && x !== null && "aval" in x;

type Scope = Map<string, unknown>;

/**
 * Parses `src` (one arrow function) and returns it as a JS function whose calls are interpreted.
 * `np` supplies the tensor operators (a + b on tensors -> np.add(a, b)).
 */
export function compileFunction(src: string, globals: Record<string, unknown>, np: Record<string, (...a: unknown[]) => unknown>, name = "f"): (...args: unknown[]) => unknown {
  const p = new Parser(src, tokenize(src));
  const node = p.expr();
  p.end();
  if (node.t !== "fn") throw new MiniJsError("the editor must hold one arrow function, e.g. (x, w) => np.sum(np.tanh(np.matmul(x, w)))");
  const root: Scope = new Map(Object.entries(globals));
  const f = evaluate(node, [root], np) as (...args: unknown[]) => unknown;
  Object.defineProperty(f, "name", { value: name });
  return f;
}

const TENSOR_OPS: Record<string, string> = { "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "power", "<": "less", ">": "greater", "<=": "lessEqual", ">=": "greaterEqual" };

function lookup(scopes: Scope[], name: string): unknown {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.has(name)) return scopes[i]!.get(name);
  throw new MiniJsError(`${name} is not defined (names: np, lax, nn, Math and the function's own)`);
}

function bind(scope: Scope, pat: Pattern, v: unknown): void {
  if (typeof pat === "string") scope.set(pat, v);
  else {
    const items = Array.isArray(v) ? v : [];
    pat.forEach((p, i) => bind(scope, p, items[i]));
  }
}

function evaluate(n: Node, scopes: Scope[], np: Record<string, (...a: unknown[]) => unknown>): unknown {
  const ev = (m: Node) => evaluate(m, scopes, np);
  switch (n.t) {
    case "num":
    case "str":
      return n.v;
    case "id":
      return lookup(scopes, n.name);
    case "arr":
      return n.items.map(ev);
    case "obj":
      return Object.fromEntries(n.props.map(([k, v]) => [k, ev(v)]));
    case "member": {
      const o = ev(n.obj) as Record<string, unknown>;
      const k = String(ev(n.prop));
      if (FORBIDDEN.has(k)) throw new MiniJsError(`property ${k} is not accessible in the playground`);
      if (o === null || o === undefined) throw new MiniJsError(`cannot read ${k} of ${o}`);
      const v = o[k];
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(o) : v;
    }
    case "call": {
      const f = ev(n.callee);
      if (typeof f !== "function") throw new MiniJsError(`${describe(n.callee)} is not a function`);
      return f(...n.args.map(ev));
    }
    case "unary": {
      const a = ev(n.arg);
      if (n.op === "!") return !a;
      if (isTensor(a)) return n.op === "-" ? np["negative"]!(a) : a;
      return n.op === "-" ? -(a as number) : +(a as number);
    }
    case "bin": {
      if (n.op === "&&") return ev(n.a) && ev(n.b);
      if (n.op === "||") return ev(n.a) || ev(n.b);
      const a = ev(n.a) as number;
      const b = ev(n.b) as number;
      if ((isTensor(a) || isTensor(b)) && TENSOR_OPS[n.op]) return np[TENSOR_OPS[n.op]!]!(a, b);
      switch (n.op) {
        case "+": return a + b;
        case "-": return a - b;
        case "*": return a * b;
        case "/": return a / b;
        case "%": return a % b;
        case "**": return a ** b;
        case "<": return a < b;
        case ">": return a > b;
        case "<=": return a <= b;
        case ">=": return a >= b;
        case "===": case "==": return a === b;
        case "!==": case "!=": return a !== b;
      }
      throw new MiniJsError(`operator ${n.op} is not supported`);
    }
    case "cond":
      return ev(n.test) ? ev(n.yes) : ev(n.no);
    case "fn":
      return (...args: unknown[]) => {
        const scope: Scope = new Map();
        n.params.forEach((p, i) => bind(scope, p, args[i]));
        const inner = [...scopes, scope];
        if (!Array.isArray(n.body)) return evaluate(n.body, inner, np);
        for (const s of n.body) {
          if (s.t === "return") return s.arg ? evaluate(s.arg, inner, np) : undefined;
          if (s.t === "let") bind(scope, s.target, evaluate(s.init, inner, np));
          else evaluate(s.e, inner, np);
        }
        return undefined;
      };
  }
}

function describe(n: Node): string {
  if (n.t === "id") return n.name;
  if (n.t === "member" && !n.computed && n.prop.t === "str") return `${describe(n.obj)}.${n.prop.v}`;
  return "the callee";
}
