"""Builds the relay of one function instance: rules, mapping, secrets and adapters.

Everything that can be wrong with the configuration is found here, at start, so a broken
instance stops before its first message with the problem named: the rules and mapping
files are loaded and checked, every GA4 API secret the mapping can send with is
resolved (a missing one names the property and the secret), and so is the key of the
client pseudonyms (a missing one names ``PSEUDONYM_KEY_NAME``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyjoy_relay.adapters.client_ids import random_client_id
from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.firestore_ledger import FirestoreConsentLedger
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.ports import ConsentLedger
from loyjoy_relay.adapters.pubsub import PubSubPublisher
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import RelaySettings, secret_environment
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.core.pseudonyms import MIN_KEY_LENGTH, Pseudonyms
from loyjoy_relay.errors import ConfigError
from loyjoy_relay.service.relay import RelayService, wall_clock_ms


def default_property(settings: RelaySettings) -> Ga4Property:
    """The property of ``GA4_MEASUREMENT_ID`` with ``GA4_API_SECRET_NAME`` or the value."""
    if settings.api_secret_name:
        secret = SecretRef("secret_manager", settings.api_secret_name)
    else:
        secret = SecretRef("value", settings.api_secret or "")
    return Ga4Property(settings.measurement_id, secret)


def resolve_api_secrets(planner: Planner, secrets: SecretProvider) -> dict[SecretRef, str]:
    """The API secret of every property the planner can send to, fetched now.

    Raises ConfigError naming the property when one cannot be had.
    """
    properties = [planner.default_property, *planner.mapping.properties.values()]
    resolved: dict[SecretRef, str] = {}
    for prop in properties:
        if prop.secret in resolved:
            continue
        try:
            resolved[prop.secret] = secrets.secret_for(prop.secret)
        except ConfigError as error:
            raise ConfigError(f"GA4 API secret of {prop.measurement_id}: {error}") from None
    return resolved


def resolve_pseudonyms(settings: RelaySettings, secrets: SecretProvider) -> Pseudonyms:
    """The client pseudonyms under the deployment's key (``PSEUDONYM_KEY_NAME``, a Secret
    Manager version, or ``PSEUDONYM_KEY`` locally), fetched now.

    Raises ConfigError naming the variable when the key cannot be had or is too short.
    """
    if settings.pseudonym_key_name:
        variable = "PSEUDONYM_KEY_NAME"
        ref = SecretRef("secret_manager", settings.pseudonym_key_name)
    else:
        variable = "PSEUDONYM_KEY"
        ref = SecretRef("value", settings.pseudonym_key or "")
    key = secrets.secret_for(ref, variable=variable).encode()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{variable}: the pseudonym key must be at least {MIN_KEY_LENGTH} bytes long"
        )
    return Pseudonyms(key)


def build_relay_service(
    *,
    planner: Planner,
    ledger: ConsentLedger,
    sender: Ga4Sender,
    secrets: SecretProvider,
    dead_letters: DeadLetters,
    logger: JsonLogger,
    pseudonyms: Pseudonyms,
    new_client_id: ClientIdSource = random_client_id,
    clock_ms: Callable[[], int] = wall_clock_ms,
) -> RelayService:
    """A relay over the given adapters (real or fakes), its secrets resolved at once."""
    return RelayService(
        planner=planner,
        ledger=ledger,
        sender=sender,
        api_secrets=resolve_api_secrets(planner, secrets),
        dead_letters=dead_letters,
        logger=logger,
        pseudonyms=pseudonyms,
        new_client_id=new_client_id,
        clock_ms=clock_ms,
    )


def create_relay_service(*, firestore_client: Any | None = None) -> RelayService:
    """The deployed relay: Firestore, Pub/Sub (dead letters), Secret Manager and GA4.

    ``firestore_client`` replaces the instance's own client (the bench passes one that
    counts billed document reads and writes).
    """
    from google.cloud import firestore

    settings = RelaySettings.from_env()
    logger = JsonLogger("relay")
    planner = Planner(
        rules=load_rules(settings.consent_rules_path),
        mapping=load_mapping(settings.ga4_mapping_path, custom_names=settings.custom_event_names),
        default_property=default_property(settings),
    )
    secrets = SecretProvider(env=secret_environment())
    pseudonyms = resolve_pseudonyms(settings, secrets)
    if firestore_client is None:
        firestore_client = firestore.Client(project=settings.project)
    return build_relay_service(
        planner=planner,
        ledger=FirestoreConsentLedger(firestore_client, client_key=pseudonyms.ledger_key),
        sender=Ga4Sender(settings.ga4_endpoint, logger=logger),
        secrets=secrets,
        dead_letters=DeadLetters(PubSubPublisher(settings.project, settings.dead_letter_topic)),
        logger=logger,
        pseudonyms=pseudonyms,
    )
