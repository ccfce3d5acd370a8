#!/usr/bin/env bash
# Reproduces the table of docs/results.md: RotNet pretraining on Fashion-MNIST, then frozen
# features of the pretrained and of a randomly initialised backbone compared by k-NN, linear
# probes on globally pooled and grid-pooled features, and a probe on 100 labels per class.
#
#   apt-get install dataset-fashion-mnist
#   scripts/results.sh                      # IMAGES=10000 EPOCHS=3 RUN=runs/rotnet-fmnist
#
# Prints markdown rows; the pretraining log and timing go to $RUN/.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-10000}
EPOCHS=${EPOCHS:-3}
RUN=${RUN:-runs/rotnet-fmnist}
cargo build --release --quiet
BIN=target/release/selfsup

mkdir -p "$(dirname "$RUN")"
if [ ! -f "$RUN/checkpoints/last/state.json" ]; then
    start=$(date +%s)
    $BIN train rotation --data fashion-mnist --out "$RUN" \
        --set train.max_images="$IMAGES" --set train.epochs="$EPOCHS" \
        --set train.batch_size=64 --set train.val_fraction=0.05 2>&1 | tee "$RUN.log"
    echo "pretraining wall time: $(( $(date +%s) - start )) s" | tee "$RUN/pretrain_time.txt"
fi

eval_row() { # init-flag block pooling
    $BIN eval knn linear few --checkpoint "$RUN" --data fashion-mnist $1 --block "$2" --pooling "$3" --dims 2048
}

echo "| backbone | block | pooling | dims | k-NN (k=20) | linear probe | probe, 100 labels/class |"
echo "|---|---|---|---|---|---|---|"
for init in pretrained random; do
    flag=""; [ "$init" = random ] && flag="--random-init"
    for block in 1 2 3; do
        for pooling in global grid; do
            out=$(eval_row "$flag" "$block" "$pooling")
            dims=$(echo "$out" | head -1 | sed -E 's/.*, ([0-9]+) dims.*/\1/')
            knn=$(echo "$out" | grep '^k-NN' | sed -E 's/.*accuracy ([0-9.]+%).*/\1/')
            lin=$(echo "$out" | grep '^linear-probe' | grep -v 'labels per class' | sed -E 's/.*accuracy ([0-9.]+%).*/\1/')
            few=$(echo "$out" | grep 'labels per class' | sed -E 's/.*accuracy ([0-9.]+%).*/\1/')
            echo "| $init | $block | $pooling | $dims | $knn | $lin | $few |"
        done
    done
done
