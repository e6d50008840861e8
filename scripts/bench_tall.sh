#!/usr/bin/env bash
# `make bench-tall`: the tall benchmark of issue 16. n = 1,000,000 rows, D = 100 float32
# features of which x0..x4 set a nonlinear label, written as Parquet by examples/make_tall.rs;
# `stog select` at one lambda with mini-batches for a fixed number of epochs, under
# `/usr/bin/time -v`: wall time, peak RSS, seconds per epoch (stog's own figure in result.json),
# the features kept and the test accuracy. Writes results/bench-tall/{tall_N_D.parquet, run_*,
# time_*.txt, README.md}.
#   BENCH_TALL_ROWS     rows (default 1000000)
#   BENCH_TALL_DIMS     features (default 100)
#   BENCH_TALL_EPOCHS   epochs of the fit (default 10)
#   BENCH_TALL_LAMBDA   lambda of the fit (default 0.05)
#   BENCH_TALL_BATCHES  mini-batch sizes, one run each (default "1024 8192")
#   BENCH_DEVICE        device of the fit (default cpu; cuda where a GPU is lent)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/bench-tall
mkdir -p "$OUT"
PY=$(cat .cargo/python-path)
N=${BENCH_TALL_ROWS:-1000000}
D=${BENCH_TALL_DIMS:-100}
EPOCHS=${BENCH_TALL_EPOCHS:-10}
LAMBDA=${BENCH_TALL_LAMBDA:-0.05}
DEVICE=${BENCH_DEVICE:-cpu}
DATA="$OUT/tall_${N}_$D.parquet"
[ -f "$DATA" ] || ./target/release/examples/make_tall "$DATA" "$N" "$D"
TABLE="$OUT/README.md"
{
  echo "# Tall benchmark: n = $N, D = $D (Parquet, $(du -m "$DATA" | cut -f1) MB), nonlinear label on x0..x4"
  echo
  echo "stog select --lambda $LAMBDA --epochs $EPOCHS --hidden 64,32 --device $DEVICE ($(nproc) cores)"
  echo
  echo "| batch | status | wall (s) | peak RSS (MB) | epochs | s / epoch | selected | of x0..x4 | test accuracy |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$TABLE"
for BATCH in ${BENCH_TALL_BATCHES:-1024 8192}; do
  RUN="$OUT/run_$BATCH"
  rm -rf "$RUN"
  echo "== batch $BATCH"
  STATUS=0
  /usr/bin/time -v ./target/release/stog select --data "$DATA" --target label \
    --lambda "$LAMBDA" --epochs "$EPOCHS" --hidden 64,32 --batch-size "$BATCH" \
    --device "$DEVICE" --quiet --out-dir "$RUN" 2> "$OUT/time_$BATCH.txt" || STATUS=$?
  "$PY" - "$OUT/time_$BATCH.txt" "$RUN/result.json" "$BATCH" "$STATUS" >> "$TABLE" <<'PY'
import json, os, re, sys
time_txt, result, batch, status = sys.argv[1:]
text = open(time_txt).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1).strip()
seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
cells = ["-"] * 5
if status == "0" and os.path.exists(result):
    r = json.load(open(result))
    names = r["selected"]
    t = r["training"]
    cells = [str(t["epochs"]), f"{t['seconds_per_epoch']:.1f}", str(len(names)),
             str(sum(f"x{j}" in names for j in range(5))), f"{r['metrics']['test']['accuracy']:.4f}"]
state = "ok" if status == "0" else f"exit {status}"
print(f"| {batch} | {state} | {seconds:.1f} | {rss_mb:.0f} | " + " | ".join(cells) + " |")
PY
  tail -n 1 "$TABLE"
done
cat "$TABLE"
