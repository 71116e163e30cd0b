# PyTorch side of bench/cnn-train.ts: trains the cnn-step network (bench/workloads/cnn.ts) on the
# Fashion-MNIST subset with the same initial parameters, batches and plain SGD as adgen, and
# prints one JSON line: {"steps", "stepMs" (median), "losses" (per epoch, mean), "accuracy"}.
# argv: <dir with w1.f32 ... b3.f32 and shapes.json> <data .bin.gz> <epochs> <batch> <lr>
import gzip, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn.functional as F

d, data, epochs, B, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
shapes = json.load(open(os.path.join(d, "shapes.json")))
p = {n: torch.from_numpy(np.fromfile(os.path.join(d, n + ".f32"), dtype=np.float32).reshape(s)).requires_grad_() for n, s in shapes.items()}
raw = gzip.open(data).read()
ntr, nte = struct.unpack("<II", raw[4:12])
at = 12
def take(n):
    global at
    at += n
    return np.frombuffer(raw[at - n: at], dtype=np.uint8)
trX = torch.from_numpy(take(ntr * 784).astype(np.float32).reshape(ntr, 1, 28, 28) / 255)
trY = torch.from_numpy(take(ntr).astype(np.int64))
teX = torch.from_numpy(take(nte * 784).astype(np.float32).reshape(nte, 1, 28, 28) / 255)
teY = torch.from_numpy(take(nte).astype(np.int64))

def forward(x):
    h = F.max_pool2d(F.relu(F.conv2d(x, p["w1"], p["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["w2"], p["b2"], padding=1)), 2)
    return h.reshape(x.shape[0], -1) @ p["w3"] + p["b3"]

times, losses = [], []
for e in range(epochs):
    tot = 0.0
    for s in range(ntr // B):
        t0 = time.perf_counter()
        loss = F.cross_entropy(forward(trX[s * B:(s + 1) * B]), trY[s * B:(s + 1) * B])
        grads = torch.autograd.grad(loss, list(p.values()))
        with torch.no_grad():
            for t, g in zip(p.values(), grads):
                t -= lr * g
        tot += loss.item()
        times.append((time.perf_counter() - t0) * 1000)
    losses.append(tot / (ntr // B))
with torch.no_grad():
    acc = (forward(teX).argmax(1) == teY).float().mean().item()
print(json.dumps({"steps": len(times), "stepMs": float(np.median(times)), "losses": losses, "accuracy": acc, "threads": torch.get_num_threads()}))
