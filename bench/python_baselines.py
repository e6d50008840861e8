#!/usr/bin/env python3
"""Accuracy-at-a-feature-budget of the Python libraries that stog is compared against.

Runs, on the 10 reference splits of `data/splits_breast_cancer.csv` (StandardScaler fitted on the
train rows, torch at 1 thread, CPU):

  1. SToG 0.1.0 (`import SToG`): the report's Fig. 2 sweep as the library really does it. Its
     model, its selectors, its `FeatureSelectionTrainer` (<= 300 epochs, patience 50, full batch),
     5 gate kinds x 7 lambdas x seeds. Its bugs are kept on purpose (SPEC.md section 5): the
     "restored best" state is the last epoch, CorrelatedSTG equals STG, L1 counts |w| > 0.1.
  2. stg 0.1.2 (official STG): the configuration of its classification example (hidden [60, 20],
     tanh, SGD lr 0.1, full batch, sigma 0.5, 5000 epochs, no early stopping), 9 lambdas x seeds
     (SPEC's 9 values converted to stg's mean-over-features penalty).
  3. LassoNet: one full warm-started lambda path per seed (`LassoNetClassifier.path` with its
     defaults, so early stopping on its own 10 % of the train rows), every path point is a run.
  4. scikit-learn L1 logistic regression: 41 C values log-spaced, per seed.

For each method, the frontier of SPEC.md section 4: per seed, among that seed's runs with <= k
selected features take the one with the best validation accuracy (ties: fewer features, then the
more regularised run: larger lambda, smaller C); report mean and std (over seeds, ddof=0) of its
test accuracy and the mean number of features, for k = 3, 5, 10, 15 and no budget.

Usage (install the libraries first with bench/install_baselines.sh):

    ~/.cache/stog/torch-2.11.0/bin/python bench/python_baselines.py --out results/python_baselines.json
    ~/.cache/stog/torch-2.11.0/bin/python bench/python_baselines.py --out /tmp/q.json --quick
    ... --methods stog          # only the SToG sweep (about 2 minutes on 2 cores)

Accuracies are in %, times in seconds of wall clock around the library's fit call only.
"""

import argparse
import collections
import collections.abc
import csv
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

