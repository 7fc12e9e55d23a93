"""The Terraform wiring, read from the HCL: what the code needs is exactly what is deployed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.config import IngestSettings, RelaySettings

from tests.deploy.terraform_model import TerraformConfig, block, load, referenced, value
from tests.support.processes import ROOT

CONFIG_SOURCE = ROOT / "functions" / "loyjoy_relay" / "config.py"

# Variables the relay's code reads that Terraform deliberately leaves unset, with why.
RELAY_UNSET_BY_TERRAFORM = {
    "GA4_API_SECRET": "the value is for local runs; deployed, the relay reads GA4_API_SECRET_NAME",
    "PSEUDONYM_KEY": "the value is for local runs; deployed, the relay reads PSEUDONYM_KEY_NAME",
    "CONSENT_RULES": "unset: the relay reads the copy of infra/consent-rules.yaml in its upload",
    "GA4_MAPPING": "unset: the relay reads the copy of infra/ga4-mapping.yaml in its upload",
}

# principal, role, the one resource it is granted on
EXPECTED_GRANTS = {
    ("google_service_account.ingest", "roles/pubsub.publisher", "google_pubsub_topic.events"),
    ("google_service_account.relay", "roles/pubsub.publisher", "google_pubsub_topic.dead_letter"),
    (
        "google_service_account.relay",
        "roles/secretmanager.secretAccessor",
        "google_secret_manager_secret.ga4_api_secret",
    ),
    (
        "google_service_account.relay",
        "roles/secretmanager.secretAccessor",
        "google_secret_manager_secret.pseudonym_key",
    ),
    ("google_service_account.relay", "roles/datastore.user", "project"),
    (
        "google_service_account.relay_invoker",
        "roles/run.invoker",
        "google_cloudfunctions2_function.relay",
    ),
    ("allUsers", "roles/run.invoker", "google_cloudfunctions2_function.ingest"),
    ("local.pubsub_service_agent", "roles/pubsub.publisher", "google_pubsub_topic.dead_letter"),
    (
        "local.pubsub_service_agent",
        "roles/pubsub.subscriber",
        "google_pubsub_subscription.relay",
    ),
    (
        "local.pubsub_service_agent",
        "roles/iam.serviceAccountTokenCreator",
        "google_service_account.relay_invoker",
    ),
}

# The attribute of each IAM member resource that names the resource it grants on.
_IAM_TARGET = {
    "google_pubsub_topic_iam_member": "topic",
    "google_pubsub_subscription_iam_member": "subscription",
    "google_secret_manager_secret_iam_member": "secret_id",
    "google_cloud_run_v2_service_iam_member": "name",
    "google_service_account_iam_member": "service_account_id",
    "google_project_iam_member": "project",
}


class RecordingEnv(dict[str, str]):
    """An environment that remembers every variable name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        """Record the name, then answer like a dict."""
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)


@pytest.fixture(scope="module")
def terraform() -> TerraformConfig:
    """The parsed terraform/ directory."""
    return load()


def _ingest_reads() -> set[str]:
    env = RecordingEnv({"GOOGLE_CLOUD_PROJECT": "p"})
    IngestSettings.from_env(env)
    return env.read


def _relay_reads(tmp_path: Path) -> set[str]:
    rules, mapping = tmp_path / "rules.yaml", tmp_path / "mapping.yaml"
    rules.write_text("version: 1\n")
    mapping.write_text("version: 1\n")
    env = RecordingEnv(
        {
            "GOOGLE_CLOUD_PROJECT": "p",
            "GA4_MEASUREMENT_ID": "G-ABC123XYZ",
            "GA4_API_SECRET_NAME": "projects/p/secrets/s/versions/latest",
            "PSEUDONYM_KEY_NAME": "projects/p/secrets/k/versions/latest",
            "CONSENT_RULES": str(rules),
            "GA4_MAPPING": str(mapping),
        }
    )
    RelaySettings.from_env(env)
    return env.read


def _environment(terraform: TerraformConfig, function: str) -> dict[str, Any]:
    body = terraform.resource(f"google_cloudfunctions2_function.{function}")
    expression = value(block(body, "service_config"), "environment_variables")
    assert isinstance(expression, str), "environment_variables should come from one local"
    environment = terraform.locals[referenced(expression).removeprefix("local.")]
    assert isinstance(environment, dict)
    return environment


def _config_literals() -> set[str]:
    return set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', CONFIG_SOURCE.read_text()))


