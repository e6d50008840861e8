#!/usr/bin/env bash
# Channel reduction of a PyTorch CNN through TorchScript, on data/digits.csv: trains the CNN in
# PyTorch (train_cnn.py), lets stog gate its channels through the model's gate protocol with the
# backbone fine-tuned, along a warm-started lambda path, and checks every pruned.pt in PyTorch
# (check_pruned.py).
# Run from the repository root after `make build`: examples/digits_cnn/run.sh [OUT_DIR]
#   GATE (default ste), LAMBDAS (comma-separated), GATE_LR (default 0.3)
set -euo pipefail
OUT=${1:-results/digits_cnn}
PY=$(cat .cargo/python-path)
rm -rf "$OUT/path"; mkdir -p "$OUT"
"$PY" examples/digits_cnn/train_cnn.py "$OUT"
./target/release/stog script --model "$OUT/cnn.pt" --data data/digits.csv --input-shape 1,8,8 \
  --placement inside --gate "${GATE:-ste}" --lambdas "${LAMBDAS:-0,0.01,0.02,0.04,0.07,0.1,0.15}" \
  --epochs "${EPOCHS:-60}" --warmup-epochs 10 --batch-size 64 --train-backbone --backbone-lr 1e-3 \
  --gate-lr "${GATE_LR:-0.3}" --write-test-rows --out-dir "$OUT/path" > "$OUT/path.log" 2>&1
echo "| lambda | test accuracy % | kept channels | multiply-adds per image | max abs diff | dropped columns zero |"
echo "|---|---|---|---|---|---|"
for dir in $(ls -d "$OUT"/path/lambda_* | sort -t_ -k2 -g); do
  "$PY" examples/digits_cnn/check_pruned.py "$dir"
done
