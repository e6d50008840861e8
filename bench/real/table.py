#!/usr/bin/env python3
"""The tables of `make bench-real`: one markdown table per data set from the JSONs of
bench/real/baselines.py and bench/real/stog_results.py; prints them and writes BENCH_REAL_OUT/README.md.

Columns: method | splits | test accuracy % or R2 (mean +- sd over splits, ddof 0) | test log-loss
and, with two classes, test AUC (classification) | features (mean) | relevant among them (where
the generator says which are) | ExtraTrees on the selected features (test accuracy % or R2) | wall
and CPU seconds per split. Below each table, and in one summary table for every set: stog's
defaults against the L1 / Lasso peer chosen by 5-fold cross-validation and refitted on the training
+ validation rows, and against the one chosen on the validation rows; paired on the splits both
ran: the mean difference +- its standard error over those splits, and whether stog is at least as
good as the peer, within one paired standard error below it, or worse.

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
    "imbalanced": "`relevant`: of the 10 useful columns (5 informative and 5 linear combinations "
    "of them); 5 % of the rows are positives (20 of the 400 test rows). Always predicting the "
    "majority class scores 95.0 %: compare log-loss and AUC.",
}


def load_rows(out):
    rows, skipped = [], {}
    files = sorted(out.glob("stog*.json")) + [
        out / "python" / f"{m}.json" for m in ("l1", "l1_cv", "lassonet", "extra_trees")
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


# The peers of stog's defaults in the paired comparisons: chosen by cross-validation (and
# refitted on the training + validation rows), and chosen on the validation rows.
CV_PEER = {"classification": "L1 logistic, 5-fold CV", "regression": "Lasso, 5-fold CV"}
VAL_PEER = {"classification": "L1 logistic", "regression": "Lasso"}


def method_rank(lbl):
    """stog rows first (defaults, then tagged runs), then L1 / Lasso (cross-validated, then on
    validation), LassoNet, ExtraTrees; each method's row without a budget before its <= K row."""
    method = lbl.split(" (<=")[0]
    order = [
        "stog",
        CV_PEER["classification"],
        VAL_PEER["classification"],
        CV_PEER["regression"],
        VAL_PEER["regression"],
        "LassoNet",
        "ExtraTrees, all features",
    ]
    rank = 0 if method.startswith("stog") else (order.index(method) if method in order else 9)
    return (rank, method != "stog", method, "(<=" in lbl)


def fmt(task, values):
    v = np.asarray(values, dtype=float)
    if task == "classification":
        return f"{v.mean():.1f} +- {v.std():.1f}"
    return f"{v.mean():.3f} +- {v.std():.3f}"


def fmt_key(key, values):
    """mean +- sd of a score (accuracy % with one decimal, R2 / AUC / log-loss with three or
    four)."""
    v = np.asarray(values, dtype=float)
    digits = {"test_log_loss": 4, "test_auc": 3}.get(key, 1)
    return f"{v.mean():.{digits}f} +- {v.std():.{digits}f}"


# The scores compared per task: (row key, name, +1 when higher is better, digits).
METRICS = {
    "classification": [
        ("test_score", "accuracy %", 1, 1),
        ("test_log_loss", "log-loss", -1, 4),
        ("test_auc", "AUC", 1, 3),
    ],
    "regression": [("test_score", "R2", 1, 3)],
}


def paired(a_rows, b_rows, key, sign):
    """stog's rows `a_rows` against a peer's `b_rows` on the splits both have a `key` score for:
    (splits, mean of a, mean of b, mean difference oriented so that positive favours a, its
    standard error over the splits: sd ddof 1 / sqrt(n), nan for one split)."""
    a = {r["seed"]: r[key] for r in a_rows if r.get(key) is not None}
    b = {r["seed"]: r[key] for r in b_rows if r.get(key) is not None}
    common = sorted(set(a) & set(b))
    if not common:
        return None
    diffs = sign * np.array([a[s] - b[s] for s in common])
    se = diffs.std(ddof=1) / np.sqrt(len(common)) if len(common) > 1 else float("nan")
    ma = float(np.mean([a[s] for s in common]))
    mb = float(np.mean([b[s] for s in common]))
    return len(common), ma, mb, float(diffs.mean()), float(se)


def verdict(d, se):
    """stog against a peer from the oriented mean difference d and its paired standard error."""
    if d >= 0:
        return "stog >= peer"
    if not np.isfinite(se):
        return "worse (one split: no standard error)"
    return "within one paired SE" if -d <= se else "worse"


def comparisons(name, groups):
    """Rows of (stog label, peer, metric, splits, stog mean, peer mean, d, se, verdict): each stog
    label without a budget against the cross-validated and the validation-chosen peer."""
    task = SETS[name]["task"]
    out = []
    stog_labels = sorted(lbl for lbl in groups if lbl.startswith("stog") and "(<=" not in lbl)
    for sl in stog_labels:
        for peer in (CV_PEER[task], VAL_PEER[task]):
            for key, metric, sign, digits in METRICS[task]:
                p = paired(groups[sl], groups.get(peer, []), key, sign)
                if p is None:
                    continue
                n, ma, mb, d, se = p
                out.append((sl, peer, metric, digits, n, ma, mb, d, se, verdict(d, se)))
    return out


COMPARISON_HEAD = (
    "| stog | peer | score | splits | stog | peer | stog's advantage +- paired SE | verdict |"
)