# Read only by operators' commands (``loyjoy-relay replay``), never by a deployed function.
CLI_ONLY = {"DEAD_LETTER_SUBSCRIPTION"}
# Read by functions-framework's server (its gunicorn threads), not by config.py.
SERVER_VARIABLES = {"THREADS"}


def test_every_variable_named_in_config_is_read_by_one_of_the_settings(tmp_path: Path) -> None:
    """The recorded reads cover every environment variable name config.py spells out."""
    assert _config_literals() == _ingest_reads() | _relay_reads(tmp_path) | CLI_ONLY


def test_ingest_environment_is_exactly_what_the_code_reads(terraform: TerraformConfig) -> None:
    """Terraform sets every variable ingest reads, and nothing else."""
    assert set(_environment(terraform, "ingest")) == _ingest_reads() | SERVER_VARIABLES


@pytest.mark.parametrize("function", ["ingest", "relay"])
def test_each_function_serves_as_many_requests_at_once_as_cloud_run_sends(
    terraform: TerraformConfig, function: str
) -> None:
    """The server's threads follow the function's concurrency, so none wait in the backlog."""
    body = terraform.resource(f"google_cloudfunctions2_function.{function}")
    concurrency = value(block(body, "service_config"), "max_instance_request_concurrency")
    assert concurrency == f"${{var.{function}_concurrency}}"
    assert _environment(terraform, function)["THREADS"] == f"${{tostring({concurrency[2:-1]})}}"


def test_relay_environment_is_what_the_code_reads_minus_the_documented_exceptions(
    terraform: TerraformConfig, tmp_path: Path
) -> None:
    """Terraform sets every variable relay reads except the listed local-only ones."""
    reads = _relay_reads(tmp_path)
    assert set(RELAY_UNSET_BY_TERRAFORM) <= reads, "an exception names a variable no longer read"
    expected = reads - set(RELAY_UNSET_BY_TERRAFORM) | SERVER_VARIABLES
    assert set(_environment(terraform, "relay")) == expected


def test_relay_reads_the_api_secret_from_secret_manager_latest_version(
    terraform: TerraformConfig,
) -> None:
    """GA4_API_SECRET_NAME is a version resource name of the one secret, never the value."""
    name = _environment(terraform, "relay")["GA4_API_SECRET_NAME"]
    assert name == "${google_secret_manager_secret.ga4_api_secret.id}/versions/latest"


def test_relay_reads_the_pseudonym_key_from_its_own_secret(terraform: TerraformConfig) -> None:
    """PSEUDONYM_KEY_NAME is the latest version of a secret of its own, never a value."""
    name = _environment(terraform, "relay")["PSEUDONYM_KEY_NAME"]
    assert name == "${google_secret_manager_secret.pseudonym_key.id}/versions/latest"
    secret = terraform.resource("google_secret_manager_secret.pseudonym_key")
    assert value(secret, "secret_id") == "loyjoy-pseudonym-key"


def _iam_members(terraform: TerraformConfig) -> Iterator[tuple[str, str, str]]:
    for address, body in terraform.resources.items():
        resource_type = address.split(".")[0]
        if "_iam_" not in resource_type:
            continue
        assert resource_type in _IAM_TARGET, f"{address}: only additive *_iam_member grants"
        member = value(body, "member")
        principal = "allUsers" if member == "allUsers" else referenced(member)
        target = value(body, _IAM_TARGET[resource_type])
        target = "project" if resource_type == "google_project_iam_member" else referenced(target)
        yield principal, value(body, "role"), target


def test_each_identity_has_exactly_its_least_privilege_grants(terraform: TerraformConfig) -> None:
    """The set of (who, role, on what) grants is exactly the expected least-privilege set."""
    assert set(_iam_members(terraform)) == EXPECTED_GRANTS


def test_the_only_project_level_grant_is_conditioned_to_the_firestore_database(
    terraform: TerraformConfig,
) -> None:
    """datastore.user is granted on the project (its only level) but only for our database."""
    grants = terraform.of_type("google_project_iam_member")
    assert list(grants) == ["google_project_iam_member.relay_firestore_user"]
    condition = block(grants["google_project_iam_member.relay_firestore_user"], "condition")
    assert value(condition, "expression") == (
        'resource.name == "${google_firestore_database.main.id}"'
    )


