"""The estimators on data whose relevant features are known: what they select, how well they
predict, pandas names, dtypes, pickling, cloning, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from stog import StogClassifier, StogRegressor, StogSelector

# One fit at a fixed lambda (seconds): the API tests. The automatic path runs in the selection
# tests and in the scikit-learn checks.
FAST = dict(lambda_=0.02, hidden=(16,), epochs=200)


def two_of_ten(n, seed):
    """Rows of 10 standard normal features whose class is the sign of x0 + x1."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 10))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def data():
    return two_of_ten(300, 0), two_of_ten(1000, 1)


def test_selector_finds_the_two_relevant_features_on_the_automatic_path(data):
    (X, y), (Xt, _) = data
    sel = StogSelector(hidden=(), validation="holdout").fit(X, y)
    assert sel.task_ == "classification"
    assert list(sel.get_support(indices=True)) == [0, 1]
    assert sel.n_selected_ == 2
    assert sel.chosen_lambda_ > 0
    assert sel.hidden_ == ()
    kept = sel.transform(Xt)
    np.testing.assert_array_equal(kept, Xt[:, [0, 1]])
    # Importance: the gate's open probability, 0 exactly for every dropped feature.
    assert np.all(sel.importances_[[0, 1]] > 0.5)
    assert np.all(sel.importances_[2:] == 0)
    # Stability comes from cross-validation folds; a holdout has none.
    assert sel.stability_ is None


def test_classifier_predicts_held_out_rows(data):
    (X, y), (Xt, yt) = data
    clf = StogClassifier(**FAST).fit(X, y)
    assert clf.score(Xt, yt) > 0.95
    assert set(clf.get_support(indices=True)) >= {0, 1}
    proba = clf.predict_proba(Xt)
    assert proba.shape == (1000, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    # predict is the most probable class of predict_proba.
    np.testing.assert_array_equal(clf.predict(Xt), clf.classes_[proba.argmax(axis=1)])


def test_classifier_keeps_the_labels_it_was_given(data):
    (X, y), (Xt, yt) = data
    labels = np.array(["benign", "malignant"])[y]
    clf = StogClassifier(**FAST).fit(X, labels)
    assert list(clf.classes_) == ["benign", "malignant"]
    predicted = clf.predict(Xt)
    assert predicted.dtype == labels.dtype
    assert np.mean(predicted == np.array(["benign", "malignant"])[yt]) > 0.95


def test_regressor_selects_and_fits_a_linear_target():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8))
    y = 3.0 * X[:, 2] - 2.0 * X[:, 5] + 10.0 + rng.normal(size=300)
    reg = StogRegressor(hidden=(), validation="holdout").fit(X, y)
    kept = set(reg.get_support(indices=True))
    assert kept >= {2, 5} and len(kept) <= 3
    Xt = rng.normal(size=(500, 8))
    yt = 3.0 * Xt[:, 2] - 2.0 * Xt[:, 5] + 10.0
    assert reg.score(Xt, yt) > 0.99
    assert reg.predict(Xt).shape == (500,)
    assert not hasattr(reg, "predict_proba")


def test_dataframe_names_come_back(data):
    (X, y), (Xt, _) = data
    cols = [f"gene_{j}" for j in range(10)]
    frame = pd.DataFrame(X, columns=cols)
    sel = StogSelector(**FAST).fit(frame, y)
    assert list(sel.feature_names_in_) == cols
    kept = sel.get_support(indices=True)
    assert list(sel.get_feature_names_out()) == [cols[j] for j in kept]
    # The saved model records the names too.
    assert sel._model.feature_names() == cols
    # pandas output keeps the names through transform.
    out = sel.set_output(transform="pandas").transform(pd.DataFrame(Xt, columns=cols))
    assert list(out.columns) == [cols[j] for j in kept]
    np.testing.assert_array_equal(out.to_numpy(), Xt[:, kept])
    # Through a pipeline whose scaler outputs arrays, the names still come back.
    pipe = Pipeline([("scale", StandardScaler()), ("sel", StogSelector(**FAST))]).fit(frame, y)
    kept = pipe["sel"].get_support(indices=True)
    assert list(pipe.get_feature_names_out()) == [cols[j] for j in kept]
    # Columns in another order than at fit time are refused, as scikit-learn does.
    with pytest.raises(ValueError, match="feature names"):
        sel.transform(pd.DataFrame(Xt, columns=cols)[cols[::-1]])


