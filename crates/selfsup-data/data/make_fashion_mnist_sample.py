#!/usr/bin/env python3
"""Rebuilds fashion-mnist-sample/ from Debian's dataset-fashion-mnist package.

    apt-get install dataset-fashion-mnist
    python3 make_fashion_mnist_sample.py [/usr/share/datasets/fashion-mnist]

Takes, in file order, the first 500 images of each class from the training set (5,000 images)
and the first 100 of each class from the test set (1,000), and writes them as gzipped IDX files
in the original layout. The gzip header carries no timestamp, so the output is byte-for-byte
reproducible.
"""
import gzip
import struct
import sys
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist")
DST = Path(__file__).resolve().parent / "fashion-mnist-sample"


def read(path):
    data = gzip.open(path).read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def write(path, magic, dims, payload):
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(header + payload)


def sample(split, per_class):
    (n, h, w), images = read(SRC / f"{split}-images-idx3-ubyte.gz")
    _, labels = read(SRC / f"{split}-labels-idx1-ubyte.gz")
    taken, counts = [], [0] * 10
    for i in range(n):
        if counts[labels[i]] < per_class:
            counts[labels[i]] += 1
            taken.append(i)
    size = h * w
    write(DST / f"{split}-images-idx3-ubyte.gz", 0x803, (len(taken), h, w),
          b"".join(images[i * size : (i + 1) * size] for i in taken))
    write(DST / f"{split}-labels-idx1-ubyte.gz", 0x801, (len(taken),), bytes(labels[i] for i in taken))
    print(f"{split}: {len(taken)} images")


DST.mkdir(exist_ok=True)
sample("train", 500)
sample("t10k", 100)
