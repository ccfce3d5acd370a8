#!/usr/bin/env bash
# The layout comparison of docs/results.md: RotNet with three blocks (the last one feeds the
# rotation classifier) or four (a cheap extra block at 3x3 takes the pretext specialisation),
# at equal budget on the bundled sample, evaluated on full Fashion-MNIST with global pooling.
#
#   apt-get install dataset-fashion-mnist
#   scripts/layout.sh            # about 35 minutes on 2 cores; RUNS=runs/layout
#
# Finished runs and evaluations in $RUNS are reused; delete them to measure again.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/layout}
# BIN runs a binary built before (a long run keeps its binary while the tree changes).
[ -n "${BIN:-}" ] || cargo build --release --workspace --quiet
BIN=${BIN:-target/release/selfsup}

for widths in "[32,64,128]" "[32,64,128,128]"; do
    blocks=$(echo "$widths" | tr -cd , | wc -c); blocks=$((blocks + 1))
    run="$RUNS/$blocks-blocks"
    if [ ! -f "$run/checkpoints/last/state.json" ]; then
        $BIN train rotation --data sample:train --out "$run" --set "backbone.widths=$widths" \
            --set train.epochs=3 --set train.batch_size=32 > "$run.log" 2>&1
    fi
    if [ ! -f "$run/eval.txt" ]; then
        $BIN eval knn linear few --checkpoint "$run" --data fashion-mnist --all-blocks > "$run/eval.tmp"
        mv "$run/eval.tmp" "$run/eval.txt"
    fi
done
# The first three blocks of both layouts start from the same weights (same seed, same order).
if [ ! -f "$RUNS/random.txt" ]; then
    $BIN eval knn linear few --checkpoint "$RUNS/4-blocks" --data fashion-mnist --all-blocks \
        --random-init > "$RUNS/random.tmp"
    mv "$RUNS/random.tmp" "$RUNS/random.txt"
fi

awk '
    match($0, /block [0-9]+/) {
        block = substr($0, RSTART + 6, RLENGTH - 6)
        src = FILENAME; sub(/.*\//, "", src); sub(/\.txt$/, "", src)
        if (src == "eval") { src = FILENAME; sub(/\/eval\.txt$/, "", src); sub(/.*\//, "", src) }
        proto = ($1 == "k-NN") ? "knn" : ($0 ~ /labels per class/) ? "few" : "lin"
        acc[src, block, proto] = $3
        if (block > max) max = block
    }
    END {
        print "| block | k-NN: 3 blocks / 4 blocks / random | linear: 3 / 4 / random | 100 labels/class: 3 / 4 / random |"
        print "|---|---|---|---|"
        split("knn lin few", protos, " ")
        for (b = 1; b <= max; b++) {
            printf "| %d", b
            for (j = 1; j <= 3; j++) {
                p = protos[j]; three = acc["3-blocks", b, p]; if (three == "") three = "-"
                printf " | %s / %s / %s", three, acc["4-blocks", b, p], acc["random", b, p]
            }
            print " |"
        }
    }' "$RUNS/3-blocks/eval.txt" "$RUNS/4-blocks/eval.txt" "$RUNS/random.txt"
