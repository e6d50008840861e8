#!/usr/bin/env python3
"""The tables of `make bench-real`: one markdown table per data set from the JSONs of
bench/real/baselines.py and bench/real/stog_results.py; prints them and writes BENCH_REAL_OUT/README.md.

Columns: method | splits | test accuracy % or R2 (mean +- sd over splits, ddof 0) | features
(mean) | relevant among them (where the generator says which are) | ExtraTrees on the selected
features (test accuracy % or R2) | wall and CPU seconds per split. Below each table: stog's defaults against L1 /
Lasso (both chosen on validation, no budget), paired on the splits both ran: the mean difference
+- its standard error over those splits.

Usage: python bench/real/table.py [--out DIR] [--no-write]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ET_TREES, ORDER, SETS, out_root  # noqa: E402


# Reference figures printed under a set's table.
NOTES = {
    "mnist": "For reference, the LassoNet paper (Lemhadri et al. 2021, Table 2; all of MNIST, its "
    "own splits) reports the downstream extremely-randomised-trees accuracy with k = 50 selected "
    "pixels: 89.2 % for LassoNet's, 94.1 % with all features.",
    "madelon": "`relevant`: of the 20 useful columns (5 informative and their 15 linear "
    "combinations); the other 480 are noise.",
    "genes": "`relevant`: genes of the 8 class-informative modules.",
    "friedman": "`relevant`: of x0..x4, the only columns the target depends on.",
}


def load_rows(out):
    rows, skipped = [], {}
    files = sorted(out.glob("stog*.json")) + [
        out / "python" / f"{m}.json" for m in ("l1", "lassonet", "extra_trees")
    ]
    for f in files:
        if not f.exists():
            continue
        data = json.loads(f.read_text())
        rows += data.get("rows", [])
        for name, reason in (data.get("skipped") or {}).items():
            skipped.setdefault(name, []).append(f"{data['method']}: {reason}")
    return rows, skipped


def label(r):
    return r["method"] if r["budget"] is None else f"{r['method']} (<= {r['budget']})"


def method_rank(lbl):
    """stog rows first (defaults, then tagged runs), then L1 / Lasso, LassoNet, ExtraTrees; each
    method's row without a budget before its <= K row."""
    method = lbl.split(" (<=")[0]
    order = ["stog", "L1 logistic", "Lasso", "LassoNet", "ExtraTrees, all features"]
    rank = 0 if method.startswith("stog") else (order.index(method) if method in order else 9)
    return (rank, method != "stog", method, "(<=" in lbl)


def fmt(task, values):
    v = np.asarray(values, dtype=float)
    if task == "classification":
        return f"{v.mean():.1f} +- {v.std():.1f}"
    return f"{v.mean():.3f} +- {v.std():.3f}"


