#!/usr/bin/env bash
# `make bench` part `pruning`: accuracy against the measured forward time of pruned models.
# On split 0 of data/digits.csv, trains the CNN of examples/digits_cnn and the ResNet-18 of
# examples/resnet once each in PyTorch, then prunes each trained model at every lambda of its list
# with its own `stog script --lambda L` run from the same trained model (STE gates through the
# model's gate protocol, the backbone fine-tuned with the gates and refit under them, as the two
# examples do), then loads the unpruned model and every pruned.pt in one PyTorch process per model
# and measures them (scripts/bench_pruning.py: test accuracy, channels kept, parameters,
# multiply-adds, forward ms of a batch of 256 rows on one thread, models timed in turn), and plots
# accuracy against forward time (scripts/plot_pruning.py; installs matplotlib into the venv when
# missing). Writes results/bench-pruning/{digits_cnn,resnet}/, pruning.csv, README.md and
# pruning.svg. Run from the repository root after `make build`.
#   PRUNING_OUT             output folder (default results/bench-pruning)
#   PRUNING_MODELS          which models (default "digits_cnn resnet")
#   PRUNING_CNN_LAMBDAS     the CNN's lambdas (default "0.005 0.01 0.02 0.03 0.04")
#   PRUNING_RESNET_LAMBDAS  the ResNet's lambdas (default "0.002 0.005 0.01 0.02 0.05")
#   PRUNING_THREADS         threads of stog script (default 1; the training scripts use 2)
#   PRUNING_REPEATS         timed rounds (default 200 for the CNN, 50 for the ResNet)
#   PRUNING_TIME_ONLY=1     only measure and plot again the models of an earlier run (the
#                           forward times move with the machine's load)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${PRUNING_OUT:-results/bench-pruning}
PY=$(cat .cargo/python-path)
THREADS=${PRUNING_THREADS:-1}
for module in torchvision matplotlib; do
  if ! "$PY" -c "import $module" 2>/dev/null; then
    TORCH=$("$PY" -c "import torch; print(torch.__version__.split('+')[0])")
    echo "bench-pruning: installing $module into the venv (torch $TORCH kept)"
    "$PY" -m pip install --quiet "$module" "torch==$TORCH"
  fi
done
if [ -z "${PRUNING_TIME_ONLY:-}" ]; then rm -rf "$OUT"; fi
mkdir -p "$OUT"; rm -f "$OUT/pruning.csv"
for model in ${PRUNING_MODELS:-digits_cnn resnet}; do
  dir="$OUT/$model"
  case $model in
    digits_cnn)
      train=(examples/digits_cnn/train_cnn.py "$dir" 0); trained=cnn.pt; repeats=200
      lambdas=${PRUNING_CNN_LAMBDAS:-0.005 0.01 0.02 0.03 0.04}
      args=(--gate-lr 0.3 --epochs 40 --warmup-epochs 10 --backbone-lr 1e-3 --refit-epochs 20) ;;
    resnet)
      train=(examples/resnet/train_resnet.py "$dir" 0 4); trained=resnet.pt; repeats=50
      lambdas=${PRUNING_RESNET_LAMBDAS:-0.002 0.005 0.01 0.02 0.05}
      args=(--epochs 6 --refit-epochs 4) ;;
    *) echo "unknown PRUNING_MODELS entry $model (digits_cnn, resnet)"; exit 2 ;;
  esac
  if [ -n "${PRUNING_TIME_ONLY:-}" ]; then
    [ -d "$dir" ] || { echo "no $dir: run without PRUNING_TIME_ONLY first"; exit 2; }
    lambdas=""
  else
    echo "== $model: training"
    mkdir -p "$dir"
    "$PY" "${train[@]}"
    cp "$dir/$trained" "$dir/original.pt"
  fi
  for lambda in $lambdas; do
    echo "== $model: stog script --lambda $lambda"
    start=$(date +%s)
    ./target/release/stog script --model "$dir/original.pt" --data data/digits.csv \
      --splits "$dir/split.csv" --split-seed 0 --seed 0 --input-shape 1,8,8 --placement inside \
      --gate ste --lambda "$lambda" --batch-size 64 --train-backbone "${args[@]}" \
      --threads "$THREADS" --write-test-rows --quiet --out-dir "$dir/lambda_$lambda" \
      > "$dir/lambda_$lambda.log" 2>&1
    echo "   $(( $(date +%s) - start )) s"
  done
  echo "== $model: timing"
  "$PY" scripts/bench_pruning.py "$dir" "$model" "$OUT/pruning.csv" "${PRUNING_REPEATS:-$repeats}"
done
"$PY" scripts/plot_pruning.py "$OUT/pruning.csv" "$OUT/pruning.svg" | tee "$OUT/README.md"
