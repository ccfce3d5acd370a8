#!/usr/bin/env bash
# One method's rows of the results table (docs/results.md): pretraining on the 60,000
# Fashion-MNIST training images at the shared budget, then every block of the frozen backbone,
# globally pooled, against the same architecture at random init: k-NN, linear probe, 100 labels
# per class, on the 10,000 test images.
#
#   apt-get install dataset-fashion-mnist
#   scripts/results.sh rotation            # or jigsaw, context_prediction, ...
#   EPOCHS=3 RUN=runs/x scripts/results.sh jigsaw
#   DATA="photos?crops=4000" SET='colorization.loss="l2"' scripts/results.sh colorization
#   scripts/results.sh supervised          # the supervised upper bound (below)
#
# BIN (optional) is a selfsup binary built before, used instead of building the tree: a run
# that spans sessions keeps the binary it started with while the code changes.
#
# DATA is what the method pretrains on (default: full Fashion-MNIST); SET holds more
# `--set KEY=VALUE` for the new run, one a line. The probes always read full Fashion-MNIST;
# NETWORK names the checkpoint's network they read (default: its first), whose evaluation and
# rows then go to files named after it.
#
# A run folder already holding a finished run is evaluated again without retraining; one holding
# an unfinished run is resumed.
#
# `supervised` is the upper bound every method's gain is read against: fine-tuning's recipe
# (`selfsup finetune`) on all the training labels from random init, with the architecture and
# input of CKPT (default: the RotNet run), for STEPS optimiser steps of 64 images, evaluated like
# the rest. STEPS fills the shared budget at the speed the recipe runs at alone here on that
# input: 35000 (the default) for 28 px at about 930 images/s with today's kernels; 1900 for
# jigsaw's 48 px and 1200 for context prediction's 64 px at the older kernels' speed
# (docs/results.md).
#
#   CKPT=runs/jigsaw-fmnist RUN=runs/supervised-jigsaw-fmnist STEPS=1900 scripts/results.sh supervised
#
# The pretraining log, wall time and raw evaluation output go to $RUN/; the table rows are
# printed and written to $RUN/rows.md.
set -euo pipefail
cd "$(dirname "$0")/.."
METHOD=${1:?usage: scripts/results.sh METHOD}
# The shared budget: about 40 minutes of pretraining on 2 cores (docs/results.md), as epochs at
# the speed each method's row was measured at (rotation, jigsaw and context prediction with the
# kernels of 2026-11-30, the others before them: docs/results.md says which).
case "$METHOD" in
    rotation) DEFAULT_EPOCHS=10 ;;
    jigsaw) DEFAULT_EPOCHS=15 ;;
    context_prediction) DEFAULT_EPOCHS=60 ;;
    deep_cluster) DEFAULT_EPOCHS=6 ;;
    colorization) DEFAULT_EPOCHS=6 ;;
    synthetic) DEFAULT_EPOCHS=2 ;;
    supervised) DEFAULT_EPOCHS=10 ;;
    *) DEFAULT_EPOCHS=1 ;;
esac
EPOCHS=${EPOCHS:-$DEFAULT_EPOCHS}
RUN=${RUN:-runs/$METHOD-fmnist}
DATA=${DATA:-fashion-mnist}
EXTRA=()
while IFS= read -r line; do
    [ -n "$line" ] && EXTRA+=(--set "$line")
done <<< "${SET:-}"
NETWORK=${NETWORK:-}
NAMED=(); [ -n "$NETWORK" ] && NAMED=(--network "$NETWORK")
TAG=${NETWORK:+$NETWORK-}
# BIN runs a binary built before (a long run keeps its binary while the tree changes).
[ -n "${BIN:-}" ] || cargo build --release --workspace --quiet
BIN=${BIN:-target/release/selfsup}

if [ "$METHOD" = supervised ]; then
    STEPS=${STEPS:-35000}
    new=("$BIN" finetune --checkpoint "${CKPT:-runs/rotation-fmnist}" --random-init --data "$DATA"
        --set finetune.steps="$STEPS")
    resume=("$BIN" finetune)
else
    new=("$BIN" train "$METHOD" --data "$DATA")
    resume=("$BIN" train "$METHOD")
fi

mkdir -p "$RUN"
done_epochs=$(python3 -c "import json,sys; print(json.load(open('$RUN/checkpoints/last/state.json'))['epoch'])" 2>/dev/null || echo 0)
if [ "$done_epochs" -lt "$EPOCHS" ]; then
    start=$(date +%s)
    if [ "$done_epochs" -eq 0 ]; then
        rm -rf "$RUN"/checkpoints
        "${new[@]}" --out "$RUN" "${EXTRA[@]}" \
            --set train.epochs="$EPOCHS" --set train.val_fraction=0.05 2>&1 | tee -a "$RUN/pretrain.log"
    else
        "${resume[@]}" --resume "$RUN" --set train.epochs="$EPOCHS" 2>&1 | tee -a "$RUN/pretrain.log"
    fi
    echo "pretraining wall time this session: $(( $(date +%s) - start )) s" | tee -a "$RUN/pretrain_time.txt"
fi

for init in pretrained random; do
    flag=""; [ "$init" = random ] && flag="--random-init"
    # One pass over the images per backbone: every block, three protocols.
    $BIN eval knn linear few --checkpoint "$RUN" "${NAMED[@]}" --data fashion-mnist $flag \
        --all-blocks > "$RUN/eval-$TAG$init.txt"
done

# Side by side: pretrained / random init for each protocol, one row per block.
python3 - "$RUN" "$METHOD" "$NETWORK" <<'PY' | tee "$RUN/rows$([ -n "$NETWORK" ] && echo "-$NETWORK").md"
import json, re, sys
run, method, network = sys.argv[1], sys.argv[2], sys.argv[3]
tag = f"{network}-" if network else ""
acc = {}
for init in ("pretrained", "random"):
    for line in open(f"{run}/eval-{tag}{init}.txt"):
        m = re.search(r"accuracy ([0-9.]+)%.*block (\d+) global", line)
        proto = "knn" if line.startswith("k-NN") else "few" if "labels per class" in line else "lin"
        acc[(int(m.group(2)), proto, init)] = float(m.group(1))
state = json.load(open(f"{run}/checkpoints/last/state.json"))
seconds = sum(r["seconds"] for r in state["history"])
pretext = state["history"][-1].get("val", {}).get("accuracy")
default = next(n for n in state["networks"] if network in ("", n["name"]))["block"] + 1
if network:
    method = f"{method} ({network})"
blocks = sorted({b for b, _, _ in acc})
for b in blocks:
    cells = " | ".join(f"{acc[(b, p, 'pretrained')]:.2f} / {acc[(b, p, 'random')]:.2f}" for p in ("knn", "lin", "few"))
    mark = " (rep.)" if b == default else ""
    first = b == blocks[0]
    budget = f"{state['epoch']} ep, {seconds / 60:.0f} min" if first else ""
    pre = f"{100 * pretext:.1f}%" if first and pretext is not None else ""
    print(f"| {method if first else ''} | {b}{mark} | {cells} | {pre} | {budget} |")
PY
