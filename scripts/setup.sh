#!/usr/bin/env bash
# Idempotent set-up: a Python venv with torch==2.11.0 outside the clone (shared by every clone and
# CI run), and `.cargo/config.toml` so that every cargo call sees the same LIBTORCH (no accidental
# rebuild of torch-sys).
set -euo pipefail

TORCH_VERSION=2.11.0
VENV="${STOG_VENV:-$HOME/.cache/stog/torch-$TORCH_VERSION}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

command -v python3 >/dev/null 2>&1 || {
  echo "setup: python3 is not installed; install Python 3.10+ with venv and pip" >&2
  exit 1
}

have_torch() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import torch, numpy, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null
}

if ! have_torch; then
  echo "setup: installing torch==$TORCH_VERSION into $VENV (about 5 GB, once)"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" || {
    echo "setup: 'python3 -m venv' failed; install the venv module (Debian: python3-venv)" >&2
    exit 1
  }
  "$VENV/bin/pip" install --quiet "torch==$TORCH_VERSION" numpy || {
    echo "setup: could not install torch==$TORCH_VERSION from the Python package registry" >&2
    echo "setup: check that PyPI (or a mirror set in pip.conf) is reachable" >&2
    exit 1
  }
  have_torch || { echo "setup: torch installed but does not import" >&2; exit 1; }
fi

LIBTORCH="$("$VENV/bin/python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
mkdir -p "$ROOT/.cargo"
CONFIG="$ROOT/.cargo/config.toml"
WANT="# Written by scripts/setup.sh: every cargo call links the same libtorch.
[env]
LIBTORCH = \"$LIBTORCH\"
STOG_PYTHON = \"$VENV/bin/python\"
"
if [ ! -f "$CONFIG" ] || [ "$(cat "$CONFIG")" != "$(printf '%s' "$WANT")" ]; then
  printf '%s' "$WANT" > "$CONFIG"
  echo "setup: wrote $CONFIG (LIBTORCH=$LIBTORCH)"
fi
echo "$VENV/bin/python" > "$ROOT/.cargo/python-path"
