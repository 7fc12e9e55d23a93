"""The schema-only provider's parts: the schema it reads, its own checks, its cache, its life.

Terraform's use of it is tested in test_terraform_schema.py; these tests pin down what it
serves (flags, nesting, types and enums of known resources), the provider-side checks on
decoded configuration, and that a started provider always goes away with its process group.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from infra.schema_provider import cache, checks, runner
from infra.schema_provider.model import Attribute, Block, NestedBlock, ProviderSchema
from infra.schema_provider.protocol import UNKNOWN


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    """The google provider schema of the installed cdktn-provider-google."""
    return cache.cached_schema()


def test_schema_holds_every_resource_type_with_its_flags(schema: ProviderSchema) -> None:
    """Arguments keep the provider's required/optional/computed flags and their types."""
    assert len(schema.resources) > 1000
    assert len(schema.data_sources) > 400
    subscription = schema.resources["google_pubsub_subscription"]
    assert subscription.attribute("name").required
    assert subscription.attribute("topic").required
    assert subscription.attribute("ack_deadline_seconds").type == "number"
    assert subscription.attribute("labels").type == ["map", "string"]
    push = subscription.block("push_config")
    assert (push.nesting, push.max_items, push.min_items) == ("list", 1, 0)
    assert push.block.attribute("push_endpoint").required
    assert push.block.block("oidc_token").block.attribute("service_account_email").required
    account = schema.resources["google_service_account"].attribute("email")
    assert (account.computed, account.optional, account.required) == (True, False, False)
    assert schema.data_sources["google_project"].attribute("number").computed


def test_schema_keeps_sets_single_blocks_and_computed_objects(schema: ProviderSchema) -> None:
    """Set-typed arguments and blocks, single (timeouts) blocks and computed objects survive."""
    firewall = schema.resources["google_compute_firewall"]
    assert firewall.attribute("source_ranges").type == ["set", "string"]
    assert firewall.block("allow").nesting == "set"
    function = schema.resources["google_cloudfunctions2_function"]
    assert function.block("timeouts").nesting == "single"
    service = function.block("service_config").block
    assert service.attribute("uri").computed
    assert service.attribute("ingress_settings").enum == (
        "ALLOW_ALL",
        "ALLOW_INTERNAL_ONLY",
        "ALLOW_INTERNAL_AND_GCLB",
    )
    lifecycle = schema.resources["google_storage_bucket"].block("lifecycle_rule").block
    assert (lifecycle.block("action").nesting, lifecycle.block("action").min_items) == ("set", 1)
    ttl = schema.resources["google_firestore_field"].block("ttl_config")
    assert (ttl.nesting, ttl.max_items) == ("list", 1)
    assert ttl.block.attribute("state").computed


ENUM = Attribute("tier", "string", optional=True, enum=("BASIC", "PREMIUM"))
TAGS = Attribute("tiers", ["list", "string"], optional=True, enum=("BASIC", "PREMIUM"))
OUTPUT = Attribute("uri", "string", computed=True)
INNER = Block((ENUM,))
BLOCK = Block(
    (ENUM, TAGS, OUTPUT, Attribute("id", "string", optional=True, computed=True)),
    (
        NestedBlock("listed", "list", INNER),
        NestedBlock("grouped", "set", INNER),
        NestedBlock("timeouts", "single", INNER),
    ),
)


def _problems(config: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    return [(p.path, p.summary) for p in checks.problems(BLOCK, config)]


def test_checks_pass_known_enum_values_unset_and_unknown_values() -> None:
    """Listed values, the empty string, null and values not known yet are all accepted."""
    config = {"tier": "BASIC", "tiers": ["PREMIUM", "", UNKNOWN], "uri": None, "id": "x"}
    config |= {"listed": [{"tier": UNKNOWN}], "grouped": [{"tier": ""}], "timeouts": None}
    assert _problems(config) == []
    assert _problems({"tier": UNKNOWN, "tiers": UNKNOWN, "listed": UNKNOWN}) == []


def test_checks_report_enum_values_with_the_path_terraform_points_at() -> None:
    """A value outside the enum is reported at its attribute, list index and block index."""
    found = _problems(
        {
            "tier": "GOLD",
            "tiers": ["BASIC", "gold"],
            "listed": [{"tier": "BASIC"}, {"tier": "SILVER"}],
            "grouped": [{"tier": "BRONZE"}],
            "timeouts": {"tier": "IRON"},
        }
    )
    assert [path for path, _ in found] == [
        ["tier"],
        ["tiers", 1],
        ["listed", 1, "tier"],
        ["grouped", "tier"],  # set elements have no index to point at
        ["timeouts", "tier"],
    ]
    assert found[0][1] == 'expected tier to be one of ["BASIC" "PREMIUM" ""], got GOLD'


def test_checks_refuse_a_value_for_a_computed_only_attribute() -> None:
    """Setting a computed-only attribute, even to a value not known yet, is an error."""
    assert _problems({"uri": "https://x"}) == [(["uri"], "Value for unconfigurable attribute")]
    assert _problems({"uri": UNKNOWN}) == [(["uri"], "Value for unconfigurable attribute")]
    assert _problems({"id": "optional and computed is settable"}) == []


def test_cached_copy_is_the_schema_and_is_keyed_by_tarball_and_reader(
    schema: ProviderSchema, tmp_path: Path
) -> None:
    """The JSON copy holds the same schema; a changed tarball gets a new name."""
    assert cache._schema_from(cache._schema_to(schema)) == schema
    tarball = tmp_path / "provider-google@1.0.0.jsii.tgz"
    tarball.write_bytes(b"one")
    first = cache._key(tarball)
    assert cache._key(tarball) == first
    tarball.write_bytes(b"other")
    assert cache._key(tarball) != first


def test_provider_process_group_is_gone_after_use() -> None:
    """The provider answers once ready, and its process group and directory go on exit."""
    with runner.running_provider() as provider:
        assert provider.process.poll() is None
        assert provider.socket.exists()
        group = os.getpgid(provider.process.pid)
        assert group == provider.process.pid  # its own group, not the test's
        directory = provider.directory
    assert provider.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    assert not directory.exists()
