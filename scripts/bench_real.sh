#!/usr/bin/env bash
# `make bench-real`: stog beside L1 logistic / Lasso (C or alpha chosen on the validation rows, and
# by 5-fold cross-validation over the training + validation rows then refitted on them), LassoNet
# and ExtraTrees on seven data sets of different shapes (bench/real/datasets.py says where each
# comes from); writes $BENCH_REAL_OUT/{data/,python/*.json,stog/,stog.json,README.md} (default
# results/bench-real).
#
#   BENCH_REAL_SETS=a,b     a subset of genes,madelon,mnist,friedman,diabetes,breast_cancer,
#                           imbalanced
#   BENCH_REAL_QUICK=1      the first split only, coarser Python grids (a smoke test)
#   BENCH_REAL_SPLITS=n     the first n splits of each set (default all: 5; 3 for madelon, mnist;
#                           20 for diabetes)
#   BENCH_REAL_BUDGETS=0    stog at its defaults only (no `--max-features K` runs)
#   STOG_ARGS="..."         appended to every `stog select` call (e.g. "--epochs 100")
#   BENCH_REAL_TAG=name     stog runs go to stog-name/ and stog-name.json, a row of their own in the
#                           table beside earlier stog runs (to compare settings)
#   BENCH_REAL_PYTHON=0     skip the Python baselines (reuse the python/*.json already there)
#   BENCH_REAL_STOG=0       skip the stog runs (tables from what is there)
#   BENCH_REAL_RESUME=1     keep a stog run whose result.json exists with the same arguments
#   BENCH_REAL_OUT=dir      output folder
#   STOG_BIN=path           the stog binary to run (default ./target/release/stog)
#   BENCH_REAL_LASSONET_TIMEOUT=s  CPU seconds one LassoNet path may take before its set is
#                           skipped (default 150)
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_REAL_OUT="${BENCH_REAL_OUT:-results/bench-real}"
OUT="$BENCH_REAL_OUT"
PY=$(cat .cargo/python-path)
STOG="${STOG_BIN:-./target/release/stog}"
TAG="${BENCH_REAL_TAG:-}"
SDIR="stog${TAG:+-$TAG}"
read -r -a EXTRA <<< "${STOG_ARGS:-}"

bench/install_baselines.sh
mkdir -p "$OUT"

echo "== data sets -> $OUT/data"
"$PY" bench/real/datasets.py --sets "${BENCH_REAL_SETS:-}"

if [ "${BENCH_REAL_PYTHON:-1}" != 0 ]; then
  echo "== Python baselines (L1 / Lasso on validation and by 5-fold CV, LassoNet, ExtraTrees)"
  "$PY" bench/real/baselines.py
fi

if [ "${BENCH_REAL_STOG:-1}" != 0 ]; then
  [ -x "$STOG" ] || { echo "bench_real: $STOG is missing; run make build" >&2; exit 1; }
  echo "== stog select (defaults, and --max-features K)${STOG_ARGS:+ with STOG_ARGS: $STOG_ARGS}"
  while read -r name task k seeds; do
    budgets=("" "$k")
    [ "${BENCH_REAL_BUDGETS:-1}" = 0 ] && budgets=("")
    for seed in $seeds; do
      for budget in "${budgets[@]}"; do
        dir="$OUT/$SDIR/$name/$seed${budget:+/k$budget}"
        args=(--data "$OUT/data/$name.csv" --splits "$OUT/data/${name}_splits.csv"
          --split-seed "$seed" --task "$task" --device cpu --quiet
          ${budget:+--max-features "$budget"} "${EXTRA[@]}")
        # Classification: the fitted model's class probabilities of every row of the set
        # (`stog predict`), from which stog_results.py scores the test rows' log-loss and AUC.
        predict() {
          [ "$task" = classification ] || return 0
          "$STOG" predict --model "$dir" --data "$OUT/data/$name.csv" \
            --out "$dir/predictions.csv" --device cpu 2> /dev/null ||
            echo "  $name seed $seed${budget:+ <=$budget}: stog predict FAILED"
        }
        if [ "${BENCH_REAL_RESUME:-0}" = 1 ] && [ -f "$dir/result.json" ] &&
          [ "$(cat "$dir/args.txt" 2>/dev/null)" = "${args[*]}" ]; then
          [ -f "$dir/predictions.csv" ] || predict
          echo "  $name seed $seed${budget:+ <=$budget}: kept ($dir)"
          continue
        fi
        # No stale result stays behind a failed run (the k<K> folder inside is left alone).
        rm -f "$dir"/{result.json,config.json,model.safetensors,selector.json,predictions.csv}
        rm -f "$dir"/{wall_seconds,cpu_seconds,time.txt}
        mkdir -p "$dir"
        # bash's `time`: wall, user and system seconds of the stog process (its stderr goes to
        # ours, the times to time.txt); CPU time does not grow when other jobs share the cores.
        TIMEFORMAT='%R %U %S'
        if ! { time "$STOG" select "${args[@]}" --out-dir "$dir" 2>&3; } 3>&2 2> "$dir/time.txt"; then
          echo "  $name seed $seed${budget:+ <=$budget}: stog select FAILED (left out of the table)"
          continue
        fi
        read -r wall user sys < "$dir/time.txt"
        echo "$wall" > "$dir/wall_seconds"
        awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f\n", u + s }' > "$dir/cpu_seconds"
        echo "${args[*]}" > "$dir/args.txt"
        predict
        echo "  $name seed $seed${budget:+ <=$budget}: ${wall} s ($(cat "$dir/cpu_seconds") s CPU)"
      done
    done
  done < <("$PY" bench/real/common.py)
  "$PY" bench/real/stog_results.py --dir "$SDIR"
fi

"$PY" bench/real/table.py
