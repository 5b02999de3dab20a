# Two commands a newcomer needs (see README):  make run   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Every dependency (the dev tools included), resolved and hashed: what CI tested is what a
# fresh clone installs. `make lock` refreshes it after a change to pyproject.toml.
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck contracts unit setup clean topology topology-down lock

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "boxoffice needs Python 3.11+"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r $(LOCK)
	@$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

## Re-resolve requirements.lock from pyproject.toml (newest versions its bounds allow)
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --upgrade --quiet -o $(LOCK)

## Set up and run the product embedded (SQLite, in-memory adapters, demo data) on 127.0.0.1:8000
run: $(STAMP)
	$(BIN)/boxoffice run

lint: $(STAMP)
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

## Set up and run every check and the whole test suite
test: $(STAMP) lint typecheck contracts
	$(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

## A production-like topology on this machine: 3 API processes, dispatcher, worker, scheduler, nginx
topology: $(STAMP)
	$(BIN)/python deploy/local.py up

topology-down: $(STAMP)
	$(BIN)/python deploy/local.py down

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
