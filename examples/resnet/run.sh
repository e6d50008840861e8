#!/usr/bin/env bash
# torchvision's ResNet-18 pruned by stog. Installs torchvision for the venv's torch if missing;
# trains the network in PyTorch on the 8x8 digits of data/digits.csv, upsampled to 32x32 inside
# the model (train_resnet.py: GATES=inner, one gate per basic block between its two convs;
# GATES=stream, one gate per stage on the residual stream; GATES=both); runs `stog
# script --placement inside` with STE gates, the backbone fine-tuned and then refit under the
# gates; writes OUT/original.pt and OUT/pruned.pt (TorchScript, loadable in PyTorch without stog)
# and OUT/test.csv (the test rows as the models take them, flattened, with a `target` column);
# and prints the comparison of compare.py (accuracy, parameters, multiply-adds, forward time on
# one CPU thread at batch 256, and on the GPU when there is one). Run from the repository root
# after `make build`:
#   examples/resnet/run.sh [OUT]      (GATES=inner, LAMBDA=0.02, EPOCHS=4, STOG_EPOCHS=6,
#                                      REFIT_EPOCHS=4)
set -euo pipefail
OUT=${1:-results/resnet}
PY=$(cat .cargo/python-path)
if ! "$PY" -c "import torchvision" 2>/dev/null; then
  TORCH=$("$PY" -c "import torch; print(torch.__version__.split('+')[0])")
  echo "resnet: installing torchvision for torch $TORCH"
  "$PY" -m pip install --quiet torchvision "torch==$TORCH"
fi
rm -rf "$OUT"; mkdir -p "$OUT"
"$PY" examples/resnet/train_resnet.py "$OUT" 0 "${EPOCHS:-4}" "${GATES:-inner}"
./target/release/stog script --model "$OUT/resnet.pt" --data data/digits.csv \
  --splits "$OUT/split.csv" --split-seed 0 --seed 0 --input-shape 1,8,8 --placement inside \
  --gate ste --lambda "${LAMBDA:-0.02}" --epochs "${STOG_EPOCHS:-6}" --batch-size 64 \
  --train-backbone --refit-epochs "${REFIT_EPOCHS:-4}" --write-test-rows --out-dir "$OUT/stog"
cp "$OUT/resnet.pt" "$OUT/original.pt"
cp "$OUT/stog/pruned.pt" "$OUT/pruned.pt"
"$PY" examples/resnet/test_rows.py "$OUT"
"$PY" examples/resnet/compare.py "$OUT" 2> "$OUT/compare.log" | tee "$OUT/README.md"
