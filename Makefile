# Loket — the README's two commands: `make run` and `make test`.
# Everything they need is installed on first use and cached in the workspace.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMPS := .stamps
APT_PACKAGES := sip-tester baresip-core espeak-ng sox chromium chromium-driver redis-server redis-tools fillets-ng-data-nl fillets-ng-data postgresql
APT_COMMANDS := sipp baresip espeak-ng sox chromium chromedriver redis-server redis-cli
LINT_PATHS := telephony voice dialogue config loket records
# Debian keeps PostgreSQL's server commands (initdb, pg_ctl) off PATH: checked here instead
PG_BIN_GLOB := /usr/lib/postgresql/*/bin

# Rasa (Python 3.10 venv, training, designer targets): RASA_PYTHON, RASA_VENV, train, rasa-test …
include mk/rasa.mk

.PHONY: help run test unit lint bench fuzz soak models venv apt shell clean

help:
	@echo "make run    — set up what is missing, start Rasa, the action server and the gateway"
	@echo "make test   — set up what is missing, run the whole test suite (lint, unit, interop, e2e, Rasa)"
	@echo "make bench  — benchmarks (JSON in bench/results/)"
	@echo "make fuzz   — long SIP fuzzing campaign: 1M messages to the core, 200k to a live gateway"
	@echo "make soak   — 30 minutes of mixed calls; resources must stay flat (not in CI)"
	@echo "make models — fetch the speech models that can be downloaded (loket models list shows all)"
	@echo "make train  — train the Rasa model (skipped when the project is unchanged)"
	@echo "make shell  — text chat with the assistant"

# --- set-up ---------------------------------------------------------------

$(STAMPS):
	@mkdir -p $(STAMPS)

# The gateway's venv, rebuilt when pyproject.toml changes.
$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(STAMPS)/venv

# Debian packages the tests and the fallback voice need (apt-get update once).
apt:
	@missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	for p in $(filter fillets-%,$(APT_PACKAGES)); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	ls $(PG_BIN_GLOB)/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages (missing:$$missing)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "Need root to install: $(APT_PACKAGES)"; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

models: venv
	$(BIN)/loket models fetch

# --- the two commands -----------------------------------------------------

run: venv apt train
	@$(BIN)/loket config check
	@-$(BIN)/loket models fetch || echo "(continuing: languages without models are handed to an agent; see above)"
	$(BIN)/python -m loket.supervisor --rasa-venv $(RASA_VENV)

test: venv apt lint train
	$(BIN)/loket models fetch silero-vad-6.2 whisper-base
	$(BIN)/pytest -q
	$(MAKE) rasa-test

unit: venv
	$(BIN)/pytest -q tests/unit

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(LINT_PATHS) tests/tools

bench: venv apt train
	$(BIN)/python -m bench.run

fuzz: venv apt
	$(BIN)/python -m bench.fuzz

soak: venv apt
	$(BIN)/python -m bench.soak

shell: venv
	$(BIN)/loket shell

clean:
	rm -rf $(STAMPS) .pytest_cache .mypy_cache .ruff_cache
