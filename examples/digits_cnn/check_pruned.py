"""Checks a pruned.pt written by `stog script` for the digits CNN of train_cnn.py, in PyTorch:
its outputs on stog's test rows equal those of stog's inference network within 1e-5, and the
columns of the layers reading a dropped channel are exactly zero. Prints one table row with the
test accuracy, kept channels and multiply-adds per image before and after pruning.
Usage: python check_pruned.py RESULT_DIR
"""
import csv
import json
import os
import sys

import torch

out_dir = sys.argv[1]
result = json.load(open(os.path.join(out_dir, "result.json")))
model = torch.jit.load(os.path.join(out_dir, "pruned.pt"))
rows = lambda name: torch.tensor(  # noqa: E731
    [[float(v) for v in r] for r in csv.reader(open(os.path.join(out_dir, name)))]
)
x, expected = rows("test_inputs.csv").view(-1, 1, 8, 8), rows("test_outputs.csv")
with torch.no_grad():
    diff = (model(x) - expected).abs().max().item()
params = dict(model.named_parameters())
zero_ok = True
for gate, carrier in zip(result["gates"], result["pruned_parameters"]):
    w = params[carrier]
    for unit in range(gate["units_total"]):
        dropped = unit not in gate["selected"]
        zero = bool((w.select(1, unit) == 0).all())
        zero_ok &= zero == dropped
k = [len(g["selected"]) for g in result["gates"]]
n = [g["units_total"] for g in result["gates"]]
# conv 3x3 with padding 1 on 8x8 (64 positions), then a linear head on the pooled channels
macs = lambda c1, c2: 9 * 64 * (1 * c1 + c1 * c2) + c2 * 10  # noqa: E731
ok = diff <= 1e-5 and zero_ok
print(
    f"| {result['lambda']} | {100 * result['metrics']['test']['accuracy']:.1f} | "
    f"{k[0]}/{n[0]} + {k[1]}/{n[1]} | {macs(*n)} -> {macs(*k)} | {diff:.1e} | "
    f"{'yes' if zero_ok else 'NO'} |"
)
sys.exit(0 if ok else 1)
