#!/usr/bin/env python3
"""Writes the benchmark table (Markdown) from bench/results: the Python libraries' JSON and stog's
sweep folders. Standard library only."""
import csv
import json
import os
import sys

out = sys.argv[1]
py = json.load(open(os.path.join(out, "python.json")))


def executed_member_epochs(runs_csv):
    """Member-epochs a sweep really ran: each run's epochs (a chunk computes only the members
    still training)."""
    return sum(int(r["epochs"]) for r in csv.DictReader(open(runs_csv)))


def stog_frontier(folder):
    s = json.load(open(os.path.join(folder, "summary.json")))
    rows = {}
    for p in s["summary"]["frontier"]:
        key = "all" if p["budget"] is None else str(p["budget"])
        rows.setdefault(p["gate"], {})[key] = {
            "mean": 100 * p["test_score"]["mean"], "std": 100 * p["test_score"]["std"], "features": p["features"]}
    return rows, s["wall_seconds"], s["device"]


def cell(f):
    return f"{f['mean']:.1f} +- {f['std']:.1f} ({f['features']:.1f})" if f else "-"


budgets = ["3", "5", "10", "15", "all"]
lines = ["# Benchmark: stog against the Python libraries", "",
         f"Breast cancer, the {len(py['seeds'])} reference splits, made by `make bench` in one run on this machine "
         f"({py['machine']['cpus']} CPUs, torch {py['torch']}). Test accuracy in % at a feature budget "
         "(SPEC.md section 4), mean +- std over seeds, mean features in brackets.", "",
         "| method | <= 3 | <= 5 | <= 10 | <= 15 | no budget |", "|---|---|---|---|---|---|"]
for name, m in py["methods"].items():
    lines.append(f"| {name} | " + " | ".join(cell(m["frontier"].get(b)) for b in budgets) + " |")
fig2, wall, device = stog_frontier(os.path.join(out, "stog_fig2"))
for gate, f in fig2.items():
    lines.append(f"| stog {gate} (same 7 lambdas) | " + " | ".join(cell(f.get(b)) for b in budgets) + " |")
dense = os.path.join("results", "feature_selection", "summary.json")
if os.path.exists(dense):
    d, _, _ = stog_frontier(os.path.dirname(dense))
    for gate, f in d.items():
        lines.append(f"| stog {gate} (demo: 18 lambdas) | " + " | ".join(cell(f.get(b)) for b in budgets) + " |")

sweep = py.get("stog_sweep")
one = py.get("stog_single_fit")
mine = executed_member_epochs(os.path.join(out, "stog_fig2", "runs.csv"))
single = json.load(open(os.path.join(out, "stog_one_thread", "summary.json")))
single_epochs = executed_member_epochs(os.path.join(out, "stog_one_thread", "runs.csv"))
lines += ["", "| work | SToG 0.1.0 | stog | ratio SToG / stog |", "|---|---|---|---|"]
if sweep:
    lines.append(f"| Fig. 2 sweep, {sweep['fits']} fits, wall time | {sweep['wall_seconds']:.1f} s "
                 f"(torch threads {py['threads']}) | {wall:.1f} s ({device}) | **{sweep['wall_seconds'] / wall:.1f}x** |")
if one:
    per = 1e3 * single["wall_seconds"] / single_epochs
    lines.append(f"| time per fit-epoch, 1 thread | {1e3 * one['seconds_per_epoch']:.2f} ms (one fit) | "
                 f"{per:.2f} ms per member-epoch (chunks of 7) | {1e3 * one['seconds_per_epoch'] / per:.1f}x |")
lines += ["", f"stog's sweep trained {mine} member-epochs ({mine / 350:.0f} per fit; a chunk computes only "
          "the members still training).",
          "Other Python libraries' times are in `python.json` (`total_seconds` per method).", ""]
print("\n".join(lines))
