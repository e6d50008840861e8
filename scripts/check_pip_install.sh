#!/usr/bin/env bash
# The install a user makes, checked for real (not part of make test: it downloads torch, about
# 5 GB, into a fresh venv): a venv with torch==2.11.0, scikit-learn and pandas, then
# `pip install <this repository>` as typed, then, from outside the repository,
# check_estimator(StogSelector()) at its defaults and a pickled selector on breast cancer. Prints
# the time of each step.
#
#   scripts/check_pip_install.sh [VENV]   (default: ${TMPDIR:-/tmp}/stog-pip-check; kept, and
#                                          reused when it already has torch 2.11.0)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${TMPDIR:-/tmp}/stog-pip-check}"

step() { echo "== $1"; }
seconds() { echo "   $(( $(date +%s) - $1 )) s"; }

if ! [ -x "$VENV/bin/python" ] ||
  ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.11.0')" 2>/dev/null; then
  step "fresh venv $VENV with torch==2.11.0, scikit-learn, pandas"
  t=$(date +%s)
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet torch==2.11.0 scikit-learn pandas
  seconds "$t"
fi
"$VENV/bin/pip" uninstall --quiet --yes stog-rs 2>/dev/null || true

step "pip install $ROOT"
t=$(date +%s)
"$VENV/bin/pip" install --quiet "$ROOT"
seconds "$t"

step "check_estimator(StogSelector()) and a pickled selector, from $(dirname "$VENV")"
t=$(date +%s)
cd "$(dirname "$VENV")"
"$VENV/bin/python" - <<'PY'
import pickle
import numpy as np
import stog
from sklearn.datasets import load_breast_cancer
from sklearn.utils.estimator_checks import check_estimator

assert "site-packages" in stog.__file__, stog.__file__
check_estimator(stog.StogSelector())
print("   check_estimator(StogSelector()) passed")
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
sel = stog.StogSelector(max_features=5).fit(X, y)
back = pickle.loads(pickle.dumps(sel))
assert np.array_equal(back.transform(X), sel.transform(X))
print("   kept", list(sel.get_feature_names_out()), "- a pickled copy transforms identically")
PY
seconds "$t"
