# Every target runs scripts/setup.sh first (idempotent: a venv with torch 2.11.0 under
# ~/.cache/stog, and .cargo/config.toml pointing cargo at its libtorch).

CARGO ?= cargo
PYTHON = $(shell cat .cargo/python-path 2>/dev/null)

.PHONY: setup build test demo bench bench-real bench-wide lint doc clean-results

setup:
	@./scripts/setup.sh

build: setup
	$(CARGO) build --release --bins --examples

test: setup
	$(CARGO) test --release

demo: setup
	$(CARGO) build --release --bins --examples
	./scripts/demo.sh

bench: setup
	$(CARGO) build --release --bins --examples
	./scripts/bench.sh

# Real-data benchmark: six data sets from package registries or documented generators, stog beside
# L1 logistic / Lasso, LassoNet and ExtraTrees (env knobs in scripts/bench_real.sh).
bench-real: setup
	$(CARGO) build --release --bins --examples
	./scripts/bench_real.sh

# Wide benchmark of issue 16 (opt-in, long): n = 1000, D = 1000, 10000, 100000 as .npy, stog select
# at defaults, wall time and peak RSS into results/bench-wide/README.md (BENCH_WIDE_DIMS to choose).
bench-wide: setup
	$(CARGO) build --release --bins
	./scripts/bench_wide.sh

# --release: clippy and rustdoc reuse the release build of the dependencies that `make test`
# and `make build` make (torch-sys's build takes minutes per profile).
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(CARGO) clippy --release --no-default-features --lib -- -D warnings

doc: setup
	$(CARGO) doc --release --no-deps

clean-results:
	rm -rf results
