# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench venv browser lock histories clean-data

venv: $(STAMP)

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	touch $(STAMP)

run: venv
	$(BIN)/python -m scripts.run

# Debian's chromium and a CJK font for the browser tests (tests/e2e); a no-op once installed.
browser:
	bash scripts/ensure_browser.sh

test: venv browser
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python -m scripts.bench
	$(BIN)/python -m scripts.bench_board
	$(BIN)/python -m scripts.bench_customers

# Re-record the workflow histories that the replay test runs (commit the result).
histories: venv
	$(BIN)/python -m scripts.record_histories
	$(BIN)/python -m scripts.record_followup_histories

# Regenerate the lock file from pyproject's direct dependencies (needs the registry).
lock:
	rm -rf /tmp/estateflow-lock && $(PYTHON) -m venv /tmp/estateflow-lock
	/tmp/estateflow-lock/bin/pip install --quiet --disable-pip-version-check .
	/tmp/estateflow-lock/bin/pip freeze --exclude estateflow > requirements.lock

clean-data:
	rm -rf .data
