# riskshare: two commands on a fresh machine with Python 3.11+.
#   make app    set up .venv if needed, then open the app on the bundled sample system
#   make test   set up .venv if needed, then lint (ruff), type-check riskshare/ (mypy) and run
#               the whole test suite (browser test included)

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# The first Python 3.11+ found on PATH; override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON  ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
             && { command -v $$p; break; }; done)
PORT    ?= 8501

.PHONY: app test setup browser-deps bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "riskshare needs Python 3.11 or newer on PATH (or make PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

app: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# Debian's Chromium for the browser test; installed when absent under CI=true (see the script).
browser-deps:
	@bash scripts/ensure-chromium

test: $(STAMP) browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .hypothesis artifacts
