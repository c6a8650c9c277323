#!/usr/bin/env bash
# Issue 12 ablation on NW-UCLA (views 1+2 train, view 3 test): one change at a time from the
# paper's visible-token encoder, each pre-training probed (k-NN, MAMP linear probe) beside raw
# coordinates and a random encoder, then 10 %-label fine-tuning against scratch over 3 seeds.
# Prepare the data first:  skeletonmae prepare nw-ucla --raw ALL_SQE --out data/prepared/nw-ucla
# Two processes at a time on a 2-core CPU: run the pre-trainings in pairs (STAGE=pretrain ./...)
set -euo pipefail
export OMP_NUM_THREADS=1
DATA=data/prepared/nw-ucla
OUT=${OUT:-runs/exp}
BASE="--config configs/nw-ucla/pretrain-base.yaml --set training.progress_bar=false"
declare -A VARIANT=(
  [e0-visible]=""
  [e1-full-tuple]="--set mask.encoder_input=full --set mask.frame_unit=tuple"
  [e2-full-tuple-residual]="--set mask.encoder_input=full --set mask.frame_unit=tuple --set mask.target=interp_residual"
  [e3-visible-motion]="--set mask.target=motion"
)
stage=${STAGE:-all}
for name in "${!VARIANT[@]}"; do
  if [[ $stage == all || $stage == pretrain ]] && [[ ! -f $OUT/$name/best.pt ]]; then
    # shellcheck disable=SC2086
    skeletonmae pretrain $BASE ${VARIANT[$name]} --output-dir "$OUT/$name"
  fi
  if [[ $stage == all || $stage == probe ]]; then
    skeletonmae probe "$OUT/$name/best.pt" --data $DATA --features encoder raw --random-init \
      --out "$OUT/$name/probe.json"
  fi
done
if [[ $stage == all || $stage == finetune ]]; then
  for seed in 1 2 3; do
    for init in ${FINETUNE_FROM:-e0-visible e2-full-tuple-residual} scratch; do
      dir=$OUT/ft10-$init-s$seed
      [[ -f $dir/best.pt ]] && continue
      pretrained=$([[ $init == scratch ]] && echo null || echo "$OUT/$init/best.pt")
      skeletonmae finetune --config configs/nw-ucla/finetune-base.yaml --label-fraction 0.1 \
        --set finetune.pretrained="$pretrained" --set training.seed=$seed --set data.label_seed=$seed \
        --set training.progress_bar=false --output-dir "$dir"
    done
  done
fi
