#!/usr/bin/env bash
# Channel reduction of a PyTorch CNN through TorchScript, on data/digits.csv, over SPLITS splits.
# For each split: trains the CNN in PyTorch (train_cnn.py: 16 + 32 + 64 conv channels); lets stog
# gate its channels along a warm-started lambda path, with the backbone fine-tuned and then refit
# under each lambda's gates: STE gates through the model's gate protocol (cnn.pt), STG gates
# between its stage methods (cnn_stages.pt); checks every pruned.pt in PyTorch (check_pruned.py)
# and prints the table of summarize.py. Run from the repository root after `make build`:
#   examples/digits_cnn/run.sh [OUT_DIR]        (SPLITS=3, EPOCHS=40, REFIT_EPOCHS=20)
set -euo pipefail
OUT=${1:-results/digits_cnn}
PY=$(cat .cargo/python-path)
rm -rf "$OUT"; mkdir -p "$OUT"
# model, gate, gate learning rate, lambdas
RUNS=("cnn ste 0.3 0,0.01,0.02,0.04,0.07" "cnn_stages stg 0.1 0,0.05,0.1,0.2,0.3")
for ((seed = 0; seed < ${SPLITS:-3}; seed++)); do
  dir="$OUT/split_$seed"; mkdir -p "$dir"
  "$PY" examples/digits_cnn/train_cnn.py "$dir" "$seed"
  for run in "${RUNS[@]}"; do
    read -r model gate lr lambdas <<< "$run"
    ./target/release/stog script --model "$dir/$model.pt" --data data/digits.csv \
      --splits "$dir/split.csv" --split-seed "$seed" --seed "$seed" --input-shape 1,8,8 \
      --placement inside --gate "$gate" --gate-lr "$lr" --lambdas "$lambdas" \
      --epochs "${EPOCHS:-40}" --warmup-epochs 10 --batch-size 64 --train-backbone \
      --backbone-lr 1e-3 --refit-epochs "${REFIT_EPOCHS:-20}" --write-test-rows \
      --out-dir "$dir/$model" > "$dir/$model.log" 2>&1
    for point in $(ls -d "$dir/$model"/lambda_* | sort -t_ -k2 -g); do
      "$PY" examples/digits_cnn/check_pruned.py "$point" "$OUT/checks.csv" "$model $gate" \
        "$dir/$model.pt"
    done
  done
done
"$PY" examples/digits_cnn/summarize.py "$OUT" | tee "$OUT/README.md"
