"""The Firestore consent ledger names each client's document by its keyed pseudonym (on
the emulator): the id is stored nowhere, and a new key starts new histories."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from google.cloud import firestore
from loyjoy_relay.adapters.firestore_ledger import COLLECTION, FirestoreConsentLedger
from loyjoy_relay.adapters.ports import history_of, record_decisions
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.pseudonyms import Pseudonyms

from tests.conftest import PROJECT
from tests.support.emulators import Emulator

pytestmark = pytest.mark.emulator


@pytest.fixture
def firestore_client(firestore_emulator: Emulator) -> Iterator[firestore.Client]:
    """A Firestore client on the session's emulator."""
    client = firestore.Client(project=PROJECT)
    yield client
    client.close()


def test_documents_are_named_by_the_keyed_pseudonym(firestore_client: firestore.Client) -> None:
    """A history is stored under the HMAC of the client id, records name the deciding event,
    and under a rotated key the ledger starts from an empty history."""
    key, rotated = Pseudonyms(b"first key " * 4), Pseudonyms(b"second key " * 4)
    client = f"{uuid.uuid4().int % 10**10}.1700000000"
    record = ConsentRecord(10, "revoke", "bot-a", "e1", "profiling_opt_out")
    ledger = FirestoreConsentLedger(firestore_client, client_key=key.ledger_key)
    record_decisions(ledger, client, [record])
    stored = firestore_client.collection(COLLECTION).document(key.ledger_key(client)).get()
    assert stored.exists
    assert client not in repr(stored.to_dict())
    assert history_of(ledger, client) == [record]
    after_rotation = FirestoreConsentLedger(firestore_client, client_key=rotated.ledger_key)
    assert history_of(after_rotation, client) == []
