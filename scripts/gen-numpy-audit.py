# Generates test/fixtures/numpy-array-api.json: NumPy's result dtype, shape and values for every
# function of issue 18 on small inputs of each dtype, for test/numpy-audit.test.ts (the test never
# calls python). Run: python3 scripts/gen-numpy-audit.py (NumPy 2.x; scipy for solve_triangular).
import json, math
import numpy as np
import scipy.linalg

f32, f64, i32 = np.float32, np.float64, np.int32

def enc(a):
    a = np.asarray(a)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}

cases = []
def case(fn, inputs, opts=None, out=None, id=None):
    """fn: the name the test maps to adgen; inputs: arrays; opts: keyword options (adgen's names)."""
    cid = id or f"{fn}#{len([c for c in cases if c['fn'] == fn])}"
    try:
        res = out(*inputs)
        outs = [enc(r) for r in (res if isinstance(res, tuple) else (res,))]
        cases.append({"id": cid, "fn": fn, "inputs": [enc(x) for x in inputs], "opts": opts or {}, "outputs": outs})
    except Exception as e:  # NumPy raises: record the error class
        cases.append({"id": cid, "fn": fn, "inputs": [enc(x) for x in inputs], "opts": opts or {}, "raises": type(e).__name__})

unit = [-0.9, -0.5, 0.0, 0.25, 0.5, 0.75]
ints = [-3, -1, 0, 1, 2, 5]
for name, npf, vals, ivals in [
    ("arcsin", np.arcsin, unit, [-1, 0, 1, 0, 1, -1]), ("arccos", np.arccos, unit, [-1, 0, 1, 0, 1, -1]),
    ("arctan", np.arctan, unit, ints), ("sinh", np.sinh, unit, ints), ("cosh", np.cosh, unit, ints),
    ("arcsinh", np.arcsinh, unit, ints), ("arctanh", np.arctanh, unit, [0, 0, 0, 0, 0, 0]),
    ("arccosh", np.arccosh, [1.0, 1.5, 2.0, 3.0, 10.0, 1.25], [1, 2, 3, 4, 5, 6]),
    ("log2", np.log2, [0.5, 1.0, 2.0, 3.0, 8.0, 0.0], [1, 2, 3, 4, 8, 16]),
    ("log10", np.log10, [0.5, 1.0, 2.0, 3.0, 100.0, 0.0], [1, 2, 3, 10, 100, 7]),
    ("exp2", np.exp2, unit, ints),
]:
    for dt in (f32, f64):
        case(name, [np.array(vals, dt).reshape(2, 3)], out=npf)
    case(name, [np.array(ivals, i32).reshape(2, 3)], out=npf)
    case(name, [np.array([True, False, True])], out=npf)

xs = [-7.5, -3.0, 0.0, 2.5, 7.0, 5.0]
ys = [2.0, -2.0, 3.0, -1.5, 0.0, 3.0]
for name, npf in [("arctan2", np.arctan2), ("hypot", np.hypot), ("mod", np.mod), ("floorDivide", np.floor_divide)]:
    case(name, [np.array(xs, f32), np.array(ys, f32)], out=npf)
    case(name, [np.array(xs, f64), np.array(ys, f64)], out=npf)
    case(name, [np.array(xs, f32), np.array(ys, f64)], out=npf)
    case(name, [np.array([-7, -3, 0, 2, 7, 5], i32), np.array([2, -2, 3, -1, 1, 3], i32)], out=npf)
    case(name, [np.array([-7, -3, 0, 2, 7, 5], i32).reshape(2, 3), np.array([2.0, -2.0, 3.0], f32)], out=npf)
    case(name, [np.array([True, False, True]), np.array([True, True, True])], out=npf)

m3 = np.arange(24, dtype=f32).reshape(2, 3, 4)
mi = np.arange(12, dtype=i32).reshape(3, 4)
mb = (np.arange(12) % 3 == 0).reshape(3, 4)
for x in (m3[0], mi, m3):
    for off in (0, 1, -1):
        case("diagonal", [x], {"offset": off}, out=lambda a, o=off: np.diagonal(a, o))
        case("trace", [x], {"offset": off}, out=lambda a, o=off: np.trace(a, o))
case("diagonal", [m3], {"offset": 1, "axis1": 1, "axis2": 2}, out=lambda a: np.diagonal(a, 1, 1, 2))
case("trace", [m3], {"offset": -1, "axis1": 2, "axis2": 0}, out=lambda a: np.trace(a, -1, 2, 0))
case("trace", [mb], out=np.trace)
for x in (m3, mi, mb):
    for k in (0, 1, -2):
        case("tril", [x], {"k": k}, out=lambda a, k=k: np.tril(a, k))
        case("triu", [x], {"k": k}, out=lambda a, k=k: np.triu(a, k))
