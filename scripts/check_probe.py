#!/usr/bin/env python3
"""Checks selfsup's linear probe against scikit-learn's converged logistic regression on the same
frozen features (issue 7: both probes within half a point of a converged fit).

    RUN=runs/rotation-fmnist
    selfsup embed --checkpoint $RUN --data fashion-mnist      --out $RUN/emb-train
    selfsup embed --checkpoint $RUN --data fashion-mnist:test --out $RUN/emb-test
    selfsup embed --checkpoint $RUN --data fashion-mnist --per-class 100 --seed S --out $RUN/emb-few-S
    python3 scripts/check_probe.py $RUN/emb-train $RUN/emb-test [$RUN/emb-few-S ...]

Fits LogisticRegression(C=1, lbfgs, max_iter=10000) on StandardScaler features of each training
set (the same objective selfsup's probe minimises) and prints its test accuracy; selfsup's own
numbers come from `selfsup eval linear few` with the same block and seeds.
"""
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def load(folder):
    return np.load(f"{folder}/features.npy"), np.load(f"{folder}/labels.npy")


def main(train_dirs, test_dir):
    x_test, y_test = load(test_dir)
    for folder in train_dirs:
        x, y = load(folder)
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(C=1.0, max_iter=10000, tol=1e-6).fit(scaler.transform(x), y)
        accuracy = (model.predict(scaler.transform(x_test)) == y_test).mean()
        print(f"{folder}: {len(y)} training features, scikit-learn accuracy {100 * accuracy:.2f}% "
              f"({model.n_iter_[0]} lbfgs iterations)")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main([sys.argv[1]] + sys.argv[3:], sys.argv[2])
