#!/usr/bin/env bash
# `make bench-wide`: the wide benchmark of issue 16. n = 1000 rows, D features of which x0..x4
# set a nonlinear label (scripts/make_wide.py), written as .npy; `stog select` at its defaults on
# CPU under `/usr/bin/time -v`: wall time, peak RSS, the features kept. Writes
# results/bench-wide/{wide_D.npy, run_D/, time_D.txt, README.md}.
#   BENCH_WIDE_DIMS     feature counts (default "1000 10000 100000")
#   BENCH_WIDE_TIMEOUT  seconds before a run is stopped (default 600)
#   BENCH_DEVICE        device of the fits (default cpu; cuda where a GPU is lent)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/bench-wide
mkdir -p "$OUT"
PY=$(cat .cargo/python-path)
N=1000
TIMEOUT=${BENCH_WIDE_TIMEOUT:-600}
TABLE="$OUT/README.md"
{
  echo "# Wide benchmark: n = $N, nonlinear label on x0..x4, stog select defaults, ${BENCH_DEVICE:-cpu} ($(nproc) cores)"
  echo
  echo "| D | status | wall (s) | peak RSS (MB) | selected | of x0..x4 |"
  echo "|---|---|---|---|---|---|"
} > "$TABLE"
for D in ${BENCH_WIDE_DIMS:-1000 10000 100000}; do
  DATA="$OUT/wide_$D.npy"
  [ -f "$DATA" ] || "$PY" scripts/make_wide.py "$DATA" "$N" "$D"
  RUN="$OUT/run_$D"
  rm -rf "$RUN"
  echo "== D = $D"
  STATUS=0
  /usr/bin/time -v timeout "$TIMEOUT" ./target/release/stog select --data "$DATA" --target label \
    --device "${BENCH_DEVICE:-cpu}" --quiet --out-dir "$RUN" 2> "$OUT/time_$D.txt" || STATUS=$?
  "$PY" - "$OUT/time_$D.txt" "$RUN/result.json" "$D" "$STATUS" "$TIMEOUT" >> "$TABLE" <<'PY'
import json, os, re, sys
time_txt, result, d, status, timeout = sys.argv[1:]
text = open(time_txt).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1).strip()
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
state = {"0": "ok", "124": f"stopped at {timeout} s"}.get(status, f"exit {status}")
selected, hits = "-", "-"
if status == "0" and os.path.exists(result):
    names = json.load(open(result))["selected"]
    selected = str(len(names))
    hits = str(sum(f"x{j}" in names for j in range(5)))
print(f"| {d} | {state} | {seconds:.1f} | {rss_mb:.0f} | {selected} | {hits} |")
PY
  tail -n 1 "$TABLE"
done
cat "$TABLE"
