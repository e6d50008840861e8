"""Measures what channel pruning buys, in PyTorch alone (no stog): for one model family written by
scripts/bench_pruning.sh (FAMILY_DIR/original.pt, FAMILY_DIR/split.csv and one `stog script`
folder FAMILY_DIR/lambda_L/ per lambda, with pruned.pt, result.json and test_inputs.csv), the test
accuracy, conv channels kept, parameters, multiply-adds per example (the profiler's FLOP count of
the conv and linear ops, / 2) and forward milliseconds of the unpruned model and of every
pruned.pt. Forward time: a batch of 256 test rows, one thread, no_grad; all the family's models
load into this one process and are timed in turn, one pass each per round (the order rotating
each round), REPEATS rounds after 3 untimed ones, so that load from other jobs falls on all of
them alike; the CSV gives the median, quartiles and fastest of each model's passes (the fastest
is the nearest to the time on an idle machine).
Appends one line per model to CSV and exits 1 when a pruned.pt disagrees with its result.json
(parameters, or test accuracy by more than one row) or the lambda folders saw other test rows.
Usage: python bench_pruning.py FAMILY_DIR NAME CSV [REPEATS]
"""
import csv
import json
import os
import statistics
import sys
import time

import torch

family, name, csv_path = sys.argv[1], sys.argv[2], sys.argv[3]
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 30
torch.set_num_threads(1)


def read_rows(path):
    return torch.tensor([[float(v) for v in r] for r in csv.reader(open(path))])


points = sorted(
    (float(d.split("_", 1)[1]), os.path.join(family, d))
    for d in os.listdir(family)
    if d.startswith("lambda_") and os.path.isdir(os.path.join(family, d))
)
if not points:
    sys.exit(f"{family}: no lambda_* folder")
# The test rows as the models take them (stog's standardised test inputs) and their classes.
x = read_rows(os.path.join(points[0][1], "test_inputs.csv"))
for _, d in points[1:]:
    if not torch.equal(read_rows(os.path.join(d, "test_inputs.csv")), x):
        sys.exit(f"{d}: other test rows than {points[0][1]}")
split = list(csv.DictReader(open(os.path.join(family, "split.csv"))))
test = sorted(int(r["row"]) for r in split if r["split"] == "test")
classes = [int(r[-1]) for r in list(csv.reader(open("data/digits.csv")))[1:]]
y = torch.tensor([classes[i] for i in test])
if len(y) != len(x):
    sys.exit(f"{family}: {len(x)} test inputs for {len(y)} test rows")
x = x.view(-1, 1, 8, 8)
batch = x.repeat((256 + len(x) - 1) // len(x), 1, 1, 1)[:256]


def macs(model):
    with torch.profiler.profile(with_flops=True, acc_events=True) as prof, torch.no_grad():
        model(x[:1])
    return int(sum(e.flops for e in prof.key_averages() if e.flops) / 2)


models = [("", None, torch.jit.load(os.path.join(family, "original.pt")).eval())]
models += [(lam, d, torch.jit.load(os.path.join(d, "pruned.pt")).eval()) for lam, d in points]
rows, ok = [], True
for lam, d, model in models:
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    params = sum(p.numel() for p in model.parameters())
    row = {"model": name, "lambda": lam, "test_accuracy": round(accuracy, 6)}
    if d is None:
        kept = total = None
    else:
        result = json.load(open(os.path.join(d, "result.json")))
        kept = [len(g["selected"]) for g in result["gates"]]
        total = sum(g["units_total"] for g in result["gates"])
        stog_accuracy = result["metrics"]["test"]["accuracy"]
        # A row whose two best outputs tie within float rounding may flip (the pruned model sums
        # fewer terms in another order), so the accuracies may differ by one row.
        if params != result["pruned"]["parameters_after"] or (
            abs(accuracy - stog_accuracy) > 1.0 / len(y) + 1e-12
        ):
            ok = False
            print(f"{d}: pruned.pt has {params} parameters and test accuracy {accuracy}, "
                  f"result.json {result['pruned']['parameters_after']} and {stog_accuracy}")
    row["channels_kept"] = "" if kept is None else sum(kept)
    row["channels_total"] = "" if total is None else total
    row["kept_per_gate"] = "" if kept is None else "+".join(map(str, kept))
    row["parameters"] = params
    row["macs"] = macs(model)
    rows.append(row)
for row in rows:
    if row["channels_total"] == "":
        row["channels_total"] = rows[1]["channels_total"]
        row["channels_kept"] = rows[1]["channels_total"]

times = [[] for _ in models]
with torch.no_grad():
    for r in range(3 + repeats):
        for k in range(len(models)):
            i = (r + k) % len(models)
            start = time.perf_counter()
            models[i][2](batch)
            if r >= 3:
                times[i].append(1e3 * (time.perf_counter() - start))
for row, t in zip(rows, times):
    q1, _, q3 = statistics.quantiles(t, n=4)
    row["forward_ms"] = round(statistics.median(t), 3)
    row["forward_ms_q1"] = round(q1, 3)
    row["forward_ms_q3"] = round(q3, 3)
    row["forward_ms_min"] = round(min(t), 3)
    row["speedup"] = round(rows[0]["forward_ms"] / row["forward_ms"], 3)
    row["repeats"] = repeats
header = not os.path.exists(csv_path)
with open(csv_path, "a", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    if header:
        w.writeheader()
    w.writerows(rows)
sys.exit(0 if ok else 1)
