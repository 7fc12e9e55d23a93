"""cloudbuild.yaml: the pipeline's steps, their order, pinned images and the main-only apply."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.processes import ROOT

EXPECTED_ORDER = [
    "terraform-binary",
    "test",
    "rules-check",
    "stage",
    "terraform-fmt",
    "fetch-tfvars",
    "terraform-init",
    "terraform-validate",
    "terraform-plan",
    "terraform-apply",
]


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    """The parsed cloudbuild.yaml."""
    loaded = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _steps(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in pipeline["steps"]}


def _command(step: dict[str, Any]) -> str:
    return " ".join([step.get("entrypoint", ""), *map(str, step.get("args", []))])


def test_steps_run_in_the_expected_order(pipeline: dict[str, Any]) -> None:
    """Terraform binary, test, rules, stage, fmt, tfvars, init, validate, plan, apply: in order."""
    assert [step["id"] for step in pipeline["steps"]] == EXPECTED_ORDER
    assert all("waitFor" not in step for step in pipeline["steps"]), "steps run one after another"


def test_every_image_is_pinned_to_a_version(pipeline: dict[str, Any]) -> None:
    """Each step image names a version tag (or digest), never latest or nothing."""
    for step in pipeline["steps"]:
        image = step["name"]
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert "@sha256:" in image or (tag and tag != "latest" and tag[0].isdigit()), image


def test_test_step_runs_the_suite_with_ci_true(pipeline: dict[str, Any]) -> None:
    """The test step runs lint, types, requirements check and pytest with CI=true."""
    step = _steps(pipeline)["test"]
    assert "CI=true" in step["env"]
    script = _command(step)
    for part in ("make install browser check", "infra/requirements.py --check", ".venv/bin/pytest"):
        assert part in script


def test_fmt_checks_the_repository_before_the_operators_tfvars_arrive(
    pipeline: dict[str, Any],
) -> None:
    """fmt runs before fetch-tfvars, so an operator's terraform.tfvars is never fmt-checked."""
    order = [step["id"] for step in pipeline["steps"]]
    assert order.index("terraform-fmt") < order.index("fetch-tfvars")
    assert "terraform/terraform.tfvars" in _command(_steps(pipeline)["fetch-tfvars"])


def test_test_step_has_the_pinned_terraform_for_the_offline_validate(
    pipeline: dict[str, Any],
) -> None:
    """The test step (CI=true: no terraform fails) gets the same terraform the deploy uses."""
    steps = _steps(pipeline)
    terraform_images = {
        step["name"] for step in pipeline["steps"] if step["id"].startswith("terraform-")
    }
    assert terraform_images == {"hashicorp/terraform:1.11.4"}
    assert 'cp "$$(command -v terraform)" build/bin/terraform' in _command(
        steps["terraform-binary"]
    )
    assert 'export PATH="$$PWD/build/bin:$$PATH"' in _command(steps["test"])


def test_rules_are_checked_and_functions_staged_before_terraform(pipeline: dict[str, Any]) -> None:
    """The consent rules file is checked and the uploads staged before any Terraform step."""
    steps = _steps(pipeline)
    assert _command(steps["rules-check"]).endswith("rules check infra/consent-rules.yaml")
    assert "loyjoy-relay" in steps["rules-check"]["entrypoint"]
    assert "infra/stage_functions.py" in _command(steps["stage"])


def test_terraform_uses_the_state_bucket_substitution(pipeline: dict[str, Any]) -> None:
    """init takes its backend bucket and prefix from substitutions; fmt runs with -check."""
    steps = _steps(pipeline)
    init = _command(steps["terraform-init"])
    assert "-backend-config=bucket=${_TF_STATE_BUCKET}" in init
    assert "-backend-config=prefix=${_TF_STATE_PREFIX}" in init
    assert "_TF_STATE_BUCKET" in pipeline["substitutions"]
    assert "fmt -check -recursive terraform" in _command(steps["terraform-fmt"])
    assert "gs://${_TF_STATE_BUCKET}/" in _command(steps["fetch-tfvars"])


def test_apply_runs_the_saved_plan_only_on_the_deploy_branch(pipeline: dict[str, Any]) -> None:
    """Apply applies the plan file and only when the branch is the deploy branch (main)."""
    steps = _steps(pipeline)
    assert "-out=tfplan" in _command(steps["terraform-plan"])
    apply = _command(steps["terraform-apply"])
    assert 'if [ "${BRANCH_NAME}" = "${_DEPLOY_BRANCH}" ]' in apply
    assert "apply -input=false tfplan" in apply
    assert pipeline["substitutions"]["_DEPLOY_BRANCH"] == "main"
