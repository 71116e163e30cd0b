# Writes bench/data/fashion-mnist-subset.bin.gz: the first 1024 training and the first 512 test
# images of Fashion-MNIST (Zalando Research, MIT licence; https://github.com/zalandoresearch/fashion-mnist),
# read from the IDX files of Debian's dataset-fashion-mnist package (default directory below).
# Layout (uint8, after gunzip): "FMNS", uint32 LE counts ntrain, ntest, then ntrain*784 train
# pixels, ntrain labels, ntest*784 test pixels, ntest labels. Used by bench/cnn-train.ts.
import gzip, struct, sys
src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
NTRAIN, NTEST = 1024, 512

def idx(name, n, item):
    with gzip.open(f"{src}/{name}-ubyte.gz", "rb") as f:
        data = f.read()
    header = 16 if item == 784 else 8
    return data[header: header + n * item]

out = b"FMNS" + struct.pack("<II", NTRAIN, NTEST)
out += idx("train-images-idx3", NTRAIN, 784) + idx("train-labels-idx1", NTRAIN, 1)
out += idx("t10k-images-idx3", NTEST, 784) + idx("t10k-labels-idx1", NTEST, 1)
with gzip.GzipFile("bench/data/fashion-mnist-subset.bin.gz", "wb", compresslevel=9, mtime=0) as f:
    f.write(out)
print(len(out), "bytes before compression")
