#!/usr/bin/env bash
# Idempotent set-up of the Python tests (`make test`): scikit-learn, pandas, pytest and maturin in
# the torch venv of scripts/setup.sh (installed once; torch stays pinned), and the extension module
# built in place: python/stog/_core*.so from the crate in python/, so that
# `PYTHONPATH=python $VENV/bin/python -m pytest python/tests` tests this checkout. Nothing is
# installed into the venv from the checkout (clones share the venv). Run scripts/setup.sh first.
#
# Users install the package with `pip install <repository>` instead (docs/python.md).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="$(cat .cargo/python-path 2>/dev/null)" || {
  echo "setup_python: no .cargo/python-path; run scripts/setup.sh first" >&2
  exit 1
}

# "pip requirement|import statement"
PACKAGES=(
  "scikit-learn>=1.6|import sklearn.utils.validation; sklearn.utils.validation.validate_data"
  "pandas|import pandas"
  "pytest|import pytest"
  "maturin>=1.9,<2|import maturin"
)
missing=()
for entry in "${PACKAGES[@]}"; do
  "$PY" -c "${entry#*|}" >/dev/null 2>&1 || missing+=("${entry%%|*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup_python: installing ${missing[*]} into $(dirname "$(dirname "$PY")")"
  TORCH_PIN="torch==$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
  "$PY" -m pip install --quiet "${missing[@]}" -c <(echo "$TORCH_PIN") || {
    echo "setup_python: pip could not install ${missing[*]}; check that PyPI is reachable" >&2
    exit 1
  }
fi

# The extension against the venv's Python and the LIBTORCH of .cargo/config.toml: it shares the
# release build of the Rust tests (torch-sys, tch, stog without its command line).
PYO3_PYTHON="$PY" "${CARGO:-cargo}" build --release --quiet -p stog-python
SUFFIX="$("$PY" -c 'import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])')"
rm -f python/stog/_core*.so
cp "${CARGO_TARGET_DIR:-target}/release/lib_core.so" "python/stog/_core$SUFFIX"
