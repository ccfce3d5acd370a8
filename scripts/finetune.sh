#!/usr/bin/env bash
# Fine-tuning from a pretrained checkpoint against the same recipe from random init (issue 13,
# docs/results.md): 100 labels per class with three seeds of the label subset, and 1,000 labels
# per class with one, on full Fashion-MNIST; the test split is evaluated once per run, through
# the checkpoint validation picked. Prints the mean and spread per setting.
#
#   apt-get install dataset-fashion-mnist
#   scripts/finetune.sh                          # CKPT=runs/rotation-fmnist (scripts/results.sh rotation)
#   CKPT=runs/jigsaw-fmnist OUT=runs/finetune-jigsaw scripts/finetune.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=${CKPT:-runs/rotation-fmnist}
OUT=${OUT:-runs/finetune-rotation}
# BIN runs a binary built before (a long run keeps its binary while the tree changes).
[ -n "${BIN:-}" ] || cargo build --release --workspace --quiet
BIN=${BIN:-target/release/selfsup}
mkdir -p "$OUT"

runs=()
for labels in 100 1000; do
    seeds="0 1 2"; [ "$labels" = 1000 ] && seeds="0"
    for seed in $seeds; do
        for init in pretrained random; do
            run="$OUT/$labels-$init-$seed"
            runs+=("$run")
            [ -f "$run/test.json" ] && continue
            rm -rf "$run"
            flag=""; [ "$init" = random ] && flag="--random-init"
            start=$(date +%s)
            $BIN finetune --checkpoint "$CKPT" --data fashion-mnist --labels-per-class "$labels" \
                --subset-seed "$seed" $flag --out "$run" > "$run.log" 2>&1
            echo "$run: $(( $(date +%s) - start )) s, $(tail -1 "$run.log")"
        done
    done
done

python3 - "${runs[@]}" <<'PY'
import json, statistics, sys
from collections import defaultdict
acc = defaultdict(list)
for run in sys.argv[1:]:
    labels, init, _ = run.rsplit("/", 1)[1].split("-")
    acc[(int(labels), init)].append(100 * json.load(open(f"{run}/test.json"))["accuracy"])
print("| labels per class | seeds | pretrained | random init | gain |")
print("|---|---|---|---|---|")
for labels in sorted({l for l, _ in acc}):
    p, r = acc[(labels, "pretrained")], acc[(labels, "random")]
    def fmt(v):
        return f"{statistics.mean(v):.2f}" + (f" ± {statistics.stdev(v):.2f}" if len(v) > 1 else "")
    gains = [a - b for a, b in zip(p, r)]
    print(f"| {labels} | {len(p)} | {fmt(p)} | {fmt(r)} | {fmt(gains)} |")
PY
