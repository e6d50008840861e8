"""scikit-learn estimators over stog's selector: StogSelector, StogClassifier, StogRegressor."""

import numbers
import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

# Fewest rows a fit takes (stog's data::MIN_ROWS).
_MIN_ROWS = 4
# The files of a saved model, carried in a pickle as bytes.
_MODEL_FILES = ("selector.json", "model.safetensors")


class _StogBase(BaseEstimator):
    """What the three estimators share: parameters, the fit, pickling."""

    def _task(self, y):
        """`classification` or `regression` for the target `y` (set by each estimator)."""
        raise NotImplementedError

    def _check_params(self):
        """The settings as the Rust core takes them; a ValueError names a bad one."""
        if not isinstance(self.gate, str):
            raise ValueError(
                "gate must be a string such as 'hard-concrete' or 'stg:sigma=0.25', "
                f"got {self.gate!r}"
            )
        if isinstance(self.lambda_, str):
            if self.lambda_ != "auto":
                raise ValueError(f"lambda_ must be 'auto' or a number >= 0, got {self.lambda_!r}")
            lambda_ = None
        elif isinstance(self.lambda_, numbers.Real) and not isinstance(self.lambda_, bool):
            lambda_ = float(self.lambda_)
            if not (np.isfinite(lambda_) and lambda_ >= 0):
                raise ValueError(f"lambda_ must be 'auto' or a number >= 0, got {self.lambda_!r}")
        else:
            raise ValueError(f"lambda_ must be 'auto' or a number >= 0, got {self.lambda_!r}")
        max_features = self.max_features
        if max_features is not None:
            if (
                not isinstance(max_features, numbers.Integral)
                or isinstance(max_features, bool)
                or max_features < 1
            ):
                raise ValueError(
                    f"max_features must be None or an integer >= 1, got {max_features!r}"
                )
            if lambda_ is not None:
                raise ValueError(
                    "max_features needs lambda_='auto' (the path chooses within the budget)"
                )
            max_features = int(max_features)
        if isinstance(self.hidden, str):
            if self.hidden != "auto":
                raise ValueError(
                    f"hidden must be 'auto' or a tuple of layer sizes, got {self.hidden!r}"
                )
            hidden = None
        else:
            try:
                hidden = [int(h) for h in self.hidden]
            except (TypeError, ValueError):
                raise ValueError(
                    f"hidden must be 'auto' or a tuple of layer sizes, got {self.hidden!r}"
                ) from None
            if any(h < 1 or h != s for h, s in zip(hidden, self.hidden)):
                raise ValueError(f"hidden layer sizes must be integers >= 1, got {self.hidden!r}")
        validation = self.validation
        if isinstance(validation, numbers.Integral) and not isinstance(validation, bool):
            if validation < 2:
                raise ValueError(
                    "validation must be 'auto', 'holdout' or a number of folds >= 2, "
                    f"got {validation!r}"
                )
            validation = str(int(validation))
        elif validation not in ("auto", "holdout"):
            raise ValueError(
                "validation must be 'auto', 'holdout' or a number of folds >= 2, "
                f"got {validation!r}"
            )
        if (
            not isinstance(self.epochs, numbers.Integral)
            or isinstance(self.epochs, bool)
            or self.epochs < 1
        ):
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not isinstance(self.device, str):
            raise ValueError(
                f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}"
            )
        return dict(
            gate=self.gate,
            lambda_=lambda_,
            max_features=max_features,
            hidden=hidden,
            validation=validation,
            epochs=int(self.epochs),
            device=self.device,
            seed=_seed(self.random_state),
        )

    def _fit(self, X, y):
        settings = self._check_params()
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            ensure_min_samples=_MIN_ROWS,
        )
        task = self._task(y)
        if task == "classification":
            check_classification_targets(y)
            classes, codes = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least two classes in y; "
                    f"got one class: {classes[0]!r}"
                )
            target = codes.astype(np.float64)
        else:
            try:
                target = np.asarray(y, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise ValueError(f"a regression target must be numbers: {e}") from None
            if not np.all(np.isfinite(target)):
                raise ValueError("Input y contains NaN or infinity.")
            classes = None
        names = getattr(self, "feature_names_in_", None)
        self._model = _core.fit(
            X,
            target,
            task,
            feature_names=_core_names(names),
            **settings,
        )
        self.task_ = task
        self.importances_ = np.asarray(self._model.importance(), dtype=np.float64)
        stability = self._model.stability()
        self.stability_ = None if stability is None else np.asarray(stability, dtype=np.float64)
        self.chosen_lambda_ = self._model.chosen_lambda()
        self.hidden_ = tuple(self._model.hidden())
        self.n_selected_ = int(sum(self._model.support()))
        if classes is not None:
            self.classes_ = classes
        else:
            self.__dict__.pop("classes_", None)  # from an earlier classification fit
        return self

    def _rows(self, X):
        """`X` checked against the fit (features, names, finite values) as float64."""
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def get_support(self, indices=False):
        """A mask of the kept features (or their indices, with ``indices=True``)."""
        check_is_fitted(self)
        support = np.asarray(self._model.support(), dtype=bool)
        return np.flatnonzero(support) if indices else support

    def __sklearn_is_fitted__(self):
        # Not the trailing-underscore rule of check_is_fitted: the parameter `lambda_` has one.
        return hasattr(self, "_model")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags

    def __getstate__(self):
        # A copy: object.__getstate__ returns the instance's own __dict__.
        state = dict(super().__getstate__())
        model = state.pop("_model", None)
        if model is not None:
            with tempfile.TemporaryDirectory(prefix="stog-pickle-") as d:
                model.save(d)
                files = {}
                for name in _MODEL_FILES:
                    with open(os.path.join(d, name), "rb") as f:
                        files[name] = f.read()
            state["_model_files"] = files
        return state

    def __setstate__(self, state):
        files = state.pop("_model_files", None)
        super().__setstate__(state)
        if files is not None:
            # A model pickled on a GPU machine loads onto the CPU where no GPU is available.
            device = self.device if _core.device_available(self.device) else "cpu"
            with tempfile.TemporaryDirectory(prefix="stog-pickle-") as d:
                for name, data in files.items():
                    with open(os.path.join(d, name), "wb") as f:
                        f.write(data)
                self._model = _core.load(d, device)


def _seed(random_state):
    """The seed of a fit: an int as given (as `stog select --seed`); None or a RandomState draws
    one."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _core_names(names):
    """Feature names for the saved model: a DataFrame's column names when the core takes them
    (strings, none named like the target column of an array table), else None (x0, x1, ...)."""
    if names is None:
        return None
    names = [str(n) for n in names]
    if "target" in names or any(n == "" for n in names):
        return None
    return names


_PARAMS_DOC = """
    Parameters
    ----------
    gate : str, default="hard-concrete"
        The gate at the input: a kind (``hard-concrete``, ``stg``, ``ste``, ``gumbel``,
        ``correlated``, ``l1``) with optional settings, e.g. ``"stg:sigma=0.25"``.
    lambda_ : "auto" or float, default="auto"
        The penalty on the expected number of open gates. ``"auto"`` fits a warm-started path
        of lambdas and chooses on validation rows (or by cross-validation on small data).
    max_features : int or None, default=None
        A feature budget: the best point of the path that keeps at most this many features
        (needs ``lambda_="auto"``).
    hidden : "auto" or tuple of int, default="auto"
        The network's hidden layer sizes; ``()`` is a linear model. ``"auto"`` fits a
        ``(64, 32)`` network and a linear model and keeps the one that scores better.
    validation : "auto", "holdout" or int, default="auto"
        The rows that choose lambda: ``"auto"`` is 5-fold cross-validation below 300 rows and a
        held-out fifth above; an int is a number of folds.
    epochs : int, default=300
        The most epochs of a fit (early stopping usually ends it sooner).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState or None, default=0
        The seed of the fit (initial weights, gate noise, the held-out rows): the same seed and
        data give the same model. None draws a seed from NumPy's global generator.
"""


class StogSelector(SelectorMixin, _StogBase):
    __doc__ = (
        """Selects features with stochastic gates trained together with a network.

    A supervised selector for ``Pipeline``: ``fit(X, y)`` trains gates on the features with the
    target, ``transform`` keeps the features whose gate stays open.
"""
        + _PARAMS_DOC
        + """    task : "auto", "classification" or "regression", default="auto"
        The target's kind; ``"auto"`` reads it from ``y`` (floats that are not integers, or
        integers of many values, are a regression target).

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
        Per feature, the gate's open probability; exactly 0 for a dropped feature.
    stability_ : ndarray of shape (n_features_in_,) or None
        Per feature, the fraction of the cross-validation folds whose model at the chosen point
        keeps it (``None`` when lambda was not chosen by cross-validation).
    n_selected_ : int
        The number of kept features.
    chosen_lambda_ : float
        The lambda of the final model.
    hidden_ : tuple of int
        The hidden layers of the final network (``()`` for a linear model).
    task_ : str
        ``"classification"`` or ``"regression"``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when ``X`` had string column names)
