"""Shared pieces of the real-data benchmark (`make bench-real`).

The data sets (written by `datasets.py`), their loading with a split file, scoring, and the
downstream protocol of the LassoNet paper (Table 2): a fixed extremely-randomised-trees model
trained on the train rows restricted to a set of selected features and scored on the test rows.
Used by `baselines.py` (scikit-learn and LassoNet) and by `stog_results.py` (stog's result.json).
"""

import csv
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent

# name -> task, feature budget K of the `--max-features K` / "<= K" rows, and a short description.
# K: about the number of truly relevant features where it is known (madelon 5 informative,
# friedman 5 relevant, breast cancer's report budget 5), 50 pixels as in the LassoNet paper for
# MNIST, 20 genes for the gene set (a few informative modules), 5 of diabetes' 10, the 10 useful
# columns of the imbalanced set (5 informative, 5 combinations of them).
SETS = {
    "genes": {"task": "classification", "k": 20},
    "madelon": {"task": "classification", "k": 5},
    "mnist": {"task": "classification", "k": 50},
    "friedman": {"task": "regression", "k": 10},
    "diabetes": {"task": "regression", "k": 5},
    "breast_cancer": {"task": "classification", "k": 5},
    "imbalanced": {"task": "classification", "k": 10},
}
ORDER = list(SETS)

# The fixed downstream model (LassoNet paper's protocol): extremely randomised trees.
ET_TREES = 500
ET_SEED = 0


def out_root():
    return Path(os.environ.get("BENCH_REAL_OUT", ROOT / "results" / "bench-real"))


def data_dir(out=None):
    return Path(out or out_root()) / "data"


def selected_sets(names=None):
    """The sets to run: `names` (comma-separated) or BENCH_REAL_SETS, default all, in ORDER."""
    names = names or os.environ.get("BENCH_REAL_SETS", "")
    if not names:
        return list(ORDER)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; known: {', '.join(ORDER)}")
    return [n for n in ORDER if n in wanted]


def quick():
    return os.environ.get("BENCH_REAL_QUICK", "0") == "1"


def load_set(name, ddir=None):
    """(x [n, p] float64, y [n] int64 or float64, feature names, {seed: {part: row indices}}, meta)."""
    ddir = Path(ddir or data_dir())
    with open(ddir / f"{name}.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        table = np.array([row for row in reader], dtype=np.float64)
    assert header[-1] == "target", f"{name}.csv: the last column must be `target`"
    x, y = table[:, :-1], table[:, -1]
    if SETS[name]["task"] == "classification":
        y = y.astype(np.int64)
    splits = {}
    with open(ddir / f"{name}_splits.csv", newline="") as f:
        for row in csv.DictReader(f):
            parts = splits.setdefault(int(row["seed"]), {"train": [], "val": [], "test": []})
            parts[row["split"]].append(int(row["row"]))
    splits = {s: {k: np.array(v, dtype=np.int64) for k, v in p.items()} for s, p in splits.items()}
    meta_path = ddir / f"{name}_meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return x, y, header[:-1], splits, meta


def max_splits():
    """How many splits of each set to run: 1 with BENCH_REAL_QUICK=1, else BENCH_REAL_SPLITS (all
    when unset)."""
    if quick():
        return 1
    n = os.environ.get("BENCH_REAL_SPLITS", "")
    return int(n) if n else None


def seeds_to_run(splits):
    return sorted(splits)[: max_splits()]


def score(task, y_true, y_pred):
    """Test accuracy in % (classification) or R2 (regression)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if task == "classification":
        return 100.0 * float(np.mean(y_true == y_pred))
    ss_res = float(np.sum((y_true - y_pred) ** 2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def proba_scores(y_true, proba, classes):
    """Test log-loss (natural log, mean over rows; sklearn's log_loss, which clips probabilities
    to [eps, 1 - eps]) and, for two classes, the ROC AUC of the second class's probability (None
    for more classes). `proba` [n, len(classes)] has one column per class of `classes`, in order."""
    from sklearn.metrics import log_loss, roc_auc_score

    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true)
    ll = float(log_loss(y_true, proba, labels=list(classes)))
    auc = None
    if len(classes) == 2 and len(np.unique(y_true)) == 2:
        auc = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    return {"test_log_loss": ll, "test_auc": auc}


def extra_trees_test(x, y, split, selected, task, n_jobs=None):
    """The LassoNet paper's downstream protocol: ExtraTrees (500 trees, random_state 0, default
    settings otherwise) fitted on the train rows restricted to the columns `selected` (indices;
    None = all columns), scored on the test rows (accuracy % or R2). No feature selected: the
    majority class / the train mean."""
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    tr, te = split["train"], split["test"]
    cols = np.arange(x.shape[1]) if selected is None else np.asarray(selected, dtype=np.int64)
    if n_jobs is None:
        n_jobs = int(os.environ.get("BENCH_REAL_JOBS", "2"))
    if cols.size == 0:
        if task == "classification":
            values, counts = np.unique(y[tr], return_counts=True)
            pred = np.full(len(te), values[np.argmax(counts)])
        else:
            pred = np.full(len(te), float(np.mean(y[tr])))
        return score(task, y[te], pred)
    cls = ExtraTreesClassifier if task == "classification" else ExtraTreesRegressor
    model = cls(n_estimators=ET_TREES, random_state=ET_SEED, n_jobs=n_jobs)
    model.fit(x[tr][:, cols], y[tr])
    return score(task, y[te], model.predict(x[te][:, cols]))


def write_rows(path, method, rows, sets, **extra):
    """One JSON per method: {"method", "rows": [...], ...extra}; rows and dict-valued extras of
    other sets than `sets` already in the file are kept (a BENCH_REAL_SETS run rewrites its own)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sets = set(sets)
    old = []
    if path.exists():
        try:
            prev = json.loads(path.read_text())
            old = [r for r in prev.get("rows", []) if r["set"] not in sets]
            for key, value in prev.items():
                if key not in ("method", "rows") and isinstance(value, dict):
                    merged = {k: v for k, v in value.items() if k not in sets}
                    merged.update(extra.get(key, {}))
                    extra[key] = merged
        except (json.JSONDecodeError, KeyError):
            old = []
    path.write_text(json.dumps({"method": method, "rows": old + rows, **extra}, indent=1) + "\n")


if __name__ == "__main__":
    # For scripts/bench_real.sh: one line per set to run, `name task K seed seed ...` (the seeds
    # of its split file, as many as max_splits()).
    for _name in selected_sets():
        with open(data_dir() / f"{_name}_splits.csv") as _f:
            next(_f)
            _seeds = sorted({int(line.split(",")[0]) for line in _f if line.strip()})
        _seeds = _seeds[: max_splits()]
        print(_name, SETS[_name]["task"], SETS[_name]["k"], *_seeds)