def test_functions_run_as_their_own_service_accounts(terraform: TerraformConfig) -> None:
    """Each function runs as its own account, never the default compute account."""
    for function in ("ingest", "relay"):
        body = terraform.resource(f"google_cloudfunctions2_function.{function}")
        account = value(block(body, "service_config"), "service_account_email")
        assert account == f"${{google_service_account.{function}.email}}"


def test_secret_has_no_version_with_a_value(terraform: TerraformConfig) -> None:
    """No secret version (or its data) is declared, so the value never enters the state."""
    assert terraform.of_type("google_secret_manager_secret_version") == {}
    for text in terraform.sources.values():
        assert "secret_data" not in text


def test_relay_subscription_dead_letters_with_exponential_backoff(
    terraform: TerraformConfig,
) -> None:
    """The relay's subscription dead-letters after N attempts and backs off 10 s to 600 s."""
    subscription = terraform.resource("google_pubsub_subscription.relay")
    policy = block(subscription, "dead_letter_policy")
    assert value(policy, "dead_letter_topic") == "${google_pubsub_topic.dead_letter.id}"
    assert value(policy, "max_delivery_attempts") == "${var.max_delivery_attempts}"
    retry = block(subscription, "retry_policy")
    assert (value(retry, "minimum_backoff"), value(retry, "maximum_backoff")) == ("10s", "600s")
    default = value(terraform.variables["max_delivery_attempts"], "default")
    assert 5 <= default <= 100


def test_relay_is_pushed_with_an_oidc_token_of_the_invoker(terraform: TerraformConfig) -> None:
    """Pushes carry the invoker's OIDC token for the relay's own URL; no Eventarc trigger."""
    push = block(terraform.resource("google_pubsub_subscription.relay"), "push_config")
    uri = "${google_cloudfunctions2_function.relay.service_config[0].uri}"
    assert value(push, "push_endpoint") == uri
    token = block(push, "oidc_token")
    assert value(token, "service_account_email") == "${google_service_account.relay_invoker.email}"
    assert value(token, "audience") == uri
    for function in terraform.of_type("google_cloudfunctions2_function").values():
        assert "event_trigger" not in function


def test_push_subscription_waits_for_the_grants_its_first_pushes_need(
    terraform: TerraformConfig,
) -> None:
    """The relay subscription is created only after the grants a push relies on exist."""
    depends_on = value(terraform.resource("google_pubsub_subscription.relay"), "depends_on")
    assert {referenced(entry) for entry in depends_on} == {
        "google_cloud_run_v2_service_iam_member.relay_invoker",
        "google_service_account_iam_member.pubsub_agent_token_creator",
        "google_pubsub_topic_iam_member.dead_letter_publisher_pubsub_agent",
    }
    # The token creator grant is for the invoker account the push's OIDC token names.
    grant = terraform.resource("google_service_account_iam_member.pubsub_agent_token_creator")
    assert referenced(value(grant, "service_account_id")) == "google_service_account.relay_invoker"


def test_dead_letters_are_kept_in_a_pull_subscription_that_never_expires(
    terraform: TerraformConfig,
) -> None:
    """The replay subscription pulls from the dead-letter topic, keeps 7 days, never expires."""
    replay = terraform.resource("google_pubsub_subscription.dead_letter_replay")
    assert value(replay, "topic") == "${google_pubsub_topic.dead_letter.id}"
    assert "push_config" not in replay
    assert value(replay, "message_retention_duration") == "604800s"
    assert value(block(replay, "expiration_policy"), "ttl") == ""
    assert terraform.locals["replay_subscription_name"] == "${var.topic_name}-dead-letter-replay"
    assert terraform.locals["dead_letter_topic_name"] == "${var.topic_name}-dead-letter"


def test_relay_is_internal_only_and_ingest_public(terraform: TerraformConfig) -> None:
    """Only Pub/Sub reaches the relay; browsers reach ingest, only through the load balancer
    when there is one; both have max instances set."""
    behind = '${local.ingest_load_balancer ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"}'
    for function, ingress in (("ingest", behind), ("relay", "ALLOW_INTERNAL_ONLY")):
        service = block(
            terraform.resource(f"google_cloudfunctions2_function.{function}"), "service_config"
        )
        assert value(service, "ingress_settings") == ingress
        assert value(service, "max_instance_count") == f"${{var.{function}_max_instances}}"
        assert (
            value(service, "max_instance_request_concurrency") == f"${{var.{function}_concurrency}}"
        )


