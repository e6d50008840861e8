#!/usr/bin/env bash
# `make bench-tall`: the tall benchmark of issue 16. n = 1,000,000 rows, D = 100 float32
# features of which x0..x4 set a nonlinear label, written as Parquet by examples/make_tall.rs;
# `stog select` under `/usr/bin/time -v` (wall time, peak RSS) three ways:
#   pass   one lambda, 5 epochs that each pass over every training row (--epoch-rows all,
#          mini-batches of 1024): seconds per full pass over 600,000 rows
#   fixed  one lambda, 100 epochs of the default 65,536 rows: what a fit at a known lambda keeps
#   auto   the defaults (automatic lambda), stopped after BENCH_TALL_TIMEOUT seconds
# Seconds per epoch are stog's own figure (result.json `training`). Writes
# results/bench-tall/{tall_N_D.parquet, run_*, time_*.txt, README.md}.
#   BENCH_TALL_ROWS     rows (default 1000000)
#   BENCH_TALL_DIMS     features (default 100)
#   BENCH_TALL_LAMBDA   lambda of the pass and fixed runs (default 0.05)
#   BENCH_TALL_RUNS     which runs (default "pass fixed auto")
#   BENCH_TALL_TIMEOUT  seconds before the auto run is stopped (default 1800)
#   BENCH_DEVICE        device of the fit (default cpu; cuda where a GPU is lent)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/bench-tall
mkdir -p "$OUT"
PY=$(cat .cargo/python-path)
N=${BENCH_TALL_ROWS:-1000000}
D=${BENCH_TALL_DIMS:-100}
LAMBDA=${BENCH_TALL_LAMBDA:-0.05}
DEVICE=${BENCH_DEVICE:-cpu}
DATA="$OUT/tall_${N}_$D.parquet"
[ -f "$DATA" ] || ./target/release/examples/make_tall "$DATA" "$N" "$D"
TABLE="$OUT/README.md"
{
  echo "# Tall benchmark: n = $N, D = $D (Parquet, $(du -m "$DATA" | cut -f1) MB), nonlinear label on x0..x4"
  echo
  echo "stog select --device $DEVICE, $(nproc) cores; lambda $LAMBDA for pass and fixed"
  echo
  echo "| run | status | wall (s) | peak RSS (MB) | epochs | rows / epoch | s / epoch | selected | of x0..x4 | test accuracy |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$TABLE"
for RUNNAME in ${BENCH_TALL_RUNS:-pass fixed auto}; do
  case $RUNNAME in
    pass) ARGS=(--lambda "$LAMBDA" --epochs 5 --epoch-rows all --batch-size 1024 --hidden 64,32) ;;
    fixed) ARGS=(--lambda "$LAMBDA" --epochs 100 --hidden 64,32) ;;
    auto) ARGS=() ;;
    *) echo "unknown run $RUNNAME (pass, fixed, auto)" >&2; exit 2 ;;
  esac
  RUN="$OUT/run_$RUNNAME"
  rm -rf "$RUN"
  echo "== $RUNNAME: ${ARGS[*]}"
  STATUS=0
  /usr/bin/time -v timeout "${BENCH_TALL_TIMEOUT:-1800}" ./target/release/stog select \
    --data "$DATA" --target label "${ARGS[@]}" --device "$DEVICE" --quiet --out-dir "$RUN" \
    2> "$OUT/time_$RUNNAME.txt" || STATUS=$?
  "$PY" - "$OUT/time_$RUNNAME.txt" "$RUN/result.json" "$RUNNAME" "$STATUS" >> "$TABLE" <<'PY'
import json, os, re, sys
time_txt, result, run, status = sys.argv[1:]
text = open(time_txt).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1).strip()
seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
cells = ["-"] * 6
if status == "0" and os.path.exists(result):
    r = json.load(open(result))
    names = r["selected"]
    rows = json.load(open(os.path.join(os.path.dirname(result), "config.json")))["params"]["train"]["epoch_rows"]
    t = r.get("training")
    epoch_cells = [str(t["epochs"]), f"{t['seconds_per_epoch']:.2f}"] if t else [
        str(sum(p["epochs"] for p in r["path"])) + " (path)", "-"]
    cells = [epoch_cells[0], "all" if rows is None else f"{rows:,}", epoch_cells[1], str(len(names)),
             str(sum(f"x{j}" in names for j in range(5))), f"{r['metrics']['test']['accuracy']:.4f}"]
state = {"0": "ok", "124": "stopped"}.get(status, f"exit {status}")
print(f"| {run} | {state} | {seconds:.1f} | {rss_mb:.0f} | " + " | ".join(cells) + " |")
PY
  tail -n 1 "$TABLE"
done
cat "$TABLE"
