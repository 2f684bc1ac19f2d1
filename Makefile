# resultsdb: the operator's entry point. Every target installs what it needs first,
# so `make demo` and `make test` work on a fresh clone with only Python 3.11+.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# pytest-xdist workers: one per core and one more, as tests also wait (on fsync, on
# subprocesses and servers they start): on 2 cores, 3 workers took the suite on PostgreSQL
# 15 from 4m28 to 4m05 (each worker has its own embedded server and databases).
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
# Python's bytecode cache, kept inside the venv. Some environments switch it off
# (PYTHONDONTWRITEBYTECODE); then every test worker, CLI call and subprocess compiled the
# package and rewrote the tests' asserts again: 8 s of each worker's collection, not 2.5.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
# bash for pipefail: the install's progress filter must not hide pip's exit status
SHELL := bash
.SHELLFLAGS := -o pipefail -c

.PHONY: install migrate rollback status history seed psql test test-fast lint bench demo queries \
        db-start db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "resultsdb needs Python 3.11+, found " + sys.version.split()[0])'
	@echo "resultsdb: creating $(VENV) (once; 'make clean' removes it)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "resultsdb: installing resultsdb[all,dev] into $(VENV), about 1-2 min the first time;" \
	      "pip's full log: $(VENV)/pip.log"
	@$(BIN)/python -m pip install --progress-bar off -e '.[all,dev]' 2>&1 | tee $(VENV)/pip.log \
	  | awk '/^Collecting /{print "  " $$2; fflush()} /^Successfully installed/{print "resultsdb: installed " NF-2 " packages"}' \
	  || { tail -n 30 $(VENV)/pip.log; echo "resultsdb: install failed (log above, whole log in $(VENV)/pip.log)"; exit 1; }
	@touch $(STAMP)

migrate: install      ## apply pending migrations
	$(BIN)/resultsdb migrate

rollback: install     ## undo the last migration step
	$(BIN)/resultsdb rollback

status: install       ## list migrations and whether they are applied
	$(BIN)/resultsdb status

history: install      ## yoyo's log of applies and rollbacks
	$(BIN)/resultsdb history

seed: install         ## insert the small seed dataset (idempotent)
	$(BIN)/resultsdb seed

psql: install         ## psql on the configured database
	$(BIN)/resultsdb psql

test: install         ## the whole suite, slow tests included (as CI runs it)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: install    ## skip tests marked slow
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

queries: install       ## regenerate resultsdb/queries.py from the sql/queries headers
	$(BIN)/python -m resultsdb.codegen

lint: install
	$(BIN)/ruff check resultsdb tests benchmarks
	$(BIN)/mypy resultsdb benchmarks

bench: install        ## benchmarks; ratios into docs/benchmarks.md
	$(BIN)/python -m pip install --quiet -e '.[all,dev,bench]'
	$(BIN)/python -m benchmarks

demo: install         ## start the embedded database, migrate, seed, show what is stored
	$(BIN)/resultsdb demo

db-start: install
	$(BIN)/resultsdb db-start

db-stop: install
	$(BIN)/resultsdb db-stop

# `resultsdb clean` asks before it removes the data folder (all the embedded data): make
# clean YES=1 passes --yes. Declined, make stops there and the venv stays.
clean:                ## stop the embedded servers, remove .resultsdb (asks; YES=1 does not), the venv, caches
	@if [ -x $(BIN)/resultsdb ]; then \
	    RESULTSDB_DATA_DIR=.resultsdb $(BIN)/resultsdb clean $(if $(filter 1,$(YES)),--yes); \
	elif [ -d .resultsdb ]; then \
	    echo "make clean: no $(BIN)/resultsdb to stop the embedded servers of .resultsdb with;" \
	         "run make install first (or stop them and remove .resultsdb by hand)" >&2; exit 1; \
	fi
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache dist build
