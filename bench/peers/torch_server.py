# PyTorch side of the "pytorch" bench peer (bench/peers/torch.ts): a line-oriented JSON server.
# Requests: {"cmd": "setup", "id": <workload>, "dir": <input dir>} builds the workload from the
# float32 files node wrote (so both sides use the same inputs), runs it once and writes its
# outputs to <dir>/out_<name>.f32 for node to check; {"cmd": "sample", "inner": n} times n calls
# and answers the mean ms per call; {"cmd": "quit"}. Everything is float32 on the CPU, with
# PyTorch's default thread count unless TORCH_THREADS is set.
import json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

if os.environ.get("TORCH_THREADS"):
    torch.set_num_threads(int(os.environ["TORCH_THREADS"]))

TF = dict(B=8, T=128, d=256, heads=4, ff=1024)
MLP = dict(nIn=784, nHidden=256, nOut=10)


def load(d, name, shape):
    return torch.from_numpy(np.fromfile(os.path.join(d, name + ".f32"), dtype=np.float32).reshape(shape)).contiguous()


def save(d, name, t):
    t.detach().contiguous().numpy().astype(np.float32).tofile(os.path.join(d, "out_" + name + ".f32"))


def fwd_or_step(loss, p, step, names):
    """The forward row (loss, no autograd) or the step row (loss + gradients of p, read back)."""

    def fwd():
        with torch.no_grad():
            return {"loss": loss()}

    def stp():
        for v in p.values():
            v.grad = None
        l = loss()
        l.backward()
        out = {"loss": l.detach()}
        out.update({out_name: p[k].grad for k, out_name in names.items()})
        return out

    return stp if step else fwd


def mlp(d, step, batch=128):
    p = {"W1": load(d, "w1", (784, 256)), "b1": load(d, "b1", (256,)), "W2": load(d, "w2", (256, 10)), "b2": load(d, "b2", (10,))}
    x, y = load(d, "x", (batch, 784)), load(d, "y", (batch, 10))
    for v in p.values():
        v.requires_grad_(step)

    def loss():
        h = torch.relu(x @ p["W1"] + p["b1"])
        return -(F.log_softmax(h @ p["W2"] + p["b2"], dim=-1) * y).sum() / batch

    return fwd_or_step(loss, p, step, {"W1": "w1", "b1": "b1", "W2": "w2", "b2": "b2"})


def transformer(d, step):
    B, T, D, H, FF = TF["B"], TF["T"], TF["d"], TF["heads"], TF["ff"]
    shapes = dict(g1=(D,), c1=(D,), wq=(D, D), wk=(D, D), wv=(D, D), wo=(D, D), g2=(D,), c2=(D,), w1=(D, FF), b1=(FF,), w2=(FF, D), b2=(D,))
    p = {k: load(d, "p_" + k, s) for k, s in shapes.items()}
    x, target = load(d, "x", (B, T, D)), load(d, "target", (B, T, D))
    for v in p.values():
        v.requires_grad_(step)
    dh = D // H

    def heads(t):
        return t.reshape(B, T, H, dh).transpose(1, 2)

    def loss():
        h = F.layer_norm(x, (D,), p["g1"], p["c1"], eps=1e-5)
        q, k, v = heads(h @ p["wq"]), heads(h @ p["wk"]), heads(h @ p["wv"])
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1) @ v
        x1 = x + a.transpose(1, 2).reshape(B, T, D) @ p["wo"]
        h2 = F.layer_norm(x1, (D,), p["g2"], p["c2"], eps=1e-5)
        y = x1 + F.gelu(h2 @ p["w1"] + p["b1"], approximate="tanh") @ p["w2"] + p["b2"]
        return ((y - target) ** 2).mean()

    return fwd_or_step(loss, p, step, {k: k for k in p})


def elementwise(d, grad):
    x = load(d, "x", (4 * 1024 * 1024,))

    def f(v):
        return (torch.tanh(v) * torch.exp(-v * v)).sum()

    def fwd():
        with torch.no_grad():
            return {"value": f(x)}

    def g():
        xr = x.detach().requires_grad_(True)
        (gx,) = torch.autograd.grad(f(xr), xr)
        return {"grad": gx}

    return g if grad else fwd


def cnn(d):
    shapes = dict(w1=(8, 1, 3, 3), b1=(8,), w2=(16, 8, 3, 3), b2=(16,), w3=(784, 10), b3=(10,))
    p = {k: load(d, "p_" + k, s).requires_grad_(True) for k, s in shapes.items()}
    x = load(d, "x", (32, 1, 28, 28))
    labels = load(d, "labels", (32,)).long()

    def stp():
        for v in p.values():
            v.grad = None
        h = F.max_pool2d(torch.relu(F.conv2d(x, p["w1"], p["b1"], padding=1)), 2)
        h = F.max_pool2d(torch.relu(F.conv2d(h, p["w2"], p["b2"], padding=1)), 2)
        l = F.cross_entropy(h.reshape(32, -1) @ p["w3"] + p["b3"], labels)
        l.backward()
        return {"loss": l.detach(), **{k: v.grad for k, v in p.items()}}

    return stp


def matmul(d, n):
    a, b = load(d, "a", (n, n)), load(d, "b", (n, n))
    return lambda: {"c": a @ b}


BUILD = {
    "matmul-512": lambda d: matmul(d, 512),
    "matmul-1024": lambda d: matmul(d, 1024),
    "mlp-fwd": lambda d: mlp(d, False),
    "mlp-step": lambda d: mlp(d, True),
    "transformer-fwd": lambda d: transformer(d, False),
    "transformer-step": lambda d: transformer(d, True),
    "ew-4m-fwd": lambda d: elementwise(d, False),
    "ew-4m-grad": lambda d: elementwise(d, True),
    "cnn-step": cnn,
}


def main():
    fn = None
    print(json.dumps({"ready": True, "version": torch.__version__, "threads": torch.get_num_threads(), "blas": torch.__config__.show().count("OpenBLAS") > 0}), flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "setup":
                fn = BUILD[msg["id"]](msg["dir"])
                out = fn()
                for k, v in out.items():
                    save(msg["dir"], k, v.reshape(-1) if v.dim() else v.reshape(1))
                for _ in range(2):
                    fn()
                reply = {"ok": True, "outputs": list(out.keys())}
            elif msg["cmd"] == "sample":
                n = int(msg["inner"])
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                reply = {"ms": (time.perf_counter() - t0) * 1000 / n}
            elif msg["cmd"] == "quit":
                return
            else:
                reply = {"error": "unknown command " + str(msg["cmd"])}
        except Exception as e:  # reported to node as the cell's reason
            reply = {"error": type(e).__name__ + ": " + str(e)}
        print(json.dumps(reply), flush=True)


main()
