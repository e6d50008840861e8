"""The Python figures of docs/results.md: the estimators at their defaults on breast cancer and
diabetes, on the splits the other rows of that page use.

    PYTHONPATH=python python python/examples/results.py [PART ...] > results.md

Parts (all by default):
  splits    StogClassifier, and with max_features=5, on the 10 reference splits of
            data/splits_breast_cancer.csv (the LassoNet and L1 rows of Fig. 2): fitted on the
            training + validation rows, scored on the test rows; wall and CPU seconds per fit
  grid      Pipeline([StandardScaler(), StogSelector(), LogisticRegression()]) under
            GridSearchCV over max_features 3, 5, 10 (5 folds) on split 0's training +
            validation rows, scored on its test rows
  cv        cross_val_score(StogClassifier(), breast cancer, cv=5)
  diabetes  StogRegressor (and max_features=5) on the 20 diabetes splits of make bench-real
  pickle    StogSelector(max_features=5) fitted on the breast-cancer DataFrame: the kept column
            names, and a pickled copy's transform compared with the original's
"""

import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from stog import StogClassifier, StogRegressor, StogSelector

ROOT = Path(__file__).resolve().parents[2]


def breast_cancer():
    frame = pd.read_csv(ROOT / "data" / "breast_cancer.csv")
    return frame.drop(columns="target"), frame["target"].to_numpy()


def reference_splits():
    """{seed: {"train": rows, "val": rows, "test": rows}} of data/splits_breast_cancer.csv."""
    s = pd.read_csv(ROOT / "data" / "splits_breast_cancer.csv")
    return {
        int(seed): {
            part: g[g["split"] == part]["row"].to_numpy() for part in ("train", "val", "test")
        }
        for seed, g in s.groupby("seed")
    }


def timed(fit):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fit()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def mean_sd(v):
    v = np.asarray(v, dtype=float)
    return f"{v.mean():.4g} +- {v.std(ddof=1) if len(v) > 1 else 0:.2g}"


def part_splits():
    X, y = breast_cancer()
    print("## StogClassifier on the 10 reference splits of breast cancer\n")
    print("| estimator | split | test accuracy % | features | wall s | CPU s |")
    print("|---|---|---|---|---|---|")
    rows = {}
    for name, make in [
        ("StogClassifier()", lambda: StogClassifier()),
        ("StogClassifier(max_features=5)", lambda: StogClassifier(max_features=5)),
    ]:
        for seed, parts in reference_splits().items():
            fit_rows = np.sort(np.r_[parts["train"], parts["val"]])
            clf, wall, cpu = timed(lambda: make().fit(X.iloc[fit_rows], y[fit_rows]))
            acc = 100 * clf.score(X.iloc[parts["test"]], y[parts["test"]])
            rows.setdefault(name, []).append((acc, clf.n_selected_, wall, cpu))
            print(
                f"| {name} | {seed} | {acc:.1f} | {clf.n_selected_} | {wall:.1f} | {cpu:.1f} |",
                flush=True,
            )
    print("\n| estimator | test accuracy % | features | wall s per fit | CPU s per fit |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        a, k, w, c = zip(*r)
        print(f"| {name} | {mean_sd(a)} | {np.mean(k):.1f} | {np.mean(w):.1f} | {np.mean(c):.1f} |")
    print()


def part_grid():
    X, y = breast_cancer()
    parts = reference_splits()[0]
    fit_rows = np.sort(np.r_[parts["train"], parts["val"]])
    pipe = Pipeline(
        [("scale", StandardScaler()), ("sel", StogSelector()), ("clf", LogisticRegression())]
    )
    search = GridSearchCV(pipe, {"sel__max_features": [3, 5, 10]}, cv=5)
    _, wall, cpu = timed(lambda: search.fit(X.iloc[fit_rows], y[fit_rows]))
    acc = 100 * search.score(X.iloc[parts["test"]], y[parts["test"]])
    sel = search.best_estimator_["sel"]
    names = search.best_estimator_[:-1].get_feature_names_out()  # through the scaler
    print("## Pipeline with StogSelector under GridSearchCV (split 0)\n")
    print(
        f"- best max_features: {search.best_params_['sel__max_features']}, "
        f"CV accuracy per value: {(100 * search.cv_results_['mean_test_score']).round(1).tolist()}"
    )
    print(f"- held-out accuracy: {acc:.1f} % with {sel.n_selected_} features: {', '.join(names)}")
    print(
        f"- 16 selector fits (15 in the search, 1 refit): {wall:.0f} s wall, {cpu:.0f} s CPU\n",
        flush=True,
    )


def part_cv():
    X, y = breast_cancer()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores, wall, cpu = timed(lambda: cross_val_score(StogClassifier(), X, y, cv=cv))
    print("## cross_val_score(StogClassifier(), breast cancer, 5 folds)\n")
    print(
        f"- accuracy per fold: {(100 * scores).round(1).tolist()}, mean {100 * scores.mean():.1f} %"
    )
    print(f"- {wall / 5:.1f} s wall, {cpu / 5:.1f} s CPU per fit\n", flush=True)


def part_diabetes():
    sys.path.insert(0, str(ROOT / "bench" / "real"))
    from datasets import stratified_split  # the splits of make bench-real

    d = load_diabetes(scaled=False)
    X = pd.DataFrame(d.data, columns=d.feature_names)
    y = d.target
    n_val = n_test = int(round(0.2 * len(y)))
    print("## StogRegressor on the 20 diabetes splits of make bench-real\n")
    print("| estimator | test R2 | features | wall s per fit | CPU s per fit |")
    print("|---|---|---|---|---|")
    for name, make in [
        ("StogRegressor()", lambda: StogRegressor()),
        ("StogRegressor(max_features=5)", lambda: StogRegressor(max_features=5)),
    ]:
        r = []
        for seed in range(20):
            parts = stratified_split(y, n_val, n_test, seed, "regression")
            fit_rows = np.sort(np.r_[parts["train"], parts["val"]])
            reg, wall, cpu = timed(lambda: make().fit(X.iloc[fit_rows], y[fit_rows]))
            r.append(
                (reg.score(X.iloc[parts["test"]], y[parts["test"]]), reg.n_selected_, wall, cpu)
            )
        s, k, w, c = zip(*r)
        print(
            f"| {name} | {mean_sd(s)} | {np.mean(k):.1f} | {np.mean(w):.1f} | {np.mean(c):.1f} |",
            flush=True,
        )
    print()


def part_pickle():
    X, y = breast_cancer()
    sel = StogSelector(max_features=5).fit(X, y)
    back = pickle.loads(pickle.dumps(sel))
    same = np.array_equal(back.transform(X), sel.transform(X))
    print("## Names and pickling\n")
    print(
        f"- get_feature_names_out of StogSelector(max_features=5) fitted on the DataFrame: "
        f"{', '.join(sel.get_feature_names_out())}"
    )
    print(f"- a pickled copy transforms identically: {same}\n")
    if not same:
        raise SystemExit("the pickled selector transforms differently")


PARTS = {
    "splits": part_splits,
    "grid": part_grid,
    "cv": part_cv,
    "diabetes": part_diabetes,
    "pickle": part_pickle,
}

if __name__ == "__main__":
    for part in sys.argv[1:] or list(PARTS):
        if part not in PARTS:
            raise SystemExit(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
        PARTS[part]()
