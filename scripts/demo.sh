#!/usr/bin/env bash
# The demos of `make demo`, on CPU, into results/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results
./target/release/examples/feature_selection
