"""Compares OUT_DIR/original.pt and OUT_DIR/pruned.pt in PyTorch alone (no stog): test accuracy on
OUT_DIR/test.csv (the test rows as the models take them, flattened, and a `target` column),
parameters, multiply-adds per example (the profiler's FLOP count of the conv and linear ops, / 2)
and the forward time of a batch of 256 rows on one CPU thread (median of 20 after 3 warm-ups),
and on the GPU when there is one. Prints a table, writes OUT_DIR/compare.json, and exits 1 when
the pruned model disagrees with what stog reported.
Usage: python compare.py OUT_DIR
"""
import csv
import json
import os
import statistics
import sys
import time

import torch

out = sys.argv[1]
rows = list(csv.reader(open(os.path.join(out, "test.csv"))))
header, rows = rows[0], rows[1:]
t = header.index("target")
x = torch.tensor([[float(v) for i, v in enumerate(r) if i != t] for r in rows]).view(-1, 1, 8, 8)
y = torch.tensor([int(float(r[t])) for r in rows])
batch = x.repeat((256 + len(x) - 1) // len(x), 1, 1, 1)[:256]


def macs(model):
    with torch.profiler.profile(with_flops=True, acc_events=True) as prof, torch.no_grad():
        model(x[:1])
    return int(sum(e.flops for e in prof.key_averages() if e.flops) / 2)


def forward_ms(model, device):
    model = model.to(device)
    b = batch.to(device)
    times = []
    with torch.no_grad():
        for i in range(23):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(b)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 3:
                times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


torch.set_num_threads(1)
report = {}
for name in ["original", "pruned"]:
    model = torch.jit.load(os.path.join(out, f"{name}.pt"), map_location="cpu").eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    r = {
        "accuracy": accuracy,
        "parameters": sum(p.numel() for p in model.parameters()),
        "macs": macs(model),
        "cpu_ms": forward_ms(model, torch.device("cpu")),
    }
    if torch.cuda.is_available():
        r["gpu_ms"] = forward_ms(model, torch.device("cuda"))
    report[name] = r
o, p = report["original"], report["pruned"]
report["speedup_cpu"] = o["cpu_ms"] / p["cpu_ms"]
gpu = "gpu_ms" in o
print(f"| model | test accuracy % | parameters | multiply-adds per example | "
      f"forward ms, batch 256, 1 CPU thread |{' GPU ms |' if gpu else ''}")
print(f"|---|---|---|---|---|{'---|' if gpu else ''}")
for name, r in [("original", o), ("pruned", p)]:
    gpu_cell = " %.2f |" % r["gpu_ms"] if gpu else ""
    print(f"| {name} | {100 * r['accuracy']:.1f} | {r['parameters']:,} | {r['macs']:,} | "
          f"{r['cpu_ms']:.1f} |{gpu_cell}")
print(f"\npruned / original: {p['parameters'] / o['parameters']:.2f} of the parameters, "
      f"{p['macs'] / o['macs']:.2f} of the multiply-adds, {report['speedup_cpu']:.2f}x faster "
      "on one CPU thread")
json.dump(report, open(os.path.join(out, "compare.json"), "w"), indent=1)
result = json.load(open(os.path.join(out, "stog", "result.json")))
# The parameters are counted alike; the accuracy may differ by a row whose two best outputs tie
# within float rounding (the pruned model computes (W z) x where the gated one computes W (z x)).
ok = p["parameters"] == result["pruned"]["parameters_after"]
ok &= abs(p["accuracy"] - result["metrics"]["test"]["accuracy"]) <= 1.0 / len(y) + 1e-12
if not ok:
    print(f"the pruned model disagrees with stog's result.json: {p['parameters']} parameters "
          f"against {result['pruned']['parameters_after']}, accuracy {p['accuracy']} against "
          f"{result['metrics']['test']['accuracy']}")
sys.exit(0 if ok else 1)