def comparison_table(pairs, with_set):
    """Markdown rows of `comparisons` (a first column naming the set when with_set is given)."""
    head, sep = COMPARISON_HEAD, "|---" * 8 + "|"
    if with_set is not None:
        head, sep = "| set " + head, sep + "---|"
    lines = [head, sep]
    for sl, peer, metric, digits, n, ma, mb, d, se, what in pairs:
        cells = [sl, peer, metric, str(n), f"{ma:.{digits}f}", f"{mb:.{digits}f}"]
        cells += [f"{d:+.{digits}f} +- {se:.{digits}f}", what]
        if with_set is not None:
            cells.insert(0, with_set)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary(rows):
    """stog's defaults against the cross-validated peer, every set in one table."""
    lines = []
    for name in ORDER:
        groups = {}
        for r in rows:
            if r["set"] == name:
                groups.setdefault(label(r), []).append(r)
        pairs = [p for p in comparisons(name, groups) if p[1] == CV_PEER[SETS[name]["task"]]]
        if pairs:
            body = comparison_table(pairs, with_set=name)
            lines += body if not lines else body[2:]
    return lines


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
    prob_keys = []
    if task == "classification":
        prob_keys = ["test_log_loss"] + (["test_auc"] if meta.get("classes") == 2 else [])
    head = f"| method | splits | {unit} |"
    sep = "|---|---|---|"
    for key in prob_keys:
        head += " test log-loss |" if key == "test_log_loss" else " test AUC |"
        sep += "---|"
    head += " features |"
    sep += "---|"
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
        ]
        for key in prob_keys:
            v = [r.get(key) for r in g]
            cells.append("-" if None in v else fmt_key(key, v))
        cells.append(f"{np.mean([r['n_features'] for r in g]):.1f}")
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
    # stog's defaults against the two L1 / Lasso peers, paired on common splits.
    pairs = comparisons(name, groups)
    if pairs:
        lines += ["", "stog's defaults against the L1 / Lasso peers, paired on common splits:", ""]
        lines += comparison_table(pairs, with_set=None)
    if name in NOTES:
        lines.append("")
        lines.append(NOTES[name])
    for reason in skipped.get(name, []):
        lines.append("")
        lines.append(f"Not run: {reason}.")
    return "\n".join(lines)


def overview(rows, metas):
    """One line per set: test score (mean features) of each method without and with the budget,
    then ExtraTrees on all features; a cell over fewer splits than the set's most says how many."""
    cols = [
        ("stog", None),
        ("stog", "k"),
        ("CV", None),
        ("L1", None),
        ("L1", "k"),
        ("LassoNet", None),
        ("LassoNet", "k"),
        ("ExtraTrees, all features", None),
    ]
    head = (
        "| set | n x p | K | stog | stog <= K | L1 / Lasso, 5-fold CV | L1 / Lasso | "
        "L1 / Lasso <= K | LassoNet | LassoNet <= K | ExtraTrees, all features |"
    )
    lines = [head, "|" + "---|" * 11]
    for name in ORDER:
        set_rows = [r for r in rows if r["set"] == name]
        if not set_rows:
            continue
        task, k = SETS[name]["task"], SETS[name]["k"]
        shape = metas.get(name, {}).get("shape", ["?", "?"])
        cells = [name, f"{shape[0]} x {shape[1]}", str(k)]
        most = max(len([r for r in set_rows if label(r) == lbl]) for lbl in map(label, set_rows))
        for method, budget in cols:
            want = None if budget is None else k
            if method == "L1":
                ok = tuple(VAL_PEER.values())
            elif method == "CV":
                ok = tuple(CV_PEER.values())
            else:
                ok = (method,)
            g = [r for r in set_rows if r["method"] in ok and r["budget"] == want]
            if not g:
                cells.append("-")
                continue
            v = np.mean([r["test_score"] for r in g])
            f = np.mean([r["n_features"] for r in g])
            few = f"; {len(g)} split{'s' if len(g) > 1 else ''}" if len(g) < most else ""
            cells.append(
                f"{v:.1f} ({f:.0f}{few})" if task == "classification" else f"{v:.3f} ({f:.0f}{few})"
            )
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
        "liblinear) or Lasso over a C / alpha grid, fitted on the training rows and chosen on "
        "the validation rows (ties: fewer features), and the best validation point with <= K "
        "features; the same L1 logistic regression (or LassoCV) with C (alpha) chosen by 5-fold "
        "cross-validation over the training + validation rows together (stratified; mean "
        "held-out log-loss or squared error) and refitted on all of them (`5-fold CV`, the "
        "pattern of scikit-learn's LogisticRegressionCV); LassoNet's full path (its defaults, "
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
    lines = summary(rows)
    if lines:
        parts += [
            "stog's defaults against the peer chosen by 5-fold cross-validation and refitted on "
            "the training + validation rows, paired on the splits both ran. stog's advantage: "
            "the mean of stog's score minus the peer's (the peer's log-loss minus stog's), +- "
            "its standard error over the splits (sd / sqrt(splits)); verdict: `stog >= peer` "
            "when that mean is >= 0, `within one paired SE` when it is below 0 by at most one "
            "standard error, else `worse`. Log-loss and AUC from the predicted probabilities of "
            "the test rows (stog's from `stog predict`).",
            "",
            *lines,
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