# official stg 0.1.2 uses collections.Sequence / Set / Mapping / Iterable, removed from
# `collections` in Python 3.10: alias them before stg is imported (site-packages is not patched).
for _name in ("Sequence", "Set", "Mapping", "Iterable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = (3, 5, 10, 15, None)  # None = no budget ("all")

# SToG Fig. 2 grid (sum convention, as SToG defines its penalty).
STOG_LAMBDAS = (0.0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5)
STOG_KINDS = ("STG", "STE", "Gumbel", "CorrelatedSTG", "L1")
# official stg: the 9 lambdas of SPEC.md section 4 (sum convention) times D = 30, because stg
# averages its penalty over the features; stg's own `lam` values. (Passed unconverted, 7 of the 9
# keep all 30 features after 5000 epochs: the grid would barely reach the budgets.)
STG_LAMBDAS = tuple(round(30 * v, 9) for v in (0.0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.5))
# scikit-learn: 41 C values, 0.15 decade apart, from "no feature" to "all features".
SKLEARN_CS = tuple(float(c) for c in np.logspace(-3, 3, 41))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def load_data(data_csv, splits_csv):
    """Features [N, D] float64, labels [N] int64, and {seed: {"train"|"val"|"test": row indices}}."""
    with open(data_csv, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[-1] == "target", f"{data_csv}: last column must be `target`"
    table = np.array(body, dtype=np.float64)
    x, y = table[:, :-1], table[:, -1].astype(np.int64)

    splits = {}
    with open(splits_csv, newline="") as f:
        for r in csv.DictReader(f):
            splits.setdefault(int(r["seed"]), {"train": [], "val": [], "test": []})[r["split"]].append(
                int(r["row"])
            )
    splits = {s: {k: np.array(v, dtype=np.int64) for k, v in d.items()} for s, d in splits.items()}
    return x, y, splits


def split_seed(x, y, idx):
    """The three parts of one split, standardised with the train rows' mean and std (StandardScaler)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x[idx["train"]])
    return {k: (scaler.transform(x[idx[k]]), y[idx[k]]) for k in ("train", "val", "test")}


def accuracy(pred, target):
    return float(np.mean(np.asarray(pred) == np.asarray(target)) * 100.0)


# --------------------------------------------------------------------------------------------
# Frontier (SPEC.md section 4)
# --------------------------------------------------------------------------------------------


def strength(run):
    """How strongly a run is regularised: lambda, or 1 / C for logistic regression."""
    return run["lambda"] if "lambda" in run else 1.0 / run["C"]


def frontier(runs):
    """Accuracy at a feature budget from runs with keys seed, n_selected, val_acc, test_acc."""
    by_seed = {}
    for r in runs:
        by_seed.setdefault(r["seed"], []).append(r)
    out = {}
    for k in BUDGETS:
        picks = []
        for seed in sorted(by_seed):
            ok = [r for r in by_seed[seed] if k is None or r["n_selected"] <= k]
            if ok:
                picks.append(max(ok, key=lambda r: (r["val_acc"], -r["n_selected"], strength(r))))
        test = np.array([p["test_acc"] for p in picks], dtype=np.float64)
        out["all" if k is None else str(k)] = {
            "mean": float(test.mean()) if picks else None,
            "std": float(test.std()) if picks else None,
            "features": float(np.mean([p["n_selected"] for p in picks])) if picks else None,
            "n_seeds": len(picks),
        }
    return out


def per_lambda(runs, key="lambda"):
    """Mean test accuracy and selected features per lambda (the Fig. 2 table)."""
    groups = {}
    for r in runs:
        groups.setdefault(r[key], []).append(r)
    return {
        repr(lam): {
            "test_acc": float(np.mean([r["test_acc"] for r in rs])),
            "n_selected": float(np.mean([r["n_selected"] for r in rs])),
            "epochs": float(np.mean([r["epochs"] for r in rs])) if "epochs" in rs[0] else None,
        }
        for lam, rs in sorted(groups.items())
    }


def summarise(runs, extra=None):
    """One method's JSON entry: frontier, times, runs."""
    fit_s = sum(r["fit_seconds"] for r in runs)
    epochs = sum(r.get("epochs", 0) for r in runs)
    entry = {
        "frontier": frontier(runs),
        "total_seconds": fit_s,
        "seconds_per_epoch": fit_s / epochs if epochs else None,
        "n_runs": len(runs),
    }
    entry.update(extra or {})
    entry["runs"] = runs
    return entry


# --------------------------------------------------------------------------------------------
# 1. SToG 0.1.0
# --------------------------------------------------------------------------------------------


def stog_eval(trainer, x, y):
    """Accuracy of the model as the trainer left it (SToG's evaluate(), on any split)."""
    with torch.no_grad():
        return trainer.evaluate(torch.FloatTensor(x), torch.LongTensor(y))["test_acc"]


def stog_l1_hard_masked(trainer, data, threshold=0.1):
    """L1 weights with |w| <= threshold set to exactly 0 (what SToG counts as dropped): count, accs."""
    selector = trainer.selector
    saved = selector.weights.detach().clone()
    with torch.no_grad():
        keep = saved.abs() > threshold
        selector.weights.mul_(keep.to(saved.dtype))
        accs = {k: stog_eval(trainer, *data[k]) for k in ("val", "test")}
        selector.weights.copy_(saved)
    return int(keep.sum()), accs


def run_stog(x, y, splits, seeds, lambdas, max_epochs, patience):
    """SToG's Fig. 2 sweep: its model, selectors and trainer, as its run_single_experiment, on our splits."""
    from SToG import (  # `from SToG import *` crashes (a comma is missing in its __all__)
        CorrelatedSTGLayer,
        FeatureSelectionTrainer,
        GumbelLayer,
        L1Layer,
        STELayer,
        STGLayer,
        create_classification_model,
    )

    selectors = {
        "STG": STGLayer,
        "STE": STELayer,
        "Gumbel": GumbelLayer,
        "CorrelatedSTG": CorrelatedSTGLayer,
        "L1": L1Layer,
    }
    runs = {kind: [] for kind in STOG_KINDS}
    l1_hard = []
    wall0 = time.perf_counter()
    for seed in seeds:
        data = split_seed(x, y, splits[seed])
        xt, yt = (torch.FloatTensor(data["train"][0]), torch.LongTensor(data["train"][1]))
        xv, yv = (torch.FloatTensor(data["val"][0]), torch.LongTensor(data["val"][1]))
        d = xt.shape[1]
        for kind in STOG_KINDS:
            for lam in lambdas:
                # As SToG's ComprehensiveBenchmark.run_single_experiment: seed, model, selector, trainer.
                torch.manual_seed(seed)
                np.random.seed(seed)
                model = create_classification_model(d, 2)  # 30 -> 64 -> 32 -> 2, BN, ReLU, Dropout
                selector = selectors[kind](d)
                trainer = FeatureSelectionTrainer(
                    model=model,
                    selector=selector,
                    criterion=torch.nn.CrossEntropyLoss(),
                    lambda_reg=lam,
                )
                t0 = time.perf_counter()
                trainer.fit(xt, yt, xv, yv, epochs=max_epochs, patience=patience, verbose=False)
                fit_s = time.perf_counter() - t0

                # The model as the trainer leaves it: its "restored best" is really the last epoch
                # (state_dict() aliases the live tensors), so val and test score that same state.
                xs, ys = torch.FloatTensor(data["test"][0]), torch.LongTensor(data["test"][1])
                result = trainer.evaluate(xs, ys)
                best = trainer.best_state or {}
                run = {
                    "method": f"SToG {kind}",
                    "lambda": lam,
                    "seed": seed,
                    "n_selected": int(result["selected_count"]),  # the library's own count
                    "val_acc": stog_eval(trainer, *data["val"]),
                    "test_acc": float(result["test_acc"]),
                    "fit_seconds": fit_s,
                    "epochs": len(trainer.history["val_acc"]),
                    # What the trainer claims it restored (best val epoch); not what is evaluated.
                    "library_best_val_acc": best.get("val_acc"),
                    "library_best_epoch": best.get("epoch"),
                }
                if kind == "L1":
                    n_hard, accs = stog_l1_hard_masked(trainer, data)
                    run.update(
                        n_selected_hard=n_hard,
                        val_acc_hard=accs["val"],
                        test_acc_hard=accs["test"],
                    )
                    l1_hard.append(
                        dict(
                            run,
                            method="SToG L1 hard-masked",
                            n_selected=n_hard,
                            val_acc=accs["val"],
                            test_acc=accs["test"],
                        )
                    )
                runs[kind].append(run)
        print(f"  SToG seed {seed} done ({time.perf_counter() - wall0:.1f} s)", flush=True)
    wall = time.perf_counter() - wall0

    methods = {}
    for kind in STOG_KINDS:
        name = "SToG L1 (library count |w| > 0.1)" if kind == "L1" else f"SToG {kind}"
        methods[name] = summarise(runs[kind], {"per_lambda": per_lambda(runs[kind])})
    methods["SToG L1 hard-masked"] = summarise(
        l1_hard,
        {
            "per_lambda": per_lambda(l1_hard),
            "note": "same fits as the L1 entry; |w| <= 0.1 set to 0 before scoring val and test",
        },
    )
    all_runs = [r for kind in STOG_KINDS for r in runs[kind]]
    sweep = {
        "wall_seconds": wall,
        "sum_fit_seconds": sum(r["fit_seconds"] for r in all_runs),
        "fits": len(all_runs),
        "median_fit_seconds": float(np.median([r["fit_seconds"] for r in all_runs])),
        "median_epochs": float(np.median([r["epochs"] for r in all_runs])),
        "mean_epochs": float(np.mean([r["epochs"] for r in all_runs])),
        "seconds_per_epoch": sum(r["fit_seconds"] for r in all_runs) / sum(r["epochs"] for r in all_runs),
        "max_epochs": max_epochs,
        "patience": patience,
        "lambdas": list(lambdas),
    }
    return methods, sweep


def time_stog_single_fit(x, y, splits, seed, epochs):
    """One fit of exactly `epochs` epochs (STG, lambda 0.01, early stopping off): seconds per epoch."""
    from SToG import FeatureSelectionTrainer, STGLayer, create_classification_model

    data = split_seed(x, y, splits[seed])
    xt, yt = torch.FloatTensor(data["train"][0]), torch.LongTensor(data["train"][1])
    xv, yv = torch.FloatTensor(data["val"][0]), torch.LongTensor(data["val"][1])
    torch.manual_seed(seed)
    trainer = FeatureSelectionTrainer(
        create_classification_model(xt.shape[1], 2),
        STGLayer(xt.shape[1]),
        torch.nn.CrossEntropyLoss(),
        lambda_reg=0.01,
    )
    t0 = time.perf_counter()
    trainer.fit(xt, yt, xv, yv, epochs=epochs, patience=10**9, verbose=False)
    fit_s = time.perf_counter() - t0
    n = len(trainer.history["val_acc"])
    return {
        "gate": "STG",
        "lambda": 0.01,
        "seed": seed,
        "epochs": n,
        "fit_seconds": fit_s,
        "seconds_per_epoch": fit_s / n,
    }


# --------------------------------------------------------------------------------------------
# 2. official stg 0.1.2
# --------------------------------------------------------------------------------------------


def run_official_stg(x, y, splits, seeds, lambdas, epochs):
    """Official STG with its classification example's configuration; no early stopping (it has none)."""
    from stg.stg import STG  # the package __init__ is empty: `from stg import STG` fails

    runs = []
    for seed in seeds:
        data = split_seed(x, y, splits[seed])
        (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
        for lam in lambdas:
            torch.manual_seed(seed)  # STG ignores its random_state; its init draws from torch's RNG
            np.random.seed(seed)
            model = STG(
                device="cpu",
                task_type="classification",
                input_dim=xt.shape[1],
                output_dim=2,
                hidden_dims=[60, 20],
                activation="tanh",
                optimizer="SGD",
                learning_rate=0.1,
                batch_size=xt.shape[0],  # full batch
                feature_selection=True,
                sigma=0.5,
                lam=lam,
                random_state=seed,
            )
            t0 = time.perf_counter()
            model.fit(xt.astype(np.float32), yt, nr_epochs=epochs, verbose=False, shuffle=False)
            fit_s = time.perf_counter() - t0
            # Inference gate clamp(mu + 0.5, 0, 1): a feature is used iff it is > 0.
            gates = model.get_gates(mode="prob")
            runs.append(
                {
                    "method": "stg 0.1.2",
                    "lambda": lam,
                    "seed": seed,
                    "n_selected": int(np.sum(gates > 0)),
                    "n_selected_prob_gt_half": int(np.sum(gates > 0.5)),
                    "val_acc": accuracy(model.predict(xv.astype(np.float32)), yv),
                    "test_acc": accuracy(model.predict(xs.astype(np.float32)), ys),
                    "fit_seconds": fit_s,
                    "epochs": epochs,
                }
            )
        print(f"  stg seed {seed} done", flush=True)
    return summarise(
        runs,
        {
            "per_lambda": per_lambda(runs),
            "config": {
                "hidden_dims": [60, 20],
                "activation": "tanh",
                "optimizer": "SGD",
                "learning_rate": 0.1,
                "batch": "full",
                "sigma": 0.5,
                "epochs": epochs,
                "lambdas": list(lambdas),
                "penalty": "mean over features (stg's convention)",
            },
        },
    )


# --------------------------------------------------------------------------------------------
# 3. LassoNet
# --------------------------------------------------------------------------------------------


def run_lassonet(x, y, splits, seeds, path_multiplier, early_stop_on_val):
    """LassoNet's full lambda path per seed, every path point scored on our val and test splits.

    With its defaults, LassoNet early-stops each path point on a random 10 % of the rows it is given
    (val_size=0.1, split with random_state); `early_stop_on_val` passes our validation split instead.
    """
    from lassonet import LassoNetClassifier

    runs, points, path_s = [], [], []
    for seed in seeds:
        data = split_seed(x, y, splits[seed])
        (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
        clf = LassoNetClassifier(
            path_multiplier=path_multiplier,
            device=torch.device("cpu"),
            verbose=0,
            random_state=seed,
            torch_seed=seed,
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "lambda_start might be too large"
            if early_stop_on_val:
                path = clf.path(xt, yt, X_val=xv, y_val=yv, return_state_dicts=True)
            else:
                path = clf.path(xt, yt, return_state_dicts=True)
        fit_s = time.perf_counter() - t0
        path_s.append(fit_s)
        points.append(len(path))
        for i, item in enumerate(path):
            clf.load(item.state_dict)
            runs.append(
                {
                    "method": "LassoNet",
                    "lambda": float(item.lambda_),
                    "path_index": i,
                    "seed": seed,
                    "n_selected": int(item.selected.sum()),
                    "val_acc": accuracy(clf.predict(xv), yv),
                    "test_acc": accuracy(clf.predict(xs), ys),
                    # The whole path is one fit: its time is charged to the first point.
                    "fit_seconds": fit_s if i == 0 else 0.0,
                    "epochs": int(item.n_iters),
                }
            )
        print(f"  LassoNet seed {seed}: {len(path)} points, {fit_s:.1f} s", flush=True)
    return summarise(
        runs,
        {
            "path_points": points,
            "seconds_per_path": float(np.mean(path_s)),
            "path_multiplier": path_multiplier,
            "early_stopping": "our val split" if early_stop_on_val else "its own 10 % of train",
        },
    )


# --------------------------------------------------------------------------------------------
# 4. scikit-learn L1 logistic regression
# --------------------------------------------------------------------------------------------


def run_sklearn_l1(x, y, splits, seeds, cs):
    """L1-penalised logistic regression (liblinear) over a grid of C; a feature is used iff its coef != 0."""
    from sklearn.linear_model import LogisticRegression

    runs = []
    for seed in seeds:
        data = split_seed(x, y, splits[seed])
        (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
        for c in cs:
            # sklearn >= 1.8 deprecates penalty="l1": l1_ratio=1 is the pure L1 penalty.
            clf = LogisticRegression(
                C=c, l1_ratio=1.0, solver="liblinear", max_iter=10_000, random_state=seed
            )
            t0 = time.perf_counter()
            clf.fit(xt, yt)
            fit_s = time.perf_counter() - t0
            runs.append(
                {
                    "method": "L1 logistic regression",
                    "C": c,
                    "seed": seed,
                    "n_selected": int(np.sum(np.any(clf.coef_ != 0, axis=0))),
                    "val_acc": accuracy(clf.predict(xv), yv),
                    "test_acc": accuracy(clf.predict(xs), ys),
                    "fit_seconds": fit_s,
                }
            )
    return summarise(runs, {"per_C": per_lambda(runs, key="C")})


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def versions():
    out = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
    try:
        from importlib.metadata import version

        for dist in ("stog", "stg", "lassonet", "scikit-learn"):
            try:
                out[dist] = version(dist)
            except Exception:
                out[dist] = None
    except ImportError:
        pass
    return out


def print_table(methods):
    keys = ("3", "5", "10", "15", "all")
    print(f"\n{'method':<36}" + "".join(f"{'<= ' + k if k != 'all' else 'no budget':>22}" for k in keys))
    for name, m in methods.items():
        cells = []
        for k in keys:
            f = m["frontier"][k]
            ok = f["mean"] is not None
            cells.append(f"{f['mean']:6.1f} +- {f['std']:4.1f} ({f['features']:4.1f})" if ok else "-")
        print(f"{name:<36}" + "".join(f"{c:>22}" for c in cells))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--seeds", type=int, default=None, help="use seeds 0..N-1 (default 10; 2 with --quick)")
    p.add_argument("--quick", action="store_true", help="2 seeds and fewer epochs: a smoke test")
    p.add_argument(
        "--methods",
        default="stog,stg,lassonet,sklearn",
        help="comma list among stog, stg, lassonet, sklearn (default: all)",
    )
    p.add_argument("--data", default=str(ROOT / "data" / "breast_cancer.csv"))
    p.add_argument("--splits", default=str(ROOT / "data" / "splits_breast_cancer.csv"))
    p.add_argument("--stog-epochs", type=int, help="SToG max epochs (default 300; 120 with --quick)")
    p.add_argument("--stog-patience", type=int, default=50)
    p.add_argument(
        "--stog-lambdas",
        default=",".join(map(str, STOG_LAMBDAS)),
        help="SToG lambda grid (default: Fig. 2's 7 values; add 0.02,0.03,0.04 for the fine grid)",
    )
    p.add_argument("--stg-epochs", type=int, help="official stg epochs (default 5000; 500 with --quick)")
    p.add_argument(
        "--stg-lambdas",
        default=",".join(f"{v:g}" for v in STG_LAMBDAS),
        help="official stg's `lam` grid (mean convention; default: SPEC's 9 values x 30)",
    )
    p.add_argument(
        "--lassonet-path-multiplier",
        type=float,
        default=None,
        help="LassoNet path_multiplier (default 1.02, its own; 1.1 with --quick)",
    )
    p.add_argument(
        "--lassonet-val",
        action="store_true",
        help="early-stop LassoNet's path points on our val split (default: its own 10 %% of train)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1, as BASELINES.md; 0 keeps torch's default threading)",
    )
    args = p.parse_args(argv)

    n_seeds = args.seeds if args.seeds is not None else (2 if args.quick else 10)
    stog_epochs = args.stog_epochs or (120 if args.quick else 300)
    stg_epochs = args.stg_epochs or (500 if args.quick else 5000)
    multiplier = args.lassonet_path_multiplier or (1.1 if args.quick else 1.02)
    stog_lambdas = tuple(float(v) for v in args.stog_lambdas.split(","))
    stg_lambdas = tuple(float(v) for v in args.stg_lambdas.split(","))
    wanted = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(wanted) - {"stog", "stg", "lassonet", "sklearn"}
    if unknown:
        p.error(f"unknown method(s): {', '.join(sorted(unknown))}")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)  # stg's nn.Softmax() without dim
    x, y, splits = load_data(args.data, args.splits)
    seeds = sorted(splits)[:n_seeds]

    result = {
        "methods": {},
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "versions": versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "seeds": seeds,
        "quick": args.quick,
        "frontier_rule": "per seed, among runs with n_selected <= k, best val_acc (ties: fewer "
        "features, then larger lambda / smaller C); mean/std (ddof=0) of test_acc over seeds; "
        "accuracies in %",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save():  # after every method, so a long run keeps what it has measured
        out.write_text(json.dumps(result, indent=1) + "\n")

    if "stog" in wanted:
        print(f"SToG 0.1.0: {len(STOG_KINDS)} gates x {len(stog_lambdas)} lambdas x {len(seeds)} seeds")
        methods, sweep = run_stog(x, y, splits, seeds, stog_lambdas, stog_epochs, args.stog_patience)
        result["methods"].update(methods)
        result["stog_sweep"] = sweep
        result["stog_single_fit"] = time_stog_single_fit(x, y, splits, seeds[0], stog_epochs)
        save()
    if "stg" in wanted:
        print(f"official stg 0.1.2: {stg_epochs} epochs")
        result["methods"]["stg 0.1.2"] = run_official_stg(x, y, splits, seeds, stg_lambdas, stg_epochs)
        save()
    if "lassonet" in wanted:
        print("LassoNet: full path")
        result["methods"]["LassoNet"] = run_lassonet(x, y, splits, seeds, multiplier, args.lassonet_val)
        save()
    if "sklearn" in wanted:
        print("scikit-learn L1 logistic regression")
        result["methods"]["L1 logistic regression"] = run_sklearn_l1(x, y, splits, seeds, SKLEARN_CS)
        save()

    print_table(result["methods"])
    if "stog_sweep" in result:
        s, one = result["stog_sweep"], result["stog_single_fit"]
        print(
            f"\nSToG sweep: {s['fits']} fits, wall {s['wall_seconds']:.1f} s, "
            f"sum of fits {s['sum_fit_seconds']:.1f} s, median fit {s['median_fit_seconds']:.3f} s, "
            f"median {s['median_epochs']:.0f} epochs, {s['seconds_per_epoch'] * 1e3:.2f} ms/epoch; "
            f"one {one['epochs']}-epoch fit {one['seconds_per_epoch'] * 1e3:.2f} ms/epoch"
        )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
