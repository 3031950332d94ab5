# Every target creates the virtual environment first when it is missing or out of date.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: compile check typecheck lint format test run bench golden clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --config-settings editable_mode=compat -e '.[dev]'
	touch $(STAMP)

# COMPILE_FLAGS: e.g. `make compile COMPILE_FLAGS=--strict` fails on warnings too (CI), `-v`
# shows warnings that are otherwise summarized when the output did not change.
COMPILE_FLAGS ?=

compile: $(STAMP)
	$(PY) -m compiler compile $(COMPILE_FLAGS)

check: $(STAMP)
	$(PY) -m compiler check $(COMPILE_FLAGS)

typecheck: $(STAMP)
	$(PY) -m mypy

lint: $(STAMP)
	$(PY) -m ruff check compiler runtime tests bench
	$(PY) -m black --check --quiet compiler runtime tests bench generated

format: $(STAMP)
	$(PY) -m ruff check --fix compiler runtime tests bench
	$(PY) -m black --quiet compiler runtime tests bench

test: $(STAMP)
	$(PY) -m compiler check
	$(PY) -m mypy
	$(PY) -m ruff check compiler runtime tests bench
	$(PY) -m black --check --quiet compiler runtime tests bench generated
	$(PY) -m pytest -q

run: $(STAMP) compile
	$(PY) -m runtime migrate
	$(PY) -m runtime demo
	CONSOLE=open $(PY) -m runtime serve --include-inactive --host 127.0.0.1 --port 8000

# After an intended change to the compiler's output: regenerate generated/ (the golden files
# of the four spec workflows), the golden package under tests/cases/golden and the expected
# diagnostics of the test cases, then review their diff.
golden: $(STAMP) compile
	UPDATE_GOLDEN=1 UPDATE_EXPECTED=1 $(PY) -m pytest -q tests/test_golden.py tests/test_diagnostics.py tests/test_docs.py

bench: $(STAMP)
	$(PY) bench/compile_bench.py
	$(PY) bench/large_workflow_bench.py
	$(PY) bench/throughput_bench.py
	$(PY) bench/expr_bench.py
	$(PY) bench/runtime_bench.py
	$(PY) bench/streams_bench.py
	$(PY) bench/scale_bench.py
	$(PY) bench/effects_bench.py
	$(PY) bench/history_bench.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
