"""Checks a pruned.pt written by `stog script` for the digits CNN of train_cnn.py, in PyTorch:
its outputs on stog's test rows equal those of stog's inference network within 1e-5 relative to
the largest output (float rounding: the pruned model sums fewer terms in another order), and the
dropped channels are physically gone: each layer reading a gate's channels has one input column
per kept channel (one, if the gate kept none). Appends one line to CHECKS_CSV (MODEL, lambda,
test accuracy, kept channels per gate, channels in all, multiply-adds before and after,
parameters before and after, forward milliseconds of ORIGINAL and of pruned.pt on a batch of 256
rows with one thread (median of 30), largest difference, shapes right) and exits 1 when a check
fails.
Usage: python check_pruned.py RESULT_DIR CHECKS_CSV MODEL ORIGINAL.pt
"""
import csv
import json
import os
import statistics
import sys
import time

import torch

out_dir, checks, label, original = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
result = json.load(open(os.path.join(out_dir, "result.json")))
model = torch.jit.load(os.path.join(out_dir, "pruned.pt"))
rows = lambda name: torch.tensor(  # noqa: E731
    [[float(v) for v in r] for r in csv.reader(open(os.path.join(out_dir, name)))]
)
x, expected = rows("test_inputs.csv").view(-1, 1, 8, 8), rows("test_outputs.csv")
with torch.no_grad():
    outputs = model(x)
diff = (outputs - expected).abs().max().item()
tolerance = 1e-5 * (1.0 + expected.abs().max().item())
params = dict(model.named_parameters())
pruned = result["pruned"]
shapes_ok = True
for gate, carriers in zip(result["gates"], pruned["carriers"]):
    for carrier in carriers:
        shapes_ok &= params[carrier].shape[1] == max(len(gate["selected"]), 1)
shapes_ok &= sum(p.numel() for p in params.values()) == pruned["parameters_after"]


def forward_ms(m, batch):
    """Median wall milliseconds of one forward pass of `m` on `batch`, one thread."""
    torch.set_num_threads(1)
    times = []
    with torch.no_grad():
        for i in range(35):
            start = time.perf_counter()
            m(batch)
            if i >= 5:
                times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


batch = x.repeat((256 + len(x) - 1) // len(x), 1, 1, 1)[:256]
ms_before = forward_ms(torch.jit.load(original).eval(), batch)
ms_after = forward_ms(model.eval(), batch)
kept = "+".join(str(len(g["selected"])) for g in result["gates"])
total = sum(g["units_total"] for g in result["gates"])
line = [label, result["lambda"], result["metrics"]["test"]["accuracy"], kept, total]
line += [result["macs_before"], result["macs_after"], pruned["parameters_before"]]
line += [pruned["parameters_after"], ms_before, ms_after, diff, diff <= tolerance and shapes_ok]
header = not os.path.exists(checks)
with open(checks, "a") as f:
    w = csv.writer(f)
    if header:
        w.writerow(["model", "lambda", "accuracy", "kept", "total", "macs_before", "macs_after",
                    "parameters_before", "parameters_after", "ms_before", "ms_after", "max_diff",
                    "checked"])
    w.writerow(line)
ok = diff <= tolerance and shapes_ok
if not ok:
    print(f"{out_dir}: largest difference {diff:.2e} (tolerance {tolerance:.2e}), pruned shapes "
          f"right: {shapes_ok}")
sys.exit(0 if ok else 1)