"""
    )

    def __init__(
        self,
        gate="hard-concrete",
        lambda_="auto",
        max_features=None,
        hidden="auto",
        validation="auto",
        epochs=300,
        device="auto",
        random_state=0,
        task="auto",
    ):
        self.gate = gate
        self.lambda_ = lambda_
        self.max_features = max_features
        self.hidden = hidden
        self.validation = validation
        self.epochs = epochs
        self.device = device
        self.random_state = random_state
        self.task = task

    def _task(self, y):
        if self.task in ("classification", "regression"):
            return self.task
        if self.task != "auto":
            raise ValueError(
                f"task must be 'auto', 'classification' or 'regression', got {self.task!r}"
            )
        kind = type_of_target(y)
        if kind in ("binary", "multiclass"):
            return "classification"
        if kind == "continuous":
            return "regression"
        raise ValueError(
            f"Unknown label type: {kind}; StogSelector takes one target column of class labels or "
            "numbers (or set task='classification' or 'regression')"
        )

    def fit(self, X, y):
        """Trains the gates on ``X`` (n_samples x n_features) with target ``y``; returns self."""
        return self._fit(X, y)

    def transform(self, X):
        """The kept columns of ``X`` (its dtype kept: float64 or float32)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out = self._model.transform(np.asarray(X, dtype=np.float64))
        return out.astype(X.dtype, copy=False)

    def _get_support_mask(self):
        check_is_fitted(self)
        return np.asarray(self._model.support(), dtype=bool)