for x in (m3, mi):
    case("roll", [x], {"shift": 5}, out=lambda a: np.roll(a, 5))
    case("roll", [x], {"shift": -2, "axis": 1}, out=lambda a: np.roll(a, -2, axis=1))
    case("roll", [x], {"shift": [1, 3], "axis": [0, -1]}, out=lambda a: np.roll(a, [1, 3], axis=[0, -1]))
pv = np.array([[1, 2, 3], [4, 5, 6]], f32)
for mode in ("constant", "edge", "wrap", "reflect", "symmetric"):
    for w in ([[1, 2], [2, 1]], [[0, 0], [4, 5]]):
        for x in (pv, pv.astype(i32)):
            case("pad", [x], {"width": w, "mode": mode}, out=lambda a, w=w, mode=mode: np.pad(a, w, mode=mode))
for name, npf in [("cumsum", np.cumsum), ("cumprod", np.cumprod)]:
    for x in (pv, pv.astype(i32), np.array([[True, False, True], [True, True, False]]), pv.astype(f64)):
        case(name, [x], out=npf)
        case(name, [x], {"axis": 0}, out=lambda a, f=npf: f(a, axis=0))
def topk2(a, k=2):
    """jax.lax.top_k's order: largest first, NaN counted largest, ties by lower index."""
    idx = np.array([sorted(range(a.shape[-1]), key=lambda j: (not np.isnan(r[j]), -r[j] if not np.isnan(r[j]) else 0, j))[:k] for r in a], i32)
    return np.take_along_axis(a, idx, -1), idx
nanv = np.array([[3.0, np.nan, -1.0, 2.0], [0.0, -0.0, np.inf, -np.inf], [1.0, 1.0, np.nan, -2.0]], f32)
for x in (nanv, nanv.astype(f64), np.array([[3, 1, 2, 1], [0, -5, 9, 9], [7, 7, 7, 1]], i32)):
    case("sort", [x], out=np.sort)
    case("sort", [x], {"axis": 0}, out=lambda a: np.sort(a, axis=0))
    case("sort", [x], {"axis": None}, out=lambda a: np.sort(a, axis=None))
    case("argsort", [x], out=lambda a: np.argsort(a, kind="stable"))
    case("argsort", [x], {"axis": 0}, out=lambda a: np.argsort(a, axis=0, kind="stable"))
    case("topK", [x], {"k": 2}, out=topk2)
A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], f32)
B = np.array([[2.0, 1.0], [0.5, -1.0], [1.0, 4.0]], f32)
S = np.arange(9, dtype=f32).reshape(3, 3)
T3 = np.arange(24, dtype=f32).reshape(2, 3, 4) / 10
for sub, ops in [("ij,jk->ik", (A, B)), ("ij,jk", (A, B)), ("ii->i", (S,)), ("ii", (S,)), ("ij->ji", (A,)), ("...j,j->...", (T3, np.ones(4, f32))),
                 ("bij,bjk->bik", (T3[:, :, :3], np.ones((2, 3, 2), f32))), ("i,j->ij", (np.ones(3, f32), np.arange(2, dtype=f32))), ("ij,ij->", (A, A)),
                 ("ij,jk->ik", (A.astype(i32), B.astype(i32))), ("ij,jk->ik", (A, B.astype(f64))), ("ij,jk->ik", (A.astype(bool), B.astype(bool)))]:
    case("einsum", list(ops), {"subscripts": sub}, out=lambda *a, s=sub: np.einsum(s, *a))
for axes, ops in [(1, (A, B)), (0, (A, B)), ([[1], [0]], (A, B)), ([[0, 1], [1, 0]], (A, A.T.copy())), (2, (T3, np.ones((3, 4), f32))), (1, (A.astype(i32), B.astype(i32)))]:
    case("tensordot", list(ops), {"axes": axes}, out=lambda a, b, ax=axes: np.tensordot(a, b, ax))
