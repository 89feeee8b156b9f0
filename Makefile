# livingreview: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BENCH_DATA ?= ../shared/benchmarks

# Prefect, offline and project-local: no telemetry, its own home, time for a fresh database.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export DO_NOT_TRACK = 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = 60

.PHONY: setup run demo test test-slow postgres-server bench bench-setup bench-dedup bench-screening bench-cocreation bench-update server clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/.installed  ## create .venv and install the project into it

run: setup  ## initialise the corpus and run one monthly update against the live APIs
	$(BIN)/livingreview init
	$(BIN)/livingreview update

demo: setup  ## two monthly updates of the demo store, offline (old demo store kept in data/demo-backups)
	$(BIN)/livingreview demo

# Half of the store, flow and screening tests run on PostgreSQL too: its server comes from Debian.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql (the PostgreSQL half of the test suite needs it)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

test: setup postgres-server  ## the whole test suite, offline
	$(BIN)/python -m pytest -q

# pytest exits 5 when the marker selects nothing; that is no failure.
test-slow: setup postgres-server  ## the long reliability sweeps (every kill point, 3,000 fuzzed files)
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

# ASReview pins pandas<3: the peer runs from its own venv, found by benchmarks/screening.py.
.venv-asreview/.installed:
	$(PYTHON) -m venv .venv-asreview
	.venv-asreview/bin/python -m pip install --quiet 'asreview>=2'
	@touch $@

bench-setup: $(BIN)/.bench-installed .venv-asreview/.installed

bench: bench-dedup bench-screening bench-cocreation bench-update bench-harvest  ## benchmarks (numbers, next to the peers run in the same run)

bench-dedup: bench-setup
	$(BIN)/python benchmarks/dedup.py $(BENCH_DATA)/dedup

# ASReview's orders are a function of set, priors and seed: kept beside its venv and reused, so a
# rerun pays only for ours (empty ASREVIEW_RUNS= runs ASReview afresh). Seeds 1-10, nice: 2 cores.
ASREVIEW_RUNS ?= .venv-asreview/screening-runs.json
bench-screening: bench-setup
	nice $(BIN)/python benchmarks/screening.py $(BENCH_DATA)/screening \
		$(if $(ASREVIEW_RUNS),--asreview-cache $(ASREVIEW_RUNS))

bench-update: bench-setup  ## one monthly update end to end at 13,000+1,000 and 100,000+10,000 records
	$(BIN)/python benchmarks/update.py $(BENCH_DATA)/dedup

bench-harvest: setup  ## harvest cost per source against the replay server scaled to 10,000 and 100,000 records
	nice $(BIN)/python benchmarks/harvest.py

bench-cocreation: setup
	$(BIN)/python benchmarks/cocreation.py

server: setup  ## a local Prefect server (UI on http://127.0.0.1:4200) and a worker running the deployments
	deploy/server.sh

clean:
	rm -rf data/*.sqlite* data/archive data/demo reports .prefect
