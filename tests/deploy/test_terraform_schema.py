"""terraform init and validate, offline, against the google provider's real schema.

The schema-only provider (infra/schema_provider) serves the schema of the pinned
cdktn-provider-google; Terraform checks names, required arguments, nesting, types and
references, and the provider's Validate* answers add computed-only and enum checks. A
fixture that breaks the schema once per block proves each check fails when it should.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from infra.schema_provider import cache, runner
from infra.schema_provider.assembly import assembly_path
from tests.deploy.terraform_model import TerraformConfig, load
from tests.support.processes import ROOT

TERRAFORM_DIR = ROOT / "terraform"
VIOLATIONS = Path(__file__).parent / "fixtures" / "schema_violations"
_MARKER = re.compile(r"# error: ([^(\n]+?)\s*(?:\(|$)")


@pytest.fixture(scope="module")
def deployment(schema_provider: runner.RunningProvider) -> runner.Validation:
    """terraform init -backend=false and validate of terraform/."""
    return runner.validate(schema_provider, TERRAFORM_DIR)


@pytest.fixture(scope="module")
def violations(schema_provider: runner.RunningProvider) -> runner.Validation:
    """terraform init -backend=false and validate of the schema-breaking fixture."""
    return runner.validate(schema_provider, VIOLATIONS)


def _errors_by_line(validation: runner.Validation) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for diagnostic in validation.report["diagnostics"]:
        assert diagnostic["severity"] == "error", diagnostic
        found.setdefault(diagnostic["range"]["start"]["line"], []).append(diagnostic["summary"])
    return found


def test_deployment_is_valid_against_the_provider_schema(deployment: runner.Validation) -> None:
    """init and validate of terraform/ succeed with no error and no warning."""
    assert deployment.init.returncode == 0, deployment.init.stdout + deployment.init.stderr
    assert deployment.report["valid"] is True, deployment.report
    assert deployment.report["error_count"] == 0
    assert deployment.report["warning_count"] == 0, deployment.report["diagnostics"]


def test_provider_checked_every_resource_and_data_block(deployment: runner.Validation) -> None:
    """Each resource and data block of terraform/ went through the provider's validation."""
    config = load(TERRAFORM_DIR)
    checked = Counter((call["rpc"], call["type_name"]) for call in deployment.calls)
    expected = Counter(("resource", address.split(".")[0]) for address in config.resources)
    expected.update(("data", address.split(".")[1]) for address in config.data_sources)
    expected[("provider", "google")] = 1
    assert checked == expected
    assert sum(checked.values()) >= 30
    assert all(call["errors"] == [] for call in deployment.calls)


def test_each_schema_violation_fails_on_its_line(violations: runner.Validation) -> None:
    """The fixture fails, with exactly the error each marked line names, and nowhere else."""
    assert violations.init.returncode == 0, violations.init.stderr
    assert violations.report["valid"] is False
    expected = {
        number: match.group(1)
        for number, line in enumerate((VIOLATIONS / "main.tf").read_text().splitlines(), 1)
        if (match := _MARKER.search(line))
    }
    assert len(expected) == 11
    found = _errors_by_line(violations)
    assert set(found) == set(expected), (found, expected)
    for number, summary in expected.items():
        assert any(s.startswith(summary) for s in found[number]), (number, found[number])


def test_provider_side_checks_are_the_providers_answers(violations: runner.Validation) -> None:
    """The enum and computed-only errors come from the provider's validation of those blocks."""
    errors = {call["type_name"]: call["errors"] for call in violations.calls if call["errors"]}
    assert errors["google_service_account"] == ["Value for unconfigurable attribute"]
    (enum_error,) = errors["google_cloudfunctions2_function"]
    assert enum_error == (
        "expected ingress_settings to be one of "
        '["ALLOW_ALL" "ALLOW_INTERNAL_ONLY" "ALLOW_INTERNAL_AND_GCLB" ""], got ALLOW_EVERYONE'
    )


def test_init_fails_on_an_expression_that_cannot_load(
    schema_provider: runner.RunningProvider, tmp_path: Path
) -> None:
    """A string multiplied by a string (the defect of issue 14) stops init, as for a user."""
    (tmp_path / "main.tf").write_text(
        'variable "origins" {\n  type        = list(string)\n'
        '  description = "Origins. " * " allows any origin."\n}\n'
    )
    result = runner.validate(schema_provider, tmp_path)
    assert result.init.returncode != 0
    assert "Invalid operand" in result.init.stderr
    assert not result.ok


# The pin: the bindings' provider version against terraform/versions.tf.


def _parts(text: str) -> tuple[int, ...]:
    numbers = [int(part) for part in text.split(".")]
    return tuple(numbers + [0] * (3 - len(numbers)))


def _satisfies(version: str, constraints: str) -> bool:
    """Terraform's version constraint syntax: comma-separated ``op version`` terms."""
    actual = _parts(version)
    for term in constraints.split(","):
        match = re.fullmatch(r"\s*(~>|>=|<=|!=|>|<|=)?\s*(\d+(?:\.\d+){0,2})\s*", term)
        assert match is not None, term
        op, bound = match.group(1) or "=", _parts(match.group(2))
        if op == "~>":  # the last given part may grow: ~> 7.0 is >= 7.0, < 8
            fixed = max(match.group(2).count("."), 1)
            ok = actual >= bound and actual[:fixed] == bound[:fixed]
        else:
            ok = {
                "=": actual == bound,
                "!=": actual != bound,
                ">": actual > bound,
                ">=": actual >= bound,
                "<": actual < bound,
                "<=": actual <= bound,
            }[op]
        if not ok:
            return False
    return True


def _versions_tf_constraint(config: TerraformConfig) -> str:
    (terraform,) = config.terraform_blocks
    providers: Any = terraform["required_providers"]
    google = providers[0]["google"]
    entry = google[0] if isinstance(google, list) else google
    version = entry["version"]
    assert isinstance(version, str)
    return version


def test_version_constraint_reading() -> None:
    """The constraint check follows Terraform's rules, pessimistic operator included."""
    assert _satisfies("7.46.1", "~> 7.0")
    assert not _satisfies("8.0.0", "~> 7.0")
    assert _satisfies("7.46.1", "~> 7.46.0")
    assert not _satisfies("7.47.0", "~> 7.46.0")
    assert _satisfies("7.46.1", ">= 7.0, < 8.0")
    assert not _satisfies("6.9.0", ">= 7.0, < 8.0")
    assert not _satisfies("7.46.1", "= 7.0")
    assert _satisfies("7.0.0", "7.0")


def test_schema_is_of_a_provider_version_versions_tf_allows() -> None:
    """The pinned bindings carry a google provider inside terraform/versions.tf's constraint."""
    schema = cache.cached_schema()
    constraint = _versions_tf_constraint(load(TERRAFORM_DIR))
    assert constraint == "~> 7.0"
    assert _satisfies(schema.provider_version, constraint), (schema.provider_version, constraint)
    assert assembly_path().name.startswith("provider-google@")
