"""Builds the relay of one function instance from the environment: real clients only."""

from __future__ import annotations

from loyjoy_relay.config import RelaySettings, secret_environment
from loyjoy_relay.consent.firestore_ledger import FirestoreConsentLedger
from loyjoy_relay.consent.rules_file import load_rules
from loyjoy_relay.dead_letters import DeadLetters
from loyjoy_relay.dedup import FirestoreDedup
from loyjoy_relay.ga4.mapping_file import load_mapping
from loyjoy_relay.ga4.routing import default_property
from loyjoy_relay.ga4.secrets import SecretProvider
from loyjoy_relay.ga4.sender import Ga4Sender
from loyjoy_relay.logs import JsonLogger
from loyjoy_relay.publishing import PubSubPublisher
from loyjoy_relay.relay_service import RelayService


def create_relay_service() -> RelayService:
    """The relay with Firestore, Pub/Sub (dead letters), Secret Manager and GA4 clients.

    Rules and mapping are loaded and checked here, so a broken file stops the instance at
    start with the problem named, instead of failing every message.
    """
    from google.cloud import firestore

    settings = RelaySettings.from_env()
    logger = JsonLogger("relay")
    firestore_client = firestore.Client(project=settings.project)
    return RelayService(
        rules=load_rules(settings.consent_rules_path),
        mapping=load_mapping(settings.ga4_mapping_path, custom_names=settings.custom_event_names),
        default_property=default_property(settings),
        ledger=FirestoreConsentLedger(firestore_client),
        dedup=FirestoreDedup(firestore_client),
        sender=Ga4Sender(settings.ga4_endpoint, logger=logger),
        secrets=SecretProvider(env=secret_environment()),
        dead_letters=DeadLetters(PubSubPublisher(settings.project, settings.dead_letter_topic)),
        logger=logger,
    )
