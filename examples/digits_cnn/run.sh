#!/usr/bin/env bash
# Channel reduction of a PyTorch CNN through TorchScript, on data/digits.csv: trains the CNN in
# PyTorch (train_cnn.py), lets stog gate its channels through the model's gate protocol with the
# backbone fine-tuned, over a lambda grid, and checks every pruned.pt in PyTorch (check_pruned.py).
# Run from the repository root after `make build`: examples/digits_cnn/run.sh [OUT_DIR]
set -euo pipefail
OUT=${1:-results/digits_cnn}
PY=$(cat .cargo/python-path)
mkdir -p "$OUT"
"$PY" examples/digits_cnn/train_cnn.py "$OUT"
echo "| lambda | test accuracy % | kept channels | multiply-adds per image | max abs diff | dropped columns zero |"
echo "|---|---|---|---|---|---|"
for LAMBDA in ${LAMBDAS:-0 0.001 0.003 0.01 0.03}; do
  ./target/release/stog script --model "$OUT/cnn.pt" --data data/digits.csv --input-shape 1,8,8 \
    --placement inside --gate stg --lambda "$LAMBDA" --epochs 60 --warmup-epochs 10 \
    --batch-size 64 --train-backbone --backbone-lr 1e-3 --gate-lr 0.05 \
    --out-dir "$OUT/lambda_$LAMBDA" > /dev/null 2>&1
  "$PY" examples/digits_cnn/check_pruned.py "$OUT/lambda_$LAMBDA"
done