def test_functions_use_their_entry_points_and_hash_named_sources(
    terraform: TerraformConfig,
) -> None:
    """Each function builds its entry point from an object named by its staged zip's SHA-256."""
    for function in ("ingest", "relay"):
        build = block(
            terraform.resource(f"google_cloudfunctions2_function.{function}"), "build_config"
        )
        assert value(build, "entry_point") == function
        assert value(build, "runtime") == "python311"
        storage = block(block(build, "source"), "storage_source")
        assert (
            value(storage, "object") == f"${{google_storage_bucket_object.{function}_source.name}}"
        )
        source_object = terraform.resource(f"google_storage_bucket_object.{function}_source")
        assert (
            value(source_object, "name") == f"{function}-${{filesha256(local.{function}_zip)}}.zip"
        )
        assert value(source_object, "source") == f"${{local.{function}_zip}}"
        assert terraform.locals[f"{function}_zip"].endswith(f"/{function}.zip")


def test_firestore_collections_have_ttl_on_expire_at(terraform: TerraformConfig) -> None:
    """consent_ledger and relay_dedup documents expire by their expire_at field."""
    field = terraform.resource("google_firestore_field.ttl")
    collections = re.findall(r"[a-z_]+", value(field, "for_each").removeprefix("${toset"))
    assert sorted(collections) == ["consent_ledger", "relay_dedup"]
    assert value(field, "field") == "expire_at"
    assert "ttl_config" in field


def test_the_ledger_maps_are_not_indexed(terraform: TerraformConfig) -> None:
    """The client ledger's maps (decisions, claims, done) are exempt from indexing."""
    field = terraform.resource("google_firestore_field.ledger_maps_unindexed")
    fields = re.findall(r"[a-z_]+", value(field, "for_each").removeprefix("${toset"))
    assert sorted(fields) == ["claims", "decisions", "done"]
    assert value(field, "collection") == "consent_ledger"
    assert "index_config" in field
    assert "ttl_config" not in field


def test_every_variable_is_typed_described_and_required_ones_validated(
    terraform: TerraformConfig,
) -> None:
    """Every input has a type and a description; the key inputs have a validation."""
    for name, body in terraform.variables.items():
        assert value(body, "type"), name
        assert len(value(body, "description") or "") > 20, name
    for name in (
        "project_id",
        "region",
        "ga4_measurement_id",
        "allowed_origins",
        "allowed_bot_ids",
    ):
        assert "validation" in terraform.variables[name], name


def test_tfvars_example_sets_every_required_variable(terraform: TerraformConfig) -> None:
    """terraform.tfvars.example gives a value for each variable without a default."""
    example = (ROOT / "terraform" / "terraform.tfvars.example").read_text()
    set_names = set(re.findall(r"^([a-z0-9_]+)\s*=", example, flags=re.MULTILINE))
    required = {name for name, body in terraform.variables.items() if "default" not in body}
    assert required <= set_names


def test_outputs_give_urls_and_a_ready_snippet(terraform: TerraformConfig) -> None:
    """The outputs name the ingest URL (the load balancer's domain when there is one, else the
    function's), the listener URL, and the snippet made from that URL.

    What the snippet reads like is evaluated by Terraform in test_terraform_expressions.py.
    """
    uri = "google_cloudfunctions2_function.ingest.service_config[0].uri"
    assert terraform.locals["ingest_public_url"] == (
        f'${{local.ingest_load_balancer ? "https://${{var.ingest_load_balancer_domain}}" : {uri}}}'
    )
    public = "local.ingest_public_url"
    assert value(terraform.outputs["ingest_url"], "value") == f"${{{public}}}"
    assert value(terraform.outputs["listener_url"], "value") == f"${{{public}}}/listener.js"
    snippet = value(terraform.outputs["website_snippet"], "value")
    assert snippet == (
        f"${{format(local.website_snippet_format,{public},local.website_snippet_bot)}}"
    )


def test_log_metrics_cover_each_operational_count(terraform: TerraformConfig) -> None:
    """There is a log-based metric for each count operators watch."""
    names = set(terraform.locals["event_count_metrics"])
    assert names == {
        "ingest_events_received",
        "ingest_events_rejected",
        "relay_events_forwarded",
        "relay_events_anonymized",
        "relay_events_dropped",
        "relay_events_dead_lettered",
    }
    refused = terraform.resource("google_logging_metric.ingest_refused_requests")
    assert "jsonPayload.status=429" in value(refused, "filter")
    assert value(refused, "label_extractors") == {"reason": "EXTRACT(jsonPayload.reason)"}