def test_a_column_named_target_is_fine(data):
    (X, y), _ = data
    cols = ["target"] + [f"c{j}" for j in range(1, 10)]
    sel = StogSelector(**FAST).fit(pd.DataFrame(X, columns=cols), y)
    assert list(sel.feature_names_in_) == cols
    assert set(sel.get_feature_names_out()) >= {"target", "c1"}


def test_pickle_round_trip_transforms_and_predicts_identically(data):
    (X, y), (Xt, _) = data
    clf = StogClassifier(**FAST).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(Xt), clf.predict_proba(Xt))
    np.testing.assert_array_equal(back.get_support(), clf.get_support())
    np.testing.assert_array_equal(back.importances_, clf.importances_)
    sel = StogSelector(**FAST).fit(X, y)
    blob = pickle.dumps(sel)
    # The weights travel in the pickle: a few kilobytes, no file left behind.
    assert 1_000 < len(blob) < 1_000_000
    np.testing.assert_array_equal(pickle.loads(blob).transform(Xt), sel.transform(Xt))


def test_clone_is_unfitted_with_the_same_parameters(data):
    (X, y), _ = data
    sel = StogSelector(gate="stg:sigma=0.25", max_features=3, hidden=(8, 4), random_state=7)
    assert clone(sel).get_params() == sel.get_params()
    fitted = StogSelector(**FAST).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.transform(X)


def test_same_seed_same_model_and_threads_restored(data):
    (X, y), (Xt, _) = data
    threads = torch.get_num_threads()
    a = StogClassifier(**FAST, random_state=3).fit(X, y)
    assert torch.get_num_threads() == threads
    b = StogClassifier(**FAST, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))


def test_float32_is_kept_by_transform(data):
    (X, y), (Xt, _) = data
    sel = StogSelector(**FAST).fit(X.astype(np.float32), y)
    out = sel.transform(Xt.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, Xt.astype(np.float32)[:, sel.get_support()])


def test_lists_are_taken(data):
    (X, y), _ = data
    clf = StogClassifier(**FAST).fit(X.tolist(), y.tolist())
    assert clf.predict(X[:5].tolist()).shape == (5,)


def test_pipeline_grid_search_over_the_feature_budget():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 10))
    y = (2 * X[:, 0] + X[:, 1] > 0).astype(int)
    X, Xt, y, yt = X[:300], X[300:], y[:300], y[300:]
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("sel", StogSelector(hidden=(), validation="holdout")),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(pipe, {"sel__max_features": [1, 2]}, cv=2, error_score="raise")
    search.fit(X, y)
    # x0 alone classifies about 85 % of the rows; x0 and x1 together all of them.
    scores = search.cv_results_["mean_test_score"]
    assert 0.75 < scores[0] < 0.92 and scores[1] > 0.95
    assert search.best_params_ == {"sel__max_features": 2}
    assert list(search.best_estimator_["sel"].get_support(indices=True)) == [0, 1]
    assert search.score(Xt, yt) > 0.95


def test_bad_input_raises_value_error(data):
    (X, y), _ = data
    bad = X.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        StogClassifier(**FAST).fit(bad, y)
    clf = StogClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="10 features"):
        clf.predict(X[:, :9])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="at least two classes"):
        StogClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(NotFittedError):
        StogRegressor().predict(X)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(lambda_="big"), "lambda_"),
        (dict(lambda_=-1.0), "lambda_"),
        (dict(lambda_=0.1, max_features=3), "max_features"),
        (dict(max_features=0), "max_features"),
        (dict(hidden=(8, 0)), "hidden"),
        (dict(hidden="deep"), "hidden"),
        (dict(validation=1), "validation"),
        (dict(epochs=0), "epochs"),
        (dict(gate="nope"), "nope"),
        (dict(gate="stg:sgma=0.25"), "sgma"),
        (dict(device="tpu"), "tpu"),
        (dict(random_state=-1), "random_state"),
        (dict(task="ranking"), "task"),
    ],
)
def test_bad_parameters_name_themselves(data, params, message):
    (X, y), _ = data
    with pytest.raises(ValueError, match=message):
        StogSelector(**params).fit(X[:20], y[:20])


def test_cuda_without_a_gpu_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    (X, y), _ = data
    with pytest.raises(ValueError, match="CUDA is not available"):
        StogClassifier(device="cuda").fit(X, y)
