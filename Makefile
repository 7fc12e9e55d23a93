# The README's commands: `make dev` runs the pipeline locally; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install dev test check lint typecheck pytest requirements browser bench stage clean terraform-check plan plan-inputs

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

# Offline Terraform checks (providers cannot be downloaded here): fmt of the repository's
# .tf files (not an operator's terraform.tfvars), then terraform init -backend=false and
# terraform validate against the google provider's schema, served by the schema-only
# provider in infra/schema_provider. tests/deploy runs the same validation with assertions,
# parses the HCL for the wiring tests, and runs checkov.
# Without terraform on the machine: a failure in CI, a warning elsewhere.
TF_FILES = $(shell find terraform tests/deploy/fixtures -name '*.tf' -not -path '*/.terraform/*' | sort)

terraform-check: install
	@if command -v terraform >/dev/null 2>&1; then \
	  terraform fmt -check $(TF_FILES) && \
	  $(BIN)/python -m infra.schema_provider validate terraform; \
	elif [ "$$CI" = "true" ]; then \
	  echo "terraform is not installed (CI=true: this fails)"; exit 1; \
	else \
	  echo "warning: terraform is not installed; skipping terraform fmt and validate"; \
	fi

# terraform plan with your own credentials (gcloud auth application-default login) and
# terraform/terraform.tfvars, against the remote state in STATE_BUCKET (docs/deploy.md).
# Writes terraform/tfplan; `terraform -chdir=terraform apply tfplan` applies exactly it.
STATE_PREFIX ?= loyjoy-ga4-relay

plan-inputs:
	@test -f terraform/terraform.tfvars || { echo "terraform/terraform.tfvars is missing: copy terraform/terraform.tfvars.example and fill it in (docs/deploy.md)" >&2; exit 1; }
	@test -n "$(STATE_BUCKET)" || { echo "STATE_BUCKET is not set: make plan STATE_BUCKET=<the Terraform state bucket> (docs/deploy.md)" >&2; exit 1; }
	@command -v terraform >/dev/null 2>&1 || { echo "terraform is not installed (docs/deploy.md, Prerequisites)" >&2; exit 1; }

plan: plan-inputs stage
	terraform -chdir=terraform init -input=false -backend-config="bucket=$(STATE_BUCKET)" -backend-config="prefix=$(STATE_PREFIX)"
	terraform -chdir=terraform plan -input=false -out=tfplan

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
