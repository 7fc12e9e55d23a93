# The README's commands: `make dev` runs the pipeline locally; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install dev test check lint typecheck pytest requirements browser bench stage clean terraform-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev: install
	$(BIN)/loyjoy-relay dev

requirements: install
	$(BIN)/python infra/requirements.py

check: lint typecheck

lint: install
	$(BIN)/ruff check functions tests bench infra
	$(BIN)/ruff format --check functions tests bench infra

typecheck: install
	$(BIN)/mypy

browser:
	@bash infra/ensure-debian-package.sh chromium chromium

# Offline Terraform checks (providers cannot be downloaded here); tests/deploy parses the HCL
# and runs checkov.
# Without terraform on the machine: a failure in CI, a warning elsewhere.
terraform-check:
	@if command -v terraform >/dev/null 2>&1; then \
	  terraform fmt -check -recursive terraform; \
	elif [ "$$CI" = "true" ]; then \
	  echo "terraform is not installed (CI=true: this fails)"; exit 1; \
	else \
	  echo "warning: terraform is not installed; skipping terraform fmt -check"; \
	fi

test: install browser check terraform-check
	$(BIN)/python infra/requirements.py --check
	$(BIN)/pytest

bench: install
	@bash infra/ensure-debian-package.sh wrk wrk
	$(BIN)/python -m bench.run

stage: install
	$(BIN)/python infra/stage_functions.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