def set_table(name, rows, meta, skipped):
    task, k = SETS[name]["task"], SETS[name]["k"]
    unit = "test accuracy %" if task == "classification" else "test R2"
    relevant = set(meta.get("relevant", []))
    groups = {}
    for r in rows:
        groups.setdefault(label(r), []).append(r)
    lines = []
    shape = meta.get("shape", ["?", "?"])
    tr, va, te = meta.get("split_sizes", ["?", "?", "?"])
    classes = f", {meta['classes']} classes" if "classes" in meta else ", regression"
    lines.append(f"### {name}: {shape[0]} x {shape[1]}{classes}, split {tr}/{va}/{te}, K = {k}")
    lines.append("")
    lines.append(f"Source: {meta.get('source', '?')}")
    lines.append("")
    head = f"| method | splits | {unit} | features |"
    sep = "|---|---|---|---|"
    if relevant:
        head += f" relevant of {len(relevant)} |"
        sep += "---|"
    head += f" ExtraTrees on them ({unit.split()[1]}) | wall s | CPU s |"
    sep += "---|---|---|"
    lines += [head, sep]
    for lbl in sorted(groups, key=method_rank):
        g = sorted(groups[lbl], key=lambda r: r["seed"])
        cells = [
            lbl,
            str(len(g)),
            fmt(task, [r["test_score"] for r in g]),
            f"{np.mean([r['n_features'] for r in g]):.1f}",
        ]
        if relevant:
            if g[0]["selected"] is None:
                cells.append("-")
            else:
                cells.append(
                    f"{np.mean([len(relevant.intersection(r['selected'])) for r in g]):.1f}"
                )
        cells.append(fmt(task, [r["extra_trees_test"] for r in g]))
        cells.append(f"{np.mean([r['seconds'] for r in g]):.1f}")
        cpu = [r.get("cpu_seconds") for r in g]
        cells.append("-" if None in cpu else f"{np.mean(cpu):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    # stog's defaults against L1 / Lasso, paired on common splits.
    base = "L1 logistic" if task == "classification" else "Lasso"
    stog_labels = [lbl for lbl in groups if lbl.startswith("stog") and "(<=" not in lbl]
    for sl in sorted(stog_labels):
        a = {r["seed"]: r for r in groups[sl]}
        b = {r["seed"]: r for r in groups.get(base, [])}
        common = sorted(set(a) & set(b))
        if not common:
            continue
        diffs = np.array([a[s]["test_score"] - b[s]["test_score"] for s in common])
        d = diffs.mean()
        # Standard error of the mean paired difference (a difference within about two of it is
        # noise of the splits).
        se = diffs.std(ddof=1) / np.sqrt(len(common)) if len(common) > 1 else float("nan")
        de = np.mean([a[s]["extra_trees_test"] - b[s]["extra_trees_test"] for s in common])
        fa = np.mean([a[s]["n_features"] for s in common])
        fb = np.mean([b[s]["n_features"] for s in common])
        if task == "classification":
            what = f"{d:+.1f} +- {se:.1f} points"
            et = f"{de:+.1f} points"
        else:
            what = f"{d:+.3f} +- {se:.3f} R2"
            et = f"{de:+.3f} R2"
        lines.append("")
        lines.append(
            f"**{sl} vs {base}** ({len(common)} common splits; mean difference +- its standard "
            f"error): {what} "
            f"({fa:.1f} against {fb:.1f} features); ExtraTrees on the selected features {et}."
        )
    if name in NOTES:
        lines.append("")
        lines.append(NOTES[name])
    for reason in skipped.get(name, []):
        lines.append("")
        lines.append(f"Not run: {reason}.")
    return "\n".join(lines)


def overview(rows, metas):
    """One line per set: test score (mean features) of each method without and with the budget,
    then ExtraTrees on all features."""
    cols = [
        ("stog", None),
        ("stog", "k"),
        ("L1", None),
        ("L1", "k"),
        ("LassoNet", None),
        ("LassoNet", "k"),
        ("ExtraTrees, all features", None),
    ]
    head = (
        "| set | n x p | K | stog | stog <= K | L1 / Lasso | L1 / Lasso <= K | LassoNet "
        "| LassoNet <= K | ExtraTrees, all features |"
    )
    lines = [head, "|" + "---|" * 10]
    for name in ORDER:
        set_rows = [r for r in rows if r["set"] == name]
        if not set_rows:
            continue
        task, k = SETS[name]["task"], SETS[name]["k"]
        shape = metas.get(name, {}).get("shape", ["?", "?"])
        cells = [name, f"{shape[0]} x {shape[1]}", str(k)]
        for method, budget in cols:
            want = None if budget is None else k
            if method == "L1":
                ok = ("L1 logistic", "Lasso")
            else:
                ok = (method,)
            g = [r for r in set_rows if r["method"] in ok and r["budget"] == want]
            if not g:
                cells.append("-")
                continue
            v = np.mean([r["test_score"] for r in g])
            f = np.mean([r["n_features"] for r in g])
            cells.append(f"{v:.1f} ({f:.0f})" if task == "classification" else f"{v:.3f} ({f:.0f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="default BENCH_REAL_OUT")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    out = args.out or out_root()
    rows, skipped = load_rows(out)
    parts = [
        "# make bench-real",
        "",
        "Per data set and split (the same train / val / test rows for every method): stog select "
        "with its defaults and with `--max-features K`; L1 logistic regression (one-vs-rest, "
        "liblinear) or Lasso over a C / alpha grid chosen on validation (ties: fewer features), "
        "and the best validation point with <= K features; LassoNet's full path (its defaults, "
        "early stopping on our validation rows) chosen the same way; and, the protocol of the "
        "LassoNet paper (Table 2), the test score of a fixed downstream model "
        f"(ExtraTrees, {ET_TREES} trees, random_state 0) trained on the train rows restricted to "
        "the selected features. Mean +- sd over splits (ddof 0). Wall s: per split, the whole "
        "grid / path / `stog select` process, without the ExtraTrees; CPU s: the CPU time "
        "(user + system, all threads) of the same, which does not grow when other jobs share "
        "the cores.",
        "",
    ]
    metas = {}
    for name in ORDER:
        meta_path = out / "data" / f"{name}_meta.json"
        metas[name] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    parts += [
        "Overview: test accuracy % (classification) or R2 (regression), mean over splits, and "
        "the mean number of selected features in parentheses (the `stog` rows are its defaults, "
        "without STOG_ARGS tags).",
        "",
        overview(rows, metas),
        "",
    ]
    for name in ORDER:
        set_rows = [r for r in rows if r["set"] == name]
        if not set_rows and name not in skipped:
            continue
        parts.append(set_table(name, set_rows, metas[name], skipped))
        parts.append("")
    by_method = {}
    for r in rows:
        if r["method"].startswith("stog"):
            by_method.setdefault(r["method"], set()).add(r.get("stog_args", ""))
    for method, seen in sorted(by_method.items()):
        what = "; ".join(f"`{a}`" if a else "its defaults" for a in sorted(seen))
        parts.append(f"`{method}`: stog select with {what} (and `--max-features K` in the <= K rows).")
        parts.append("")
    text = "\n".join(parts).rstrip() + "\n"
    print(text, end="")
    if not args.no_write:
        (out / "README.md").write_text(text)


if __name__ == "__main__":
    main()
