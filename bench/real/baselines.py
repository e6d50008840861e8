#!/usr/bin/env python3
"""The Python baselines of `make bench-real`, on the sets written by `datasets.py`.

Per set and split (StandardScaler fitted on the train rows; the same train / val / test rows as
stog):

  l1            classification: L1 logistic regression (liblinear; one-vs-rest for more than two
                classes) over a grid of C log-spaced from sklearn's l1_min_c (no feature) up 10^5
                times that (10^3 on sets of more than 100 features), plus 8 C values inside the
                grid step where the number of features passes K; regression: Lasso
                (lasso_path, 100 alphas from alpha_max down to 1e-4 of it).
                Fitted on the training rows, chosen by validation accuracy / R2 (ties: fewer
                features), and again within the set's budget K (the best validation point with
                <= K features).
  l1_cv         the same models as a user would run them on the training + validation rows
                together (scikit-learn's LogisticRegressionCV / LassoCV pattern): C (alpha)
                chosen by 5-fold cross-validation over those rows (stratified for
                classification, shuffled with the split's seed; the mean held-out log-loss or
                squared error, as stog's default criterion), then refitted on all of them. The
                same C grid as l1 (of these rows), one C for every class; LassoCV with 100
                alphas. No budget row. An assertion checks on every split that the final model
                is the fit on the training + validation rows (check_refit).
  lassonet      LassoNetClassifier / LassoNetRegressor `.path` with its defaults, early stopping on
                our validation rows (X_val / y_val); every path point is scored on val and test,
                chosen like l1 (no budget, and <= K). Skipped, with the reason recorded, on a set
                whose first split's path does not finish in --lassonet-timeout CPU seconds.
  extra_trees   the downstream model alone on all features (ExtraTrees, 500 trees, random_state 0).

Every selection row also has `extra_trees_test`: the same ExtraTrees trained on the train rows
restricted to the selected features and scored on test (the protocol of the LassoNet paper,
Table 2). Scores: test accuracy in % or R2, and for l1 / l1_cv classification the test log-loss
and (two classes) AUC of the predicted probabilities. `seconds`: wall clock of the whole grid /
path / cross-validation of that split (what choosing costs), not counting the ExtraTrees;
`cpu_seconds`: the CPU time of the same (user + system, all threads).

Writes OUT/python/{l1,l1_cv,lassonet,extra_trees}.json, one row per set, split and budget:
{set, seed, method, budget, test_score, val_score, n_features, seconds, cpu_seconds, selected,
extra_trees_test, and where scored test_log_loss, test_auc, C / alpha / lambda, fit_rows}.

Usage: python bench/real/baselines.py [--methods l1,l1_cv,lassonet,extra_trees] [--sets a,b]
  env: BENCH_REAL_OUT, BENCH_REAL_SETS, BENCH_REAL_QUICK=1 (first split, coarser grids)
"""

import argparse
import os
import sys
import time
import warnings
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
    quick,
    score,
    seeds_to_run,
    selected_sets,
    write_rows,
)


def scaled(x, split):
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(x[split["train"]])
    return {part: sc.transform(x[rows]) for part, rows in split.items()}


def pick(points, budget=None):
    """The best validation point (ties: fewer features, then the earlier = more regularised)."""
    ok = [p for p in points if budget is None or p["n_features"] <= budget]
    if not ok:
        return None
    return max(ok, key=lambda p: (p["val_score"], -p["n_features"], -p["index"]))


def cpu_seconds():
    """CPU time of this process, all threads (user + system): unlike wall time, it does not grow
    when other jobs share the cores."""
    return time.process_time()