# linear algebra
spd = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
gen = np.array([[2.0, -1.0, 0.5], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
tall = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 1.0]])
bat = np.stack([gen, spd])
for dt in (f32, f64):
    case("cholesky", [spd.astype(dt)], out=np.linalg.cholesky)
    case("cholesky", [np.stack([spd, spd * 2]).astype(dt)], out=np.linalg.cholesky)
    case("solve", [gen.astype(dt), np.array([1.0, 2.0, 3.0], dt)], out=np.linalg.solve)
    case("solve", [bat.astype(dt), np.ones((2, 3, 2), dt)], out=np.linalg.solve)
    case("triangularSolve", [gen.astype(dt), np.array([[1.0], [2.0], [3.0]], dt)], {"lower": False}, out=lambda a, b: scipy.linalg.solve_triangular(a, b, lower=False))
    case("triangularSolve", [gen.astype(dt), np.array([[1.0], [2.0], [3.0]], dt)], {"lower": True, "trans": "T"}, out=lambda a, b: scipy.linalg.solve_triangular(a, b, lower=True, trans="T"))
    case("inv", [bat.astype(dt)], out=np.linalg.inv)
    case("det", [bat.astype(dt)], out=np.linalg.det)
    case("slogdet", [np.stack([gen, -gen, np.zeros((3, 3))]).astype(dt)], out=lambda a: tuple(np.linalg.slogdet(a)))
    for mode in ("reduced", "complete", "r"):
        case("qr", [tall.astype(dt)], {"mode": mode}, out=lambda a, m=mode: (np.linalg.qr(a, mode=m),) if m == "r" else tuple(np.linalg.qr(a, mode=m)))
    case("eigvalsh", [np.stack([spd, gen + gen.T]).astype(dt)], out=np.linalg.eigvalsh)  # symmetric: adgen symmetrizes, NumPy reads the lower triangle
    case("svdvals", [tall.astype(dt)], out=lambda a: np.linalg.svd(a, compute_uv=False))
    case("svdvals", [bat.astype(dt)], out=lambda a: np.linalg.svd(a, compute_uv=False))
    v = np.array([3.0, -4.0, 0.0, 1.0], dt)
    for ordv in (None, 1, 2, np.inf, -np.inf, 0, 3):
        case("norm", [v], {"ord": ordv}, out=lambda a, o=ordv: np.linalg.norm(a, o))
    for ordv in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        case("norm", [gen.astype(dt)], {"ord": ordv}, out=lambda a, o=ordv: np.linalg.norm(a, o))
    case("norm", [bat.astype(dt)], {"axis": [1, 2]}, out=lambda a: np.linalg.norm(a, axis=(1, 2)))
    case("norm", [bat.astype(dt)], {"axis": -1, "keepdims": True}, out=lambda a: np.linalg.norm(a, axis=-1, keepdims=True))
for name in ("cholesky", "inv", "det", "eigvalsh"):
    case(name, [spd.astype(i32)], out=getattr(np.linalg, name))
# index updates (np.add.at and friends on a copy; x[i] = v for set)
def at(kind):
    def f(x, v, idx=[0, 2, 0]):
        y = x.copy()
        if kind == "set": y[idx] = v
        else: getattr(np, kind).at(y, idx, v)
        return y
    return f
for kind, name in [("set", "set"), ("add", "add"), ("multiply", "multiply"), ("minimum", "min"), ("maximum", "max")]:
    case("at." + name, [np.array([1.0, 2.0, 3.0, 4.0], f32), np.array([5.0, -1.0, 0.5], f32)], out=at(kind))
    case("at." + name, [np.array([1, 2, 3, 4], i32), np.array([5, -1, 2], i32)], out=at(kind))
    case("at." + name, [np.array([1, 2, 3, 4], i32), np.array([5.0, -1.0, 2.0], f64)], out=lambda x, v, k=kind: at(k)(x, v.astype(x.dtype)))

