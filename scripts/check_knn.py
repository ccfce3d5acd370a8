#!/usr/bin/env python3
"""Weighted k-NN on frozen features, as selfsup's probe computes it (cosine similarity, k = 20,
votes weighted by exp(sim / 0.07)), on the raw features and on features standardised with the
training set's per-dimension mean and standard deviation (what the linear probe reads). A
diagnostic for a k-NN gain that lags the linear probe's: does the pretrained network's
advantage hide in how its dimensions are scaled?

    RUN=runs/jigsaw-fmnist
    for init in "" --random-init; do
        selfsup embed --checkpoint $RUN --data fashion-mnist      $init --out $RUN/knn$init-train
        selfsup embed --checkpoint $RUN --data fashion-mnist:test $init --out $RUN/knn$init-test
    done
    python3 scripts/check_knn.py $RUN/knn-train $RUN/knn-test $RUN/knn--random-init-train ...
"""
import sys

import numpy as np


def load(folder):
    return np.load(f"{folder}/features.npy").astype(np.float32), np.load(f"{folder}/labels.npy")


def knn(x, y, xt, k=20, t=0.07, classes=10, chunk=1000):
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    xt = xt / np.maximum(np.linalg.norm(xt, axis=1, keepdims=True), 1e-12)
    predictions = []
    for start in range(0, len(xt), chunk):
        sim = xt[start:start + chunk] @ x.T
        top = np.argpartition(-sim, k, axis=1)[:, :k]
        s = np.take_along_axis(sim, top, axis=1)
        votes = np.zeros((len(s), classes))
        np.add.at(votes, (np.arange(len(s))[:, None], y[top]), np.exp(s / t))
        predictions.append(votes.argmax(1))
    return np.concatenate(predictions)


def main(pairs):
    for train_dir, test_dir in pairs:
        (x, y), (xt, yt) = load(train_dir), load(test_dir)
        raw = (knn(x, y, xt) == yt).mean()
        mean, std = x.mean(0), x.std(0)
        std[std == 0] = 1
        standardised = (knn((x - mean) / std, y, (xt - mean) / std) == yt).mean()
        dead = int((x.std(0) == 0).sum())
        share = np.sort(x.var(0))[::-1]
        top = share[:5].sum() / share.sum()
        print(f"{train_dir}: k-NN raw {100 * raw:.2f}%, standardised {100 * standardised:.2f}% "
              f"({x.shape[1]} dims, {dead} constant, top 5 dims hold {100 * top:.0f}% of the variance)")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2 or len(args) % 2:
        sys.exit(__doc__)
    main(list(zip(args[::2], args[1::2])))