def test_alerts_watch_the_replay_backlog_and_relay_errors(terraform: TerraformConfig) -> None:
    """One alert watches the replay subscription's backlog, one the relay's failures."""
    backlog = terraform.resource("google_monitoring_alert_policy.dead_letter_backlog")
    condition = block(block(backlog, "conditions"), "condition_threshold")
    assert "subscription/num_undelivered_messages" in value(condition, "filter")
    assert "google_pubsub_subscription.dead_letter_replay.name" in value(condition, "filter")
    errors = terraform.resource("google_monitoring_alert_policy.relay_error_rate")
    query = value(
        block(block(errors, "conditions"), "condition_prometheus_query_language"), "query"
    )
    assert 'response_code_class!="2xx"' in query
    for policy in (backlog, errors):
        assert value(policy, "notification_channels") == "${var.notification_channels}"


def test_the_optional_load_balancer_adds_the_geo_headers_ingest_reads(
    terraform: TerraformConfig,
) -> None:
    """Every part of the load balancer exists only with a domain; its backend adds the
    country and subdivision under the header names ingest is given (only then), logs no
    requests (they would hold addresses and user agents), and reaches ingest's service."""
    assert value(terraform.variables["ingest_load_balancer_domain"], "default") == ""
    parts = [
        name
        for name in terraform.resources
        if name.endswith(".ingest") and "compute" in name and "security_policy" not in name
    ]
    assert len(parts) == 8
    for name in parts:
        assert value(terraform.resource(name), "count") == "${local.ingest_load_balancer ? 1 : 0}"
    backend = terraform.resource("google_compute_backend_service.ingest")
    assert value(backend, "custom_request_headers") == "${local.ingest_geo_headers}"
    assert value(block(backend, "log_config"), "enable") is False
    assert terraform.locals["ingest_geo_headers"] == [
        "${var.geo_country_header}:{client_region}",
        "${var.geo_region_header}:{client_region_subdivision}",
    ]
    neg = terraform.resource("google_compute_region_network_endpoint_group.ingest")
    assert value(block(neg, "cloud_run"), "service") == (
        "${google_cloudfunctions2_function.ingest.service_config[0].service}"
    )
    environment = terraform.locals["ingest_environment"]
    assert environment["GEO_COUNTRY_HEADER"] == (
        '${local.ingest_load_balancer ? var.geo_country_header : ""}'
    )
    assert environment["GEO_REGION_HEADER"] == (
        '${local.ingest_load_balancer ? var.geo_region_header : ""}'
    )


def test_cloud_armor_limits_each_address_at_the_edge_when_asked(
    terraform: TerraformConfig,
) -> None:
    """With the load balancer and a per-minute limit, a Cloud Armor policy attached to its
    backend answers 429 per client address over the limit; off by default."""
    assert value(terraform.variables["edge_rate_limit_per_minute"], "default") == 0
    assert terraform.locals["ingest_edge_rate_limit"] == (
        "${local.ingest_load_balancer && var.edge_rate_limit_per_minute > 0}"
    )
    policy = terraform.resource("google_compute_security_policy.ingest")
    assert value(policy, "count") == "${local.ingest_edge_rate_limit ? 1 : 0}"
    rules = policy["rule"]
    throttle = next(rule for rule in rules if value(rule, "action") == "throttle")
    options = block(throttle, "rate_limit_options")
    assert value(options, "enforce_on_key") == "IP"
    assert value(options, "exceed_action") == "deny(429)"
    threshold = block(options, "rate_limit_threshold")
    assert value(threshold, "count") == "${var.edge_rate_limit_per_minute}"
    assert value(threshold, "interval_sec") == 60
    backend = terraform.resource("google_compute_backend_service.ingest")
    assert value(backend, "security_policy") == (
        "${local.ingest_edge_rate_limit ? google_compute_security_policy.ingest[0].id : None}"
    )


def test_platform_request_logs_holding_addresses_are_not_stored(
    terraform: TerraformConfig,
) -> None:
    """Cloud Run's request logs of ingest (IP address, user agent) are excluded by default."""
    assert value(terraform.variables["keep_platform_request_logs"], "default") is False
    exclusion = terraform.resource("google_logging_project_exclusion.ingest_request_logs")
    assert value(exclusion, "count") == "${var.keep_platform_request_logs ? 0 : 1}"
    assert value(exclusion, "filter") == (
        '${local.ingest_log} AND log_id("run.googleapis.com/requests")'
    )