# convolutions and pooling (NCHW / OIHW), by direct loops in float64: JAX's conv_general_dilated
def pairs_for(padding, sp, eff, strides):
    if padding == "VALID": return [(0, 0)] * len(sp)
    if padding == "SAME":
        out = []
        for n, e, st in zip(sp, eff, strides):
            o = -(-n // st); tot = max((o - 1) * st + e - n, 0); out.append((tot // 2, tot - tot // 2))
        return out
    return [tuple(p) for p in padding]

def conv_ref(x, w, strides=None, padding="VALID", lhs=None, rhs=None, groups=1):
    x = x.astype(np.float64); w = w.astype(np.float64)
    nd = x.ndim - 2; strides = strides or [1] * nd; lhs = lhs or [1] * nd; rhs = rhs or [1] * nd
    for i in range(nd):  # lhs dilation: interior zeros
        n = x.shape[2 + i]; shape = list(x.shape); shape[2 + i] = (n - 1) * lhs[i] + 1
        y = np.zeros(shape); idx = [slice(None)] * x.ndim; idx[2 + i] = slice(None, None, lhs[i]); y[tuple(idx)] = x; x = y
    for i in range(nd):  # kernel dilation
        k = w.shape[2 + i]; shape = list(w.shape); shape[2 + i] = (k - 1) * rhs[i] + 1
        v = np.zeros(shape); idx = [slice(None)] * w.ndim; idx[2 + i] = slice(None, None, rhs[i]); v[tuple(idx)] = w; w = v
    pr = pairs_for(padding, x.shape[2:], w.shape[2:], strides)
    x = np.pad(x, [(0, 0), (0, 0)] + [(max(a, 0), max(b, 0)) for a, b in pr])
    x = x[(slice(None), slice(None)) + tuple(slice(max(-a, 0), x.shape[2 + i] - max(-b, 0)) for i, (a, b) in enumerate(pr))]
    N, C = x.shape[:2]; O = w.shape[0]; cg, og = C // groups, O // groups
    out_sp = [(x.shape[2 + i] - w.shape[2 + i]) // strides[i] + 1 for i in range(nd)]
    out = np.zeros([N, O] + out_sp)
    for o in range(O):
        g = o // og
        for pos in np.ndindex(*out_sp):
            win = x[(slice(None), slice(g * cg, (g + 1) * cg)) + tuple(slice(p * st, p * st + k) for p, st, k in zip(pos, strides, w.shape[2:]))]
            out[(slice(None), o) + pos] = (win * w[o]).reshape(N, -1).sum(1)
    return out

def pool_ref(x, window, strides=None, padding="VALID", kind="max"):
    nd = x.ndim - 2; strides = strides or window
    pr = pairs_for(padding, x.shape[2:], window, strides)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + pr, constant_values=fill)
    out_sp = [(xp.shape[2 + i] - window[i]) // strides[i] + 1 for i in range(nd)]
    out = np.zeros(list(x.shape[:2]) + out_sp)
    for pos in np.ndindex(*out_sp):
        win = xp[(slice(None), slice(None)) + tuple(slice(p * st, p * st + k) for p, st, k in zip(pos, strides, window))]
        r = win.reshape(x.shape[0], x.shape[1], -1)
        out[(slice(None), slice(None)) + pos] = r.max(-1) if kind == "max" else r.mean(-1)
    return out

rs = np.random.RandomState(18)
cx = rs.uniform(-1, 1, (2, 4, 7, 6)).astype(f32)
for opts, wshape in [({}, (3, 4, 3, 3)), ({"padding": "SAME"}, (5, 4, 3, 2)), ({"strides": [2, 1], "padding": [[1, 2], [0, 1]]}, (3, 4, 2, 3)),
                     ({"rhsDilation": [1, 2], "padding": "SAME", "strides": 2}, (2, 4, 3, 2)), ({"lhsDilation": 2, "padding": [[2, 2], [1, 1]]}, (3, 4, 3, 3)),
                     ({"featureGroupCount": 2, "padding": [[-1, 0], [1, 1]]}, (6, 2, 2, 2)), ({"featureGroupCount": 4}, (4, 1, 3, 3))]:
    w = rs.uniform(-1, 1, wshape).astype(f32)
    st = opts.get("strides"); st = [st, st] if isinstance(st, int) else st
    ld = opts.get("lhsDilation"); ld = [ld, ld] if isinstance(ld, int) else ld
    for dt in (f32, f64):
        case("conv", [cx.astype(dt), w.astype(dt)], opts, out=lambda a, b, o=opts, st=st, ld=ld: conv_ref(a, b, st, o.get("padding", "VALID"), ld, o.get("rhsDilation"), o.get("featureGroupCount", 1)).astype(a.dtype))
c1 = rs.uniform(-1, 1, (2, 3, 9)).astype(f32)
w1 = rs.uniform(-1, 1, (4, 3, 3)).astype(f32)
case("conv", [c1, w1], {"strides": 2, "padding": "SAME"}, out=lambda a, b: conv_ref(a, b, [2], "SAME").astype(f32))
case("conv", [(c1 * 4).astype(i32), w1], {}, out=lambda a, b: conv_ref(a, b).astype(f32))  # int32 lhs: promoted to float32 (JAX lattice)
px = rs.uniform(-1, 1, (2, 3, 7, 6)).astype(f32)
for kind in ("max", "avg"):
    for window, opts in [([2, 2], {}), ([3, 2], {"strides": [2, 1], "padding": "SAME"}), ([2, 3], {"strides": 1, "padding": [[1, 0], [0, 2]]})]:
        st = opts.get("strides"); st = [st, st] if isinstance(st, int) else st
        for dt in (f32, f64):
            case(kind + "Pool", [px.astype(dt)], {**opts, "window": window}, out=lambda a, w=window, st=st, o=opts, k=kind: pool_ref(a, w, st, o.get("padding", "VALID"), k).astype(a.dtype))

# JSON cannot hold NaN/Infinity: written as strings
def fix(o):
    if isinstance(o, float) and not math.isfinite(o): return str(o)
    if isinstance(o, dict): return {k: fix(v) for k, v in o.items()}
    if isinstance(o, list): return [fix(v) for v in o]
    return o
cases = [c for c in cases]
with open("test/fixtures/numpy-array-api.json", "w") as fh:
    json.dump({"numpy": np.__version__, "cases": fix(cases)}, fh, separators=(",", ":"))
print(len(cases), "cases")
