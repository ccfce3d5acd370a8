#!/usr/bin/env bash
# Reproduces the table of docs/results.md: RotNet pretraining on Fashion-MNIST, then frozen
# features of the pretrained and of a randomly initialised backbone compared by k-NN, linear
# probes on globally pooled and grid-pooled features, and a probe on 100 labels per class.
#
#   apt-get install dataset-fashion-mnist
#   scripts/results.sh        # IMAGES=60000 EPOCHS=2 WIDTHS=[32,64,128,128] RUN=runs/rotnet-fmnist
#
# Prints a markdown table; the pretraining log, timing and raw evaluation output go to $RUN/.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-60000}
EPOCHS=${EPOCHS:-2}
WIDTHS=${WIDTHS:-[32,64,128,128]}
RUN=${RUN:-runs/rotnet-fmnist}
cargo build --release --quiet
BIN=target/release/selfsup

mkdir -p "$(dirname "$RUN")"
if [ ! -f "$RUN/checkpoints/last/state.json" ]; then
    start=$(date +%s)
    $BIN train rotation --data fashion-mnist --out "$RUN" \
        --set train.max_images="$IMAGES" --set train.epochs="$EPOCHS" \
        --set "backbone.widths=$WIDTHS" \
        --set train.batch_size=64 --set train.val_fraction=0.05 2>&1 | tee "$RUN.log"
    echo "pretraining wall time: $(( $(date +%s) - start )) s" | tee "$RUN/pretrain_time.txt"
fi

for init in pretrained random; do
    flag=""; [ "$init" = random ] && flag="--random-init"
    # One pass over the images per backbone: every block, both poolings, three protocols.
    $BIN eval knn linear few --checkpoint "$RUN" --data fashion-mnist $flag \
        --all-blocks --pooling global,grid --dims 2048 > "$RUN/eval-$init.txt"
done

# Side by side: RotNet / random init for each protocol.
awk '
    match($0, /block [0-9]+ [a-z]+/) {
        init = ($0 ~ /random init/) ? "r" : "p"
        split(substr($0, RSTART, RLENGTH), v, " "); key = v[2] " | " v[3]
        match($0, /[0-9]+ dims/); dims[key] = substr($0, RSTART, RLENGTH - 5)
        proto = ($1 == "k-NN") ? "knn" : ($0 ~ /labels per class/) ? "few" : "lin"
        acc[key, proto, init] = $3
        if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    }
    END {
        print "| block | pooling | dims | k-NN (k=20): RotNet / random | linear probe: RotNet / random | 100 labels/class: RotNet / random |"
        print "|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            k = order[i]; printf "| %s | %s", k, dims[k]
            split("knn lin few", protos, " ")
            for (j = 1; j <= 3; j++) printf " | %s / %s", acc[k, protos[j], "p"], acc[k, protos[j], "r"]
            print " |"
        }
    }' "$RUN/eval-pretrained.txt" "$RUN/eval-random.txt"