def rows_from_points(name, seed, method, points, seconds, x, y, split, task, k, cpu):
    rows = []
    for budget in (None, k):
        best = pick(points, budget)
        if best is None:
            continue
        rows.append(
            {
                "set": name,
                "seed": seed,
                "method": method,
                "budget": budget,
                "test_score": best["test_score"],
                "val_score": best["val_score"],
                "n_features": best["n_features"],
                "seconds": seconds,
                "cpu_seconds": cpu,
                "selected": best["selected"],
                "extra_trees_test": extra_trees_test(x, y, split, best["selected"], task),
                **{
                    key: best[key]
                    for key in ("C", "alpha", "lambda", "test_log_loss", "test_auc")
                    if key in best
                },
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# L1 logistic regression / Lasso
# --------------------------------------------------------------------------------------------


def c_grid(x, y, n_grid):
    """n_grid values of C log-spaced from l1_min_c (no feature) up 5 decades on narrow sets (where
    that reaches about all features) and 3 on wide ones: past 10^3 x l1_min_c liblinear can take
    minutes per fit (MNIST: 1.4 s at 3000 x, > 280 s at 10^4 x) for a point validation never
    picks."""
    from sklearn.svm import l1_min_c

    c_min = l1_min_c(x, y, loss="log")
    return c_min * np.logspace(0, 5 if x.shape[1] <= 100 else 3, n_grid)


def l1_logistic(c, multi):
    """L1 logistic regression (liblinear) at C = c; one-vs-rest for more than two classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    # sklearn >= 1.8 deprecates penalty="l1": l1_ratio=1 is the pure L1 penalty.
    base = LogisticRegression(
        C=float(c), l1_ratio=1.0, solver="liblinear", max_iter=10_000, random_state=0
    )
    # One class after the other: liblinear draws from one global C rand() state, so classes
    # fitted in parallel threads give different coefficients from run to run.
    return OneVsRestClassifier(base, n_jobs=1) if multi else base


def l1_coef(clf):
    """The coefficients [classes or 1, features] of a fitted l1_logistic."""
    if hasattr(clf, "estimators_"):
        return np.vstack([e.coef_ for e in clf.estimators_])
    return np.asarray(clf.coef_)


def l1_selected(clf):
    """Columns with a nonzero coefficient for some class."""
    return np.flatnonzero(np.any(l1_coef(clf) != 0, axis=0))


def l1_points(xs, y, split, task, n_grid, budget=None):
    """Every grid point: val / test score, selected columns."""
    yt, yv, ye = y[split["train"]], y[split["val"]], y[split["test"]]
    points = []
    if task == "regression":
        from sklearn.linear_model import lasso_path

        mu = yt.mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alphas, coefs, _ = lasso_path(xs["train"], yt - mu, n_alphas=n_grid, eps=1e-4)
        for i, (a, w) in enumerate(zip(alphas, coefs.T)):
            sel = np.flatnonzero(w != 0)
            points.append(
                {
                    "index": i,
                    "alpha": float(a),
                    "val_score": score(task, yv, xs["val"] @ w + mu),
                    "test_score": score(task, ye, xs["test"] @ w + mu),
                    "n_features": int(sel.size),
                    "selected": sel.tolist(),
                }
            )
        return points

    cs = c_grid(xs["train"], yt, n_grid)

    def fit_point(index, c):
        clf = l1_logistic(c, len(np.unique(yt)) > 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at the largest C
            clf.fit(xs["train"], yt)
        sel = l1_selected(clf)
        return {
            "index": index,
            "C": float(c),
            "val_score": score(task, yv, clf.predict(xs["val"])),
            "test_score": score(task, ye, clf.predict(xs["test"])),
            **proba_scores(ye, clf.predict_proba(xs["test"]), clf.classes_),
            "n_features": int(sel.size),
            "selected": sel.tolist(),
        }

    points = [fit_point(i, c) for i, c in enumerate(cs)]
    # The budget: one-vs-rest adds the features of every class at once, so one grid step can jump
    # from well under K to well over it (MNIST: 24 then more than 50 of 784). 8 more C values
    # log-spaced inside that step give the "<= K" row a point close to K.
    if budget is not None:
        under = [p for p in points if p["n_features"] <= budget]
        if under and under[-1]["index"] + 1 < len(points):
            i = under[-1]["index"]
            extra = np.logspace(np.log10(cs[i]), np.log10(cs[i + 1]), 10)[1:-1]
            points += [fit_point(i + (j + 1) / 10, c) for j, c in enumerate(extra)]
    return points


def run_l1(name, x, y, splits, log):
    task, k = SETS[name]["task"], SETS[name]["k"]
    n_grid = (20 if quick() else 30) if task == "classification" else (30 if quick() else 100)
    rows = []
    for seed in seeds_to_run(splits):
        split = splits[seed]
        xs = scaled(x, split)
        t0, c0 = time.perf_counter(), cpu_seconds()
        points = l1_points(xs, y, split, task, n_grid, k)
        secs, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        method = "Lasso" if task == "regression" else "L1 logistic"
        r = rows_from_points(name, seed, method, points, secs, x, y, split, task, k, cpu)
        rows += r
        log(
            f"  {name} seed {seed}: {method} {len(points)} points in {secs:.1f} s "
            f"({cpu:.1f} s CPU); "
            + "; ".join(
                f"{'<=' + str(q['budget']) if q['budget'] else 'best'}: "
                f"{q['test_score']:.3f} with {q['n_features']} (ET {q['extra_trees_test']:.3f})"
                for q in r
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# L1 logistic / Lasso with C (alpha) chosen by 5-fold cross-validation, refitted
# --------------------------------------------------------------------------------------------

CV_FOLDS = 5


def l1_cv_fit(x, y, split, task, seed, n_grid):
    """The peer a user would run on training + validation rows (scikit-learn's
    LogisticRegressionCV / LassoCV pattern): StandardScaler fitted on those rows; C (alpha) chosen
    by 5-fold cross-validation over them (stratified for classification, shuffled with the split's
    seed), by the mean held-out log-loss (squared error for Lasso), as stog's default criterion;
    then refitted on all of them at that C and scored on the test rows.

    Classification is GridSearchCV over the l1 grid (c_grid of these rows) of the same liblinear
    model as the holdout peer, one C for every class as LogisticRegressionCV does (whose liblinear
    refuses more than two classes); regression is LassoCV (100 alphas down to 1e-4 of alpha_max).
    Returns (fitted model, its selected columns, chosen C or alpha, test predictions, test
    probabilities or None, rows fitted)."""
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    rows = np.concatenate([split["train"], split["val"]])
    sc = StandardScaler().fit(x[rows])
    xf, xe, yf = sc.transform(x[rows]), sc.transform(x[split["test"]]), y[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings at the largest C / smallest alpha
        if task == "regression":
            cv = KFold(CV_FOLDS, shuffle=True, random_state=seed)
            model = LassoCV(alphas=n_grid, eps=1e-4, cv=cv, max_iter=10_000).fit(xf, yf)
            sel = np.flatnonzero(model.coef_ != 0)
            return model, sel, float(model.alpha_), model.predict(xe), None, len(rows)
        multi = len(np.unique(yf)) > 2
        key = "estimator__C" if multi else "C"
        cv = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
        search = GridSearchCV(
            l1_logistic(1.0, multi),
            {key: list(c_grid(xf, yf, n_grid))},
            scoring="neg_log_loss",
            cv=cv,
            refit=True,
            n_jobs=1,
        ).fit(xf, yf)
    model = search.best_estimator_
    c = float(search.best_params_[key])
    return model, l1_selected(model), c, model.predict(xe), model.predict_proba(xe), len(rows)


def check_refit(model, x, y, split, task, c):
    """The CV peer's final model is the fit at the chosen C on the training + validation rows:
    refitting it here from scratch on those rows gives the same coefficients, and a fit on the
    training rows alone gives other ones (an assertion, run on every split)."""
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    def coef_on(rows):
        xf = StandardScaler().fit_transform(x[rows])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if task == "regression":
                return Lasso(alpha=c, max_iter=10_000).fit(xf, y[rows]).coef_
            return l1_coef(l1_logistic(c, len(np.unique(y[rows])) > 2).fit(xf, y[rows]))

    mine = model.coef_ if task == "regression" else l1_coef(model)
    both = coef_on(np.concatenate([split["train"], split["val"]]))
    scale = max(1e-12, float(np.abs(both).max()))
    assert np.allclose(mine, both, rtol=0, atol=1e-4 * scale), "CV peer: not the train+val refit"
    if np.any(both != 0):
        train_only = coef_on(split["train"])
        assert not np.allclose(mine, train_only, rtol=0, atol=1e-4 * scale), (
            "CV peer: the same coefficients as a fit on the training rows alone"
        )


def run_l1_cv(name, x, y, splits, log):
    task = SETS[name]["task"]
    n_grid = (20 if quick() else 30) if task == "classification" else (30 if quick() else 100)
    method = "Lasso, 5-fold CV" if task == "regression" else "L1 logistic, 5-fold CV"
    rows = []
    for seed in seeds_to_run(splits):
        split = splits[seed]
        t0, c0 = time.perf_counter(), cpu_seconds()
        model, sel, c, pred, proba, n_fit = l1_cv_fit(x, y, split, task, seed, n_grid)
        secs, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        check_refit(model, x, y, split, task, c)
        ye = y[split["test"]]
        row = {
            "set": name,
            "seed": seed,
            "method": method,
            "budget": None,
            "test_score": score(task, ye, pred),
            "val_score": None,
            "n_features": int(sel.size),
            "seconds": secs,
            "cpu_seconds": cpu,
            "selected": sel.tolist(),
            "extra_trees_test": extra_trees_test(x, y, split, sel, task),
            "fit_rows": n_fit,
            ("alpha" if task == "regression" else "C"): c,
        }
        if proba is not None:
            row.update(proba_scores(ye, proba, model.classes_))
        rows.append(row)
        extra = "" if proba is None else f", log-loss {row['test_log_loss']:.4f}"
        log(
            f"  {name} seed {seed}: {method} on {n_fit} rows in {secs:.1f} s ({cpu:.1f} s CPU): "
            f"{row['test_score']:.3f}{extra} with {sel.size} (ET {row['extra_trees_test']:.3f})"
        )
    return rows


# --------------------------------------------------------------------------------------------
# LassoNet
# --------------------------------------------------------------------------------------------


class PathTimeout(Exception):
    pass


def lassonet_points(xs, y, split, task, seed, deadline):
    import torch
    from lassonet import LassoNetClassifier, LassoNetRegressor

    yt, yv, ye = y[split["train"]], y[split["val"]], y[split["test"]]
    if task == "regression":
        # LassoNetRegressor diverges on an unscaled target (diabetes: inf loss): standardise it
        # with the train rows' mean and sd (R2 is the same in either unit).
        mu, sd = yt.mean(), yt.std()
        yt, yv, ye = (yt - mu) / sd, (yv - mu) / sd, (ye - mu) / sd
    cls = LassoNetClassifier if task == "classification" else LassoNetRegressor
    # Its defaults (path_multiplier 1.02); BENCH_REAL_QUICK=1: 1.1, a coarser path.
    model = cls(
        device=torch.device("cpu"),
        verbose=0,
        random_state=seed,
        torch_seed=seed,
        path_multiplier=1.1 if quick() else 1.02,
    )

    def callback(_model, _history):
        if cpu_seconds() > deadline:
            raise PathTimeout()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lambda_start might be too large"
        path = model.path(
            xs["train"],
            yt,
            X_val=xs["val"],
            y_val=yv,
            return_state_dicts=True,
            callback=callback,
        )
    points = []
    for i, item in enumerate(path):
        model.load(item.state_dict)
        sel = np.flatnonzero(item.selected.cpu().numpy())
        pv = np.asarray(model.predict(xs["val"])).reshape(-1)
        pt = np.asarray(model.predict(xs["test"])).reshape(-1)
        points.append(
            {
                "index": i,
                "lambda": float(item.lambda_),
                "val_score": score(task, yv, pv),
                "test_score": score(task, ye, pt),
                "n_features": int(sel.size),
                "selected": sel.tolist(),
            }
        )
    return points


def run_lassonet(name, x, y, splits, log, timeout):
    import torch

    # One thread: LassoNet's small network gains nothing from more on 2 shared cores.
    torch.set_num_threads(1)
    task, k = SETS[name]["task"], SETS[name]["k"]
    rows = []
    for seed in seeds_to_run(splits):
        split = splits[seed]
        xs = scaled(x, split)
        t0, c0 = time.perf_counter(), cpu_seconds()
        try:
            points = lassonet_points(xs, y, split, task, seed, c0 + timeout)
        except PathTimeout:
            reason = f"its path on split {seed} had not finished after {timeout:.0f} CPU seconds"
            log(f"  {name} seed {seed}: LassoNet skipped ({reason})")
            return rows, reason
        secs, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        r = rows_from_points(name, seed, "LassoNet", points, secs, x, y, split, task, k, cpu)
        rows += r
        log(
            f"  {name} seed {seed}: LassoNet {len(points)} path points in {secs:.1f} s "
            f"({cpu:.1f} s CPU); "
            + "; ".join(
                f"{'<=' + str(q['budget']) if q['budget'] else 'best'}: "
                f"{q['test_score']:.3f} with {q['n_features']} (ET {q['extra_trees_test']:.3f})"
                for q in r
            )
        )
    return rows, None


# --------------------------------------------------------------------------------------------
# ExtraTrees on all features
# --------------------------------------------------------------------------------------------


def run_extra_trees(name, x, y, splits, log):
    task = SETS[name]["task"]
    rows = []
    for seed in seeds_to_run(splits):
        t0, c0 = time.perf_counter(), cpu_seconds()
        s = extra_trees_test(x, y, splits[seed], None, task)
        secs, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        rows.append(
            {
                "set": name,
                "seed": seed,
                "method": "ExtraTrees, all features",
                "budget": None,
                "test_score": s,
                "val_score": None,
                "n_features": int(x.shape[1]),
                "seconds": secs,
                "cpu_seconds": cpu,
                "selected": None,
                "extra_trees_test": s,
            }
        )
        log(f"  {name} seed {seed}: ExtraTrees on all {x.shape[1]} features {s:.3f} ({secs:.1f} s)")
    return rows


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("scikit-learn", "lassonet", "torch", "numpy", "mlxtend"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", default="l1,l1_cv,lassonet,extra_trees")
    ap.add_argument("--sets", default=None)
    ap.add_argument("--out", type=Path, default=None, help="default BENCH_REAL_OUT")
    ap.add_argument(
        "--lassonet-timeout",
        type=float,
        default=float(os.environ.get("BENCH_REAL_LASSONET_TIMEOUT", "150")),
        help="CPU seconds one split's LassoNet path may take before the set is skipped "
        "(default 150)",
    )
    args = ap.parse_args()
    out = args.out or out_root()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]

    def log(msg):
        print(msg, flush=True)

    # Method by method over the sets (the cheap ones first, LassoNet last): an interrupted run
    # still has L1 / Lasso and ExtraTrees everywhere.
    cache = {}

    def data(name):
        if name not in cache:
            cache[name] = load_set(name, out / "data")
            x = cache[name][0]
            log(f"== {name}: {x.shape[0]} x {x.shape[1]}, seeds {seeds_to_run(cache[name][3])}")
        return cache[name]

    common = {"versions": versions(), "quick": quick()}
    order = [m for m in ("l1", "l1_cv", "extra_trees", "lassonet") if m in methods]
    for method in order:
        names = selected_sets(args.sets)
        if method == "lassonet":  # smallest first: the slow paths come last
            names.sort(key=lambda n: data(n)[0].size)
        for name in names:
            x, y, _, splits, _ = data(name)
            if method == "l1":
                rows = run_l1(name, x, y, splits, log)
                write_rows(out / "python" / "l1.json", "L1 logistic / Lasso", rows, [name], **common)
            elif method == "l1_cv":
                rows = run_l1_cv(name, x, y, splits, log)
                write_rows(
                    out / "python" / "l1_cv.json",
                    "L1 logistic / Lasso, 5-fold CV",
                    rows,
                    [name],
                    **common,
                )
            elif method == "extra_trees":
                rows = run_extra_trees(name, x, y, splits, log)
                write_rows(
                    out / "python" / "extra_trees.json", "ExtraTrees", rows, [name], **common
                )
            else:
                rows, reason = run_lassonet(name, x, y, splits, log, args.lassonet_timeout)
                write_rows(
                    out / "python" / "lassonet.json",
                    "LassoNet",
                    rows if not reason else [],
                    [name],
                    skipped={name: reason} if reason else {},
                    **common,
                )

if __name__ == "__main__":
    main()
