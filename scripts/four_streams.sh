#!/usr/bin/env bash
# Four-stream SkeletonMAE on NW-UCLA (views 1+2 train, view 3 tests): one cpu-base model per input
# stream (joint, bone, motion, bone motion), each pre-trained and fine-tuned on the same data, label
# subset and seed, then fused with `skeletonmae evaluate --ensemble`; the same four from scratch beside.
# Time on a 2-core CPU, one thread a run: a pre-training of configs/nw-ucla/pretrain-corpus.yaml about
# 55 min (pretrain-base.yaml, NW-UCLA only: 10 min); a fine-tuning with all labels (100 epochs) 35 min,
# with 10 % of the labels 4 min. Runs resume where they stopped; finished runs are skipped.
#
# Usage: scripts/four_streams.sh [SEED ...]        (default 1)
#   PRETRAIN=configs/nw-ucla/pretrain-corpus.yaml   the pre-training config (prepare its data first:
#                                                   scripts/transfer_study.sh prepare)
#   LABELS=1.0 (or 0.1)   fraction of the labels;   OUT=runs/streams
set -euo pipefail
set -f
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
PRETRAIN=${PRETRAIN:-configs/nw-ucla/pretrain-corpus.yaml}
LABELS=${LABELS:-1.0}
OUT=${OUT:-runs/streams}
STREAMS="joint bone motion bone_motion"
FINETUNE="--config configs/nw-ucla/finetune-base.yaml --set training.epochs=100 --set training.progress_bar=false"
# shellcheck source=scripts/run_lib.sh
source "$(dirname "$0")/run_lib.sh"

for stream in $STREAMS; do
  run pretrain "$OUT/pretrain-$stream" "--config $PRETRAIN --set data.transform.stream=$stream --set training.progress_bar=false"
done
for seed in "${@:-1}"; do
  for stream in $STREAMS; do
    common="$FINETUNE --label-fraction $LABELS --set data.label_seed=$seed --set training.seed=$seed --set data.transform.stream=$stream"
    run finetune "$OUT/ft-$stream-s$seed" "$common --set finetune.pretrained=$OUT/pretrain-$stream/best.pt --set finetune.layer_decay=0.75"
    run finetune "$OUT/scratch-$stream-s$seed" "$common --set finetune.pretrained=null"
  done
  for init in ft scratch; do
    skeletonmae evaluate --ensemble $(for s in $STREAMS; do echo "$OUT/$init-$s-s$seed/best.pt"; done) \
      --output-dir "$OUT/ensemble-$init-s$seed"
  done
done
