#!/usr/bin/env bash
# Reproduces RESULTS.md's transfer study: does pre-training on a large unlabelled corpus pay on NW-UCLA?
# Pre-trains the cpu-base SkeletonMAE on NW-UCLA's training split, on the unlabelled corpus
# (../shared/data/corpus: MSRC-12, Kinder-Gator, Bandai-Namco, GTU) and on both; probes each frozen
# encoder (k-NN and a linear probe on one view); fine-tunes on NW-UCLA (views 1+2 train, view 3 tests)
# with 10 % of the labels over five label subsets and with all labels over three seeds, scratch beside each.
# Time on a 2-core CPU, one thread a run, two runs at a time: a 64-wide pre-training of 8 corpus epochs (128 wide: 1.5x)
# about 55 min (40 NW-UCLA epochs: 18 min); a probe 2 min; a 10 %-label fine-tuning (100 epochs) 4 min;
# an all-labels fine-tuning (100 epochs) 35 min. Runs resume where they stopped; finished runs are skipped.
# Then `python scripts/transfer_table.py NAME ...` prints the table (and --png its figure).
#
# Usage: scripts/transfer_study.sh STAGE [NAME ...]
#   STAGE  prepare | pretrain | probe (k-NN, linear, reconstruction) | fewlabel | alllabel
#   NAME   pre-trainings below (default: all); the fine-tuning stages also take "scratch" and
#          "scratch-128-wide" (a name ending in 128-wide fine-tunes a 128-wide encoder)
#   SEEDS="1 2 3 4 5" (fewlabel) / "1 2 3" (alllabel) pick label subsets / seeds; OUT=runs/transfer
set -euo pipefail
set -f  # the --set values hold [ ] { }: no globbing
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-runs/transfer}
UCLA=data/prepared/nw-ucla
CORPUS=data/prepared/corpus-msrc12,data/prepared/corpus-kindergator,data/prepared/corpus-bandai,data/prepared/corpus-gtu
W128='--set model.stages=[{"channels":128,"qk_dim":32,"num_blocks":3}]'
declare -A PRETRAIN=(
  [nw-ucla]="--config configs/nw-ucla/pretrain-base.yaml --set training.epochs=40"
  [corpus]="--config configs/nw-ucla/pretrain-corpus.yaml --set data.root=[$CORPUS]"
  [corpus-nw-ucla]="--config configs/nw-ucla/pretrain-corpus.yaml"
  [corpus-nw-ucla-16-epochs]="--config configs/nw-ucla/pretrain-corpus.yaml --set training.epochs=16"
  [corpus-nw-ucla-128-wide]="--config configs/nw-ucla/pretrain-corpus.yaml $W128"
  # NW-UCLA drawn for a quarter of each epoch (6.6x its share by size), the corpus by size for the rest
  [corpus-nw-ucla-weighted]="--config configs/nw-ucla/pretrain-corpus.yaml --set data.root_weights=[10468,2904,6288,573,6744]"
)
FINETUNE="--config configs/nw-ucla/finetune-base.yaml --set training.epochs=100 --set training.progress_bar=false"

# shellcheck source=scripts/run_lib.sh
source "$(dirname "$0")/run_lib.sh"

initialisation() {  # the model of NAME: scratch (none) or its pre-training (layer decay 0.75), and its width
  local width=""; [[ $1 == *128-wide ]] && width=$W128
  if [[ $1 == scratch* ]]; then echo "--set finetune.pretrained=null $width"
  else echo "--set finetune.pretrained=$OUT/$1/best.pt --set finetune.layer_decay=0.75 $width"; fi
}

stage=${1:?usage: scripts/transfer_study.sh prepare|pretrain|probe|fewlabel|alllabel [NAME ...]}; shift
names=("$@"); [[ ${#names[@]} -gt 0 ]] || names=("${!PRETRAIN[@]}")
case $stage in
  prepare)
    for source in msrc12 kindergator bandai gtu; do
      [[ -d data/prepared/corpus-$source ]] || \
        skeletonmae prepare convert "$SHARED/corpus/$source.npz" "data/prepared/corpus-$source"
    done
    [[ -d $UCLA ]] || skeletonmae prepare nw-ucla --raw "$SHARED/nw_ucla/all_sqe" --out $UCLA ;;
  pretrain)
    for name in "${names[@]}"; do run pretrain "$OUT/$name" "${PRETRAIN[$name]} --set training.progress_bar=false"; done ;;
  probe)
    for name in "${names[@]}"; do
      [[ -f $OUT/$name/probe.json ]] || skeletonmae probe "$OUT/$name/best.pt" --data $UCLA --features encoder \
        --pool tuple --standardize --train-views 1 --out "$OUT/$name/probe.json"
      # reconstruction on NW-UCLA's test split beside interpolation: eval_test.json
      [[ -f $OUT/$name/eval_test.json ]] || skeletonmae evaluate --checkpoint "$OUT/$name/best.pt" --set data.root=$UCLA
    done ;;
  fewlabel)
    for seed in ${SEEDS:-1 2 3 4 5}; do
      for name in "${names[@]}"; do
        run finetune "$OUT/ft10-$name-s$seed" "$FINETUNE --label-fraction 0.1 --set data.label_seed=$seed \
          --set training.seed=$seed $(initialisation "$name")"
      done
    done ;;
  alllabel)
    for seed in ${SEEDS:-1 2 3}; do
      for name in "${names[@]}"; do
        run finetune "$OUT/ft100-$name-s$seed" "$FINETUNE --set training.seed=$seed $(initialisation "$name")"
      done
    done ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
