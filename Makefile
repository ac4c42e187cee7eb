# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench venv web browser lock histories clean-data

venv: $(STAMP)

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	touch $(STAMP)

# The web app (web/: Vue 3, Element Plus, Vite) with the machine's Node.js >= 20.19 and npm: `npm ci`
# from package-lock.json when the lock changes, a build into web/dist when a source changes.
WEB_DEPS := web/node_modules/.installed
WEB_BUILT := web/dist/.built
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/env.d.ts web/package.json

web: $(WEB_BUILT)

$(WEB_DEPS): web/package-lock.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js "+process.version+" is too old: the web app needs Node.js >= 20.19 (README, Requirements)"); process.exit(1) }' \
	  || { echo "Node.js >= 20.19 and npm are needed to build the web app (README, Requirements)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_DEPS)

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build
	touch $(WEB_BUILT)

run: venv web
	$(BIN)/python -m scripts.run

# Debian's chromium and a CJK font for the browser tests (tests/e2e); a no-op once installed.
browser:
	bash scripts/ensure_browser.sh

test: venv browser web
	cd web && npx vitest run
	$(BIN)/python -m pytest

bench: venv web browser
	$(BIN)/python -m scripts.bench
	$(BIN)/python -m scripts.bench_board
	$(BIN)/python -m scripts.bench_customers
	$(BIN)/python -m scripts.bench_inbox
	$(BIN)/python -m scripts.bench_notices
	$(BIN)/python -m scripts.bench_web
	$(BIN)/python -m scripts.bench_reports
	$(BIN)/python -m scripts.bench_knowledge

# Re-record the workflow histories that the replay test runs (commit the result).
histories: venv
	$(BIN)/python -m scripts.record_histories
	$(BIN)/python -m scripts.record_followup_histories
	$(BIN)/python -m scripts.record_discount_histories

# Regenerate the lock file from pyproject's direct dependencies (needs the registry).
lock:
	rm -rf /tmp/estateflow-lock && $(PYTHON) -m venv /tmp/estateflow-lock
	/tmp/estateflow-lock/bin/pip install --quiet --disable-pip-version-check .
	/tmp/estateflow-lock/bin/pip freeze --exclude estateflow > requirements.lock

clean-data:
	rm -rf .data
