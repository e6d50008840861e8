"""scikit-learn's own estimator checks on the three estimators.

The checks fit on tens to hundreds of rows; stog's default fit there is a path, five
cross-validation folds and a refit for each architecture that races (a network only with 30 rows
in the smallest class, 100 for a regression), and the suite makes about 45 fits per estimator.
`make test` therefore runs every check on estimators set to one architecture (the linear model)
and one validation holdout: the same automatic lambda path, the same API. The defaults run with
STOG_DEFAULT_CHECKS=1 (152 checks pass, 3 skipped; 13.5 minutes for the three on 2 cores).
"""

import os

from sklearn.utils.estimator_checks import parametrize_with_checks

from stog import StogClassifier, StogRegressor, StogSelector

if os.environ.get("STOG_DEFAULT_CHECKS") == "1":
    ESTIMATORS = [StogSelector(), StogClassifier(), StogRegressor()]
else:
    ESTIMATORS = [
        StogSelector(hidden=(), validation="holdout"),
        StogClassifier(hidden=(), validation="holdout"),
        StogRegressor(hidden=(), validation="holdout"),
    ]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
