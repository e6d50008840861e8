#!/usr/bin/env bash
# `make demo`: the two demos of the SToG report on breast cancer, on CPU, into results/.
#   Fig. 2, feature selection: every gate kind at the input, a dense lambda grid, 10 seeds.
#   Fig. 3, channel reduction: gates at the input and after each hidden layer, cost-aware penalty.
#   Conditional computation: static hidden gates against input-dependent ones, by executed cost.
# Every run is one of the 10 reference splits of data/splits_breast_cancer.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
STOG=./target/release/stog
OUT=${STOG_RESULTS:-results}
mkdir -p "$OUT"
COMMON=(--data data/breast_cancer.csv --splits data/splits_breast_cancer.csv --seeds 10
        --epochs 300 --patience 50 --device cpu)

echo "== Fig. 2: feature selection (6 gate kinds x 18 lambdas x 10 seeds)"
$STOG sweep "${COMMON[@]}" --placement input \
  --gates stg,ste,gumbel,correlated,hard-concrete,l1 \
  --lambdas 0,0.001,0.002,0.003,0.005,0.0075,0.01,0.015,0.02,0.03,0.04,0.05,0.07,0.1,0.15,0.2,0.3,0.5 \
  --out-dir "$OUT/feature_selection"

echo
echo "== Fig. 3: channel reduction (4 gate kinds x 9 lambdas x 10 seeds, cost-aware penalty)"
$STOG sweep "${COMMON[@]}" --placement all --cost-aware \
  --gates stg,ste,gumbel,hard-concrete \
  --lambdas 0,0.001,0.002,0.003,0.005,0.0075,0.01,0.02,0.05 \
  --out-dir "$OUT/channel_reduction"
./scripts/channel_table.py "$OUT/channel_reduction/summary.json"

echo
echo "== Conditional computation: static hidden gates against input-dependent ones, 10 seeds"
GRID=0,0.001,0.002,0.003,0.005,0.01,0.02,0.05
$STOG sweep "${COMMON[@]}" --placement hidden --cost-aware --gates stg,gumbel --lambdas "$GRID" \
  --quiet --out-dir "$OUT/mlp_static" > /dev/null
$STOG sweep "${COMMON[@]}" --placement dynamic --bottleneck 4 --cost-aware --gates gumbel \
  --lambdas "$GRID" --quiet --out-dir "$OUT/mlp_dynamic" > /dev/null
./target/release/examples/static_vs_dynamic "$OUT/static_vs_dynamic.svg" \
  "$OUT/mlp_static" "$OUT/mlp_dynamic"

echo
echo "Figures: $OUT/feature_selection/{lambda_panels,frontier}.svg"
echo "         $OUT/channel_reduction/{lambda_panels,units_per_layer,accuracy_vs_macs}.svg"
echo "         $OUT/static_vs_dynamic.svg"
