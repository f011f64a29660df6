# Every target installs what it needs on first use: a fresh machine needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= dev
DEPLOY_STAGES := dev prod

.PHONY: run test lint typecheck template unit e2e bench package clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

## make run: the product on this machine (embedded AWS, API, queue pump)
run: $(STAMP)
	$(PY) -m local

## make test: lint, types, the deploy template (cfn-lint), unit and end-to-end tests
test: lint typecheck template
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest -m "not e2e"

e2e: $(STAMP)
	$(PY) -m pytest -m e2e

## make template: the SAM template of every stage, built offline, checked by cfn-lint
template: $(STAMP)
	@for stage in $(DEPLOY_STAGES); do \
		$(PY) -m infra template --stage $$stage --out build/template-$$stage >/dev/null && \
		$(VENV)/bin/cfn-lint build/template-$$stage/package/sam.json && \
		echo "cfn-lint: build/template-$$stage/package/sam.json is clean" || exit 1; \
	done

## make package STAGE=dev: the deployable SAM template and code bundle in build/<stage>/
package: $(STAMP)
	$(PY) -m infra resources --stage $(STAGE) --out infra/resources.json
	rm -rf build/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}} $(VENV)/bin/chalice package \
		--stage $(STAGE) --merge-template infra/resources.json build/$(STAGE)
	@echo "packaged: build/$(STAGE)/sam.json and build/$(STAGE)/deployment.zip"

## make bench: cold start and the other measured figures
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build infra/resources.json
