# Every target runs scripts/setup.sh first (idempotent: a venv with torch 2.11.0 under
# ~/.cache/stog, and .cargo/config.toml pointing cargo at its libtorch).

CARGO ?= cargo
PYTHON = $(shell cat .cargo/python-path 2>/dev/null)

.PHONY: setup build test test-slurm demo bench bench-real bench-wide bench-tall lint doc mutants clean-results

setup:
	@./scripts/setup.sh

build: setup
	$(CARGO) build --release --bins --examples

# The test suite, then examples/component: a crate that uses stog as a dependency would (arrays
# in, predictions out) and checks what it gets; then the Python package (python/tests).
test: setup
	$(CARGO) test --release
	$(CARGO) run --release -p stog-component
	CARGO=$(CARGO) ./scripts/setup_python.sh
	PYTHONPATH=python "$$(cat .cargo/python-path)" -m pytest -q python/tests

# The Slurm job files of examples/slurm on a real one-node Slurm (root on Debian; installs
# slurm-wlm and munge when missing, so not part of `make test`): an array of 4 with a task
# cancelled mid-run and resubmitted, the merge job after it, the merged runs.csv checked against
# one process run for run. scripts/test_slurm.sh has the knobs.
test-slurm: setup
	$(CARGO) build --release --bins
	./scripts/test_slurm.sh

demo: setup
	$(CARGO) build --release --bins --examples
	./scripts/demo.sh

# The Fig. 2 sweep beside the Python libraries, the wide and tall scales of issue 16, then the
# forward time that channel pruning buys on the digits CNN and ResNet-18 (long; BENCH_PARTS
# chooses, e.g. BENCH_PARTS=pruning).
BENCH_PARTS ?= fig2 wide tall pruning
bench: setup
	$(CARGO) build --release --bins --examples
	@for part in $(BENCH_PARTS); do case $$part in \
	  fig2) ./scripts/bench.sh ;; wide) ./scripts/bench_wide.sh ;; tall) ./scripts/bench_tall.sh ;; \
	  pruning) ./scripts/bench_pruning.sh ;; \
	  *) echo "unknown BENCH_PARTS entry $$part (fig2, wide, tall, pruning)"; exit 2 ;; \
	  esac || exit 1; done

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

# Tall benchmark of issue 16: n = 1,000,000, D = 100 as Parquet (examples/make_tall.rs), a fit at
# one lambda with mini-batches: wall time, peak RSS and seconds per epoch into
# results/bench-tall/README.md (env knobs in scripts/bench_tall.sh).
bench-tall: setup
	$(CARGO) build --release --bins --examples
	./scripts/bench_tall.sh

# --release: clippy and rustdoc reuse the release build of the dependencies that `make test`
# and `make build` make (torch-sys's build takes minutes per profile).
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --no-default-features --lib -- -D warnings

doc: setup
	$(CARGO) doc --release --no-deps

# Mutation testing (cargo-mutants: `cargo install cargo-mutants`) of the code whose mistakes are
# silent, one module at a time, each against its fast test files only; a mutant that no test
# catches is a behaviour no test states. It mutates the tree in place (a copy would rebuild every
# dependency): leave the tree alone while it runs. Reports in mutants.out/MODULE/ (missed.txt:
# the survivors). MUTANTS_MODULES chooses, e.g. MUTANTS_MODULES="finished budget". On 2 busy
# cores 2 to 11 min each for finished (12 mutants), merge (21), budget (10) and standardize
# (39); split has 67 and gates 111, at 5 to 50 s each. budget is the choice of a path's point
# (src/train/choose.rs, the rule that select and script share).
MUTANTS_MODULES ?= finished merge budget standardize split gates
# The gate functions whose mistakes are silent: the training and inference gates and the penalty.
GATE_FORMULAS = inference_gate|unit_penalty|gate_from|training_gate|apply_gate|Gate::penalty|uniform_open
mutants: setup
	@set -f; for m in $(MUTANTS_MODULES); do case $$m in \
	  finished) args="-f src/sweep/finished.rs --cargo-arg=--test=sweep_api" ;; \
	  merge) args="-f src/sweep/merge.rs --cargo-arg=--test=sweep_api" ;; \
	  budget) args="-f src/train/choose.rs -F in.choose$$ --cargo-arg=--test=path -- -- budget rules" ;; \
	  standardize) args="-f src/data/standardize.rs --cargo-arg=--test=data" ;; \
	  split) args="-f src/data/split.rs --cargo-arg=--test=data" ;; \
	  gates) args="-f src/gates/*.rs -F $(GATE_FORMULAS) --cargo-arg=--lib --cargo-arg=--test=gates" ;; \
	  *) echo "unknown MUTANTS_MODULES entry $$m (finished, merge, budget, standardize, split, gates)"; exit 2 ;; \
	  esac; mkdir -p mutants.out/$$m; CARGO_INCREMENTAL=1 $(CARGO) mutants --config mutants.toml --in-place -o mutants.out/$$m $$args; \
	  rc=$$?; [ $$rc = 0 ] || [ $$rc = 2 ] || [ $$rc = 3 ] || exit $$rc; done

clean-results:
	rm -rf results
