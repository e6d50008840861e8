#!/usr/bin/env bash
# `make bench`: stog against the Python libraries on the Fig. 2 sweep of the SToG report, in one
# run on this machine, both at their default threading; writes bench/results/{*.json,README.md}.
#   BENCH_METHODS  Python methods (default stog,stg,lassonet,sklearn; `stog` is SToG 0.1.0)
#   BENCH_QUICK=1  2 seeds and fewer epochs: a smoke test of the whole pipeline
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/results
mkdir -p "$OUT"
PY=$(cat .cargo/python-path)
bench/install_baselines.sh
SEEDS=10; QUICK=(); EPOCHS=300
if [ "${BENCH_QUICK:-0}" = 1 ]; then SEEDS=2; QUICK=(--quick); EPOCHS=120; fi
LAMBDAS=0,0.001,0.005,0.01,0.05,0.1,0.5

echo "== Python libraries (torch default threading)"
"$PY" bench/python_baselines.py --out "$OUT/python.json" --threads 0 --seeds "$SEEDS" "${QUICK[@]}" \
  --methods "${BENCH_METHODS:-stog,stg,lassonet,sklearn}"

echo "== stog: the same Fig. 2 sweep (5 gate kinds x 7 lambdas x $SEEDS seeds), default threading"
./target/release/stog sweep --data data/breast_cancer.csv --splits data/splits_breast_cancer.csv \
  --gates stg,ste,gumbel,correlated,l1 --lambdas "$LAMBDAS" --seeds "$SEEDS" --epochs "$EPOCHS" \
  --patience 50 --device cpu --quiet --out-dir "$OUT/stog_fig2"

echo "== stog: one process, one thread (time per member-epoch)"
./target/release/stog sweep --data data/breast_cancer.csv --splits data/splits_breast_cancer.csv \
  --gates stg --lambdas "$LAMBDAS" --seeds 2 --epochs "$EPOCHS" --patience 50 --device cpu \
  --jobs 1 --threads 1 --quiet --out-dir "$OUT/stog_one_thread" > /dev/null

"$PY" scripts/bench_table.py "$OUT" | tee "$OUT/README.md"
