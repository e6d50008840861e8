#!/usr/bin/env python3
"""Collects the `stog select` runs of scripts/bench_real.sh into one JSON, with the downstream
ExtraTrees score of each selection (the same function as the Python baselines).

Reads OUT/<dir>/<set>/<seed>/{result.json,wall_seconds,cpu_seconds,args.txt,predictions.csv}
(stog's defaults) and OUT/<dir>/<set>/<seed>/k<K>/... (`--max-features K`); writes OUT/<dir>.json
with rows {set, seed, method, budget, test_score, val_score, n_features, seconds, cpu_seconds,
fit_seconds, selected, extra_trees_test, lambda, stog_args, and for classification test_log_loss
and test_auc (two classes) from `stog predict`'s probabilities of the test rows} (stog_args: the
arguments STOG_ARGS added). <dir> is `stog`, or `stog-<TAG>` with BENCH_REAL_TAG.

Usage: python bench/real/stog_results.py [--dir stog] [--sets a,b]
"""

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    SETS,
    extra_trees_test,
    load_set,
    out_root,
    proba_scores,
    selected_sets,
    write_rows,
)


def stog_dir_name():
    tag = os.environ.get("BENCH_REAL_TAG", "")
    return f"stog-{tag}" if tag else "stog"


def extra_args(line):
    """The arguments of a run beyond those the script always passes (what STOG_ARGS added)."""
    tokens, out, skip = line.split(), [], False
    with_value = {"--data", "--splits", "--split-seed", "--task", "--device", "--max-features"}
    for t in tokens:
        if skip:
            skip = False
        elif t in with_value:
            skip = True
        elif t != "--quiet":
            out.append(t)
    return " ".join(out)


def row_of(run_dir, name, seed, budget, method, x, y, split):
    result = json.loads((run_dir / "result.json").read_text())
    task = SETS[name]["task"]
    key = "accuracy" if task == "classification" else "r2"
    scale = 100.0 if task == "classification" else 1.0
    wall = run_dir / "wall_seconds"
    cpu = run_dir / "cpu_seconds"
    args = run_dir / "args.txt"
    selected = [int(j) for j in result["selected_indices"]]
    probs = {}
    if task == "classification" and (run_dir / "predictions.csv").exists():
        probs = test_proba_scores(run_dir / "predictions.csv", y, split, result)
    # `val` is null when the final model was refitted on the training and validation rows.
    val = result["metrics"]["val"]
    return {
        "set": name,
        "seed": seed,
        "method": method,
        "budget": budget,
        "test_score": scale * float(result["metrics"]["test"][key]),
        "val_score": None if val is None else scale * float(val[key]),
        "n_features": len(selected),
        "seconds": float(wall.read_text()) if wall.exists() else float(result["fit_seconds"]),
        "cpu_seconds": float(cpu.read_text()) if cpu.exists() else None,
        "fit_seconds": float(result["fit_seconds"]),
        "selected": selected,
        "extra_trees_test": extra_trees_test(x, y, split, selected, task),
        "lambda": result.get("lambda"),
        "stog_args": extra_args(args.read_text()) if args.exists() else "",
        **probs,
    }


def test_proba_scores(path, y, split, result):
    """Log-loss and AUC of the test rows from `stog predict`'s proba_<label> columns (one row per
    row of the set, in order), scored by the same function as the Python peers. Warns when the
    test accuracy of its `prediction` column is not result.json's."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        table = np.array([row for row in reader], dtype=np.float64)
    cols = [j for j, h in enumerate(header) if h.startswith("proba_")]
    classes = [int(header[j][len("proba_") :]) for j in cols]
    te = split["test"]
    assert table.shape[0] == len(y), f"{path}: {table.shape[0]} rows, the set has {len(y)}"
    acc = float(np.mean(table[te, header.index("prediction")] == y[te]))
    if abs(acc - float(result["metrics"]["test"]["accuracy"])) > 1e-9:
        print(f"  warning: {path}: test accuracy {acc} but result.json says "
              f"{result['metrics']['test']['accuracy']}", flush=True)
    return proba_scores(y[te], table[te][:, cols], classes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=None, help="folder of the runs under BENCH_REAL_OUT")
    ap.add_argument("--sets", default=None)
    ap.add_argument("--out", type=Path, default=None, help="default BENCH_REAL_OUT")
    args = ap.parse_args()
    out = args.out or out_root()
    dname = args.dir or stog_dir_name()
    method = "stog" if dname == "stog" else dname.replace("stog-", "stog ", 1)
    sets = selected_sets(args.sets)
    rows = []
    for name in sets:
        base = out / dname / name
        if not base.is_dir():
            continue
        x, y, _, splits, _ = load_set(name, out / "data")
        k = SETS[name]["k"]
        for seed_dir in sorted(base.iterdir(), key=lambda p: p.name):
            if not seed_dir.name.isdigit() or int(seed_dir.name) not in splits:
                continue
            seed = int(seed_dir.name)
            for run_dir, budget in ((seed_dir, None), (seed_dir / f"k{k}", k)):
                if not (run_dir / "result.json").exists():
                    continue
                r = row_of(run_dir, name, seed, budget, method, x, y, splits[seed])
                rows.append(r)
                print(
                    f"  {name} seed {seed} {method}{'' if budget is None else f' <={budget}'}: "
                    f"test {r['test_score']:.3f} with {r['n_features']} features, "
                    f"{r['seconds']:.1f} s (ExtraTrees {r['extra_trees_test']:.3f})",
                    flush=True,
                )
    write_rows(out / f"{dname}.json", method, rows, sets)
    print(f"wrote {out / (dname + '.json')}")


if __name__ == "__main__":
    main()