class StogClassifier(ClassifierMixin, _StogBase):
    __doc__ = (
        """A classifier whose network sees only the features its gates keep.

    ``predict`` and ``predict_proba`` run the inference network, on the kept features only;
    ``get_support()`` tells which they are.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.
    importances_, stability_, n_selected_, chosen_lambda_, hidden_, n_features_in_, feature_names_in_
        As for ``StogSelector``.
"""
    )

    def __init__(
        self,
        gate="hard-concrete",
        lambda_="auto",
        max_features=None,
        hidden="auto",
        validation="auto",
        epochs=300,
        device="auto",
        random_state=0,
    ):
        self.gate = gate
        self.lambda_ = lambda_
        self.max_features = max_features
        self.hidden = hidden
        self.validation = validation
        self.epochs = epochs
        self.device = device
        self.random_state = random_state

    def _task(self, y):
        return "classification"

    def fit(self, X, y):
        """Trains the gated network on ``X`` with class labels ``y``; returns self."""
        return self._fit(X, y)

    def predict(self, X):
        """The class of each row of ``X``, one of ``classes_``."""
        X = self._rows(X)
        return self.classes_[self._model.predict(X).astype(np.intp)]

    def predict_proba(self, X):
        """Class probabilities, one column per class of ``classes_``; rows sum to 1."""
        X = self._rows(X)
        return self._model.predict_proba(X)


class StogRegressor(RegressorMixin, _StogBase):
    __doc__ = (
        """A regressor whose network sees only the features its gates keep.

    A linear model that wins the automatic architecture choice ends with an exact ridge fit on
    the kept features.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    importances_, stability_, n_selected_, chosen_lambda_, hidden_, n_features_in_, feature_names_in_
        As for ``StogSelector``.
"""
    )

    def __init__(
        self,
        gate="hard-concrete",
        lambda_="auto",
        max_features=None,
        hidden="auto",
        validation="auto",
        epochs=300,
        device="auto",
        random_state=0,
    ):
        self.gate = gate
        self.lambda_ = lambda_
        self.max_features = max_features
        self.hidden = hidden
        self.validation = validation
        self.epochs = epochs
        self.device = device
        self.random_state = random_state

    def _task(self, y):
        return "regression"

    def fit(self, X, y):
        """Trains the gated network on ``X`` with target values ``y``; returns self."""
        return self._fit(X, y)

    def predict(self, X):
        """The predicted value of each row of ``X``."""
        X = self._rows(X)
        return self._model.predict(X)
