# Two commands: `make demo` and `make test`. Each sets up what it needs from this repository.
PYTHON ?= python3
VENV := .venv
TARGETS := .venv-targets
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Singer targets pin old libraries (target-jsonl: backoff, jsonschema) that would break
# singer-sdk, so each lives in its own virtual environment, as Meltano does it.
$(TARGETS)/target-jsonl/bin/.installed:
	$(PYTHON) -m venv $(TARGETS)/target-jsonl
	$(TARGETS)/target-jsonl/bin/pip install --quiet --disable-pip-version-check target-jsonl==0.1.4
	touch $@

demo: $(BIN)/.installed $(TARGETS)/target-jsonl/bin/.installed
	$(BIN)/python -m tests.demo --target $(TARGETS)/target-jsonl/bin/target-jsonl

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) $(TARGETS) .demo
