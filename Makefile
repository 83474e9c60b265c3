# 民政数据看板 — the two front-door commands: `make run` and `make test`.
# Everything installs from the package registries only (PyPI, Debian); no browser downloads.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
REPLICAS ?= 2
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve test test-fast lint format bench deps dev-deps system-deps nginx warehouse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files so dependencies reinstall only when the requirement files change.
$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Our packages' bytecode. Python writes it on a module's first import, but not where
# PYTHONDONTWRITEBYTECODE is set (as on this project's CI and sandbox machines): there every
# process would compile etl/ and dashboard/ again, 0.05–0.1 s of each `etl load`.
$(VENV)/.bytecode: $(wildcard etl/*.py etl/readers/*.py dashboard/*.py bench/*.py) | $(BIN)/python
	$(BIN)/python -m compileall -q etl dashboard bench >/dev/null
	touch $@

deps: $(VENV)/.deps $(VENV)/.bytecode
dev-deps: deps $(VENV)/.dev-deps

# nginx (make serve, and the tests of it) from Debian, only when missing.
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
		echo "Installing Debian package: nginx"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx >/dev/null; \
	fi

# Debian chromium (browser tests, chart export) and CJK fonts, only when missing.
system-deps: nginx
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "Installing Debian packages: chromium fonts-noto-cjk"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# Build the (sample) warehouse unless one is already published.
warehouse: deps
	@$(BIN)/python -m etl where >/dev/null 2>&1 || $(BIN)/python -m etl build

# On this machine only: `make run HOST=0.0.0.0` opens it to the LAN (on the command line only, an
# exported HOST — some shells set one — is ignored); for many viewers use make serve.
# FORWARDED_ALLOW_IPS empty: Streamlit's server takes no client's X-Forwarded-For as its address.
run: HOST = 127.0.0.1
run: warehouse
	FORWARDED_ALLOW_IPS= $(BIN)/python -m streamlit run app.py --server.port $(PORT) \
		--server.address $(HOST) --server.headless true --browser.gatherUsageStats false

# N replicas on loopback behind nginx on $(PORT); Ctrl-C stops them all (deploy/README.md).
serve: warehouse nginx
	$(BIN)/python deploy/serve.py --replicas $(REPLICAS) --port $(PORT)

# The whole suite in parallel (pytest.ini: one worker per core), after the lint and format check.
test: dev-deps system-deps lint
	$(BIN)/python -m pytest -q

# While editing: no browser, nginx or multi-process tests (about a minute).
test-fast: dev-deps
	$(BIN)/python -m pytest -q -m "not browser and not slow"

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Apply the formatter and the safe lint fixes.
format: dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: dev-deps
	$(BIN)/python -m bench

clean:
	rm -rf data/warehouse data/sample .pytest_cache
