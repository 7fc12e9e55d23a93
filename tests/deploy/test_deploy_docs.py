"""docs/deploy.md names the same things Terraform creates, so no value has to be guessed."""

from __future__ import annotations

import re

import pytest

from tests.deploy.terraform_model import TerraformConfig, load, value
from tests.support.processes import ROOT

GUIDE = ROOT / "docs" / "deploy.md"


@pytest.fixture(scope="module")
def terraform() -> TerraformConfig:
    """The parsed terraform/ directory."""
    return load()


def test_guide_adds_the_secret_value_to_the_secret_terraform_creates(
    terraform: TerraformConfig,
) -> None:
    """The gcloud command in the guide targets the secret id Terraform declares."""
    secret_id = value(
        terraform.resource("google_secret_manager_secret.ga4_api_secret"), "secret_id"
    )
    guide = GUIDE.read_text()
    assert f"gcloud secrets versions add {secret_id} --data-file=-" in guide
    assert (
        f"gcloud secrets versions add {secret_id} --data-file=-"
        in (ROOT / "terraform" / "secrets.tf").read_text()
    )


def test_guide_names_the_default_topic_and_subscriptions(terraform: TerraformConfig) -> None:
    """Topic and subscription names in the guide follow Terraform's naming from topic_name."""
    topic = value(terraform.variables["topic_name"], "default")
    guide = GUIDE.read_text()
    for template in (
        "dead_letter_topic_name",
        "relay_subscription_name",
        "replay_subscription_name",
    ):
        name = terraform.locals[template].replace("${var.topic_name}", topic)
        assert f"`{name}`" in guide, name


def test_guide_covers_each_task_of_the_deploy_section() -> None:
    """Prerequisites, first deploy, secret, website, rules, replay and cost all have a section."""
    headings = set(re.findall(r"^## (.+)$", GUIDE.read_text(), flags=re.MULTILINE))
    assert {
        "Prerequisites",
        "From an empty project to a working endpoint",
        "How a website adds the listener",
        "How the privacy team changes the consent rules",
        "Dead letters and replay",
        "What it costs",
    } <= headings


def test_guide_commands_use_the_cli_contract() -> None:
    """The guide uses the contract's commands: rules check, explain, replay with its options."""
    guide = GUIDE.read_text()
    for command in (
        "loyjoy-relay rules check infra/consent-rules.yaml",
        "loyjoy-relay explain --rules infra/consent-rules.yaml events.jsonl",
        "loyjoy-relay replay --dry-run",
        "loyjoy-relay replay --limit",
        "make stage",
        "bench/README.md",
    ):
        assert command in guide, command


def test_guide_plans_with_make_plan_and_applies_that_plan() -> None:
    """The guide's deploy is `make plan` with the state bucket, then applying the saved plan."""
    guide = GUIDE.read_text()
    readme = (ROOT / "README.md").read_text()
    for text in (guide, readme):
        assert 'make plan STATE_BUCKET="$STATE_BUCKET"' in text
        assert "terraform -chdir=terraform apply tfplan" in text
    makefile = (ROOT / "Makefile").read_text()
    assert "-out=tfplan" in makefile
    assert guide.index("gcloud secrets versions add") < guide.index("make plan")


def test_guide_names_outputs_terraform_declares(terraform: TerraformConfig) -> None:
    """Every `output -raw <name>` in the guide and the README is an output of terraform/."""
    for path in (GUIDE, ROOT / "README.md"):
        named = set(re.findall(r"output -raw ([a-z_]+)", path.read_text()))
        assert "website_snippet" in named
        assert named <= set(terraform.outputs), (path.name, named - set(terraform.outputs))


def test_guide_says_secrets_are_resolved_at_start_and_who_may_read_them(
    terraform: TerraformConfig,
) -> None:
    """A missing secret stops the relay, says the guide, and per-bot secrets need a grant."""
    guide = " ".join(GUIDE.read_text().split())
    assert "the relay resolves every configured GA4 API secret when an instance starts" in guide
    assert "A missing or unreadable one stops the instance" in guide
    account = value(terraform.resource("google_service_account.relay"), "account_id")
    member = f'--member="serviceAccount:{account}@$PROJECT_ID.iam.gserviceaccount.com"'
    assert member in guide
    assert "--role=roles/secretmanager.secretAccessor" in guide
