# Rasa assistant targets (included by the main Makefile).
#
#   make train          train dialogue/rasa when its config/domain/data changed (else skip)
#   make rasa-validate  knowledge file check + rasa data validate --fail-on-warnings
#   make rasa-test      validate, train, test stories, NLU cross-validation report
#   make rasa-serve     run Rasa (127.0.0.1:5005) and the action server (5055) by hand
#   make rasa-reload    load the newest trained model into the running Rasa server
#   make rasa-bench     REST round trip, reload and F1 figures -> bench/results/rasa.json
#   make rasa-venv      create the Rasa environment (Python 3.10 + rasa 3.6.21)
#
# Rasa 3.6 needs Python 3.10: RASA_PYTHON is the first working one found (a pyenv
# shim that is not selected does not count). Override either variable if needed.

RASA_VENV ?= .venv-rasa
RASA_PYTHON ?= $(shell scripts/rasa/find_python.sh)
RASA_VENV_STAMP := $(RASA_VENV)/.loket-rasa-installed
RASA_RUN := RASA_VENV=$(RASA_VENV) $(RASA_VENV)/bin/python
RASA_TEST_ARGS ?=
RASA_URL ?= http://127.0.0.1:5005

.PHONY: rasa-venv train rasa-validate rasa-test rasa-serve rasa-reload rasa-bench

rasa-venv:
	@scripts/rasa/ensure_venv.sh "$(RASA_VENV)" "$(RASA_PYTHON)" "$(RASA_VENV_STAMP)"

train: rasa-venv
	@$(RASA_RUN) scripts/rasa/train.py

rasa-validate: rasa-venv
	@$(RASA_RUN) scripts/rasa/validate.py

rasa-test: rasa-venv
	@$(RASA_RUN) scripts/rasa/test.py $(RASA_TEST_ARGS)

rasa-serve: train
	@cd dialogue/rasa && trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	  SANIC_HOST=127.0.0.1 RASA_TELEMETRY_ENABLED=false ../../$(RASA_VENV)/bin/rasa run actions --actions actions -p 5055 & pid=$$!; \
	  RASA_TELEMETRY_ENABLED=false ../../$(RASA_VENV)/bin/rasa run --enable-api -i 127.0.0.1 -p 5005 \
	    --model models --endpoints endpoints.yml --credentials credentials.yml

rasa-reload: rasa-venv
	@$(RASA_RUN) scripts/rasa/reload.py --url $(RASA_URL)

rasa-bench: train
	@$(RASA_RUN) scripts/rasa/bench_rest.py
