"""Prints the table of examples/digits_cnn/run.sh from its checks.csv: per lambda, the mean and
standard deviation over the splits of the test accuracy, kept conv channels, multiply-adds per
image, parameters and forward time of the pruned model (and of the unpruned one), and whether every
pruned.pt passed its check; plus the CNN as trained in PyTorch.
Usage: python summarize.py OUT_DIR
"""
import csv
import json
import os
import statistics
import sys

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "checks.csv"))))


def mean_sd(values, scale=1.0, digits=1):
    values = [scale * float(v) for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):,.{digits}f} +- {sd:,.{digits}f}"


trained = [json.load(open(p)) for p in sorted(
    os.path.join(out, d, "trained.json") for d in os.listdir(out) if d.startswith("split_")
)]
channels = rows[0]["total"]
print(f"{len(trained)} splits; the CNN as trained in PyTorch: test accuracy "
      f"{mean_sd([t['test'] for t in trained], 100)} %\n")
print(f"| model, gates | lambda | test accuracy % | kept conv channels (of {channels}) | "
      f"multiply-adds per image | parameters (of {int(rows[0]['parameters_before']):,}) | "
      "forward ms, batch 256, 1 thread (unpruned) | pruned.pt checked |")
print("|---|---|---|---|---|---|---|---|")
groups = {}
for r in rows:
    groups.setdefault((r["model"], float(r["lambda"])), []).append(r)
for (model, lam), rs in groups.items():
    kept = [sum(int(c) for c in r["kept"].split("+")) for r in rs]
    ok = all(r["checked"] == "True" for r in rs)
    print(f"| {model} | {lam:g} | {mean_sd([r['accuracy'] for r in rs], 100)} | "
          f"{mean_sd(kept)} | {mean_sd([r['macs_after'] for r in rs], digits=0)} | "
          f"{mean_sd([r['parameters_after'] for r in rs], digits=0)} | "
          f"{mean_sd([r['ms_after'] for r in rs], digits=2)} "
          f"({mean_sd([r['ms_before'] for r in rs], digits=2)}) | "
          f"{'yes' if ok else 'NO'} ({len(rs)}) |")
