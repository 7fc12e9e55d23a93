"""The counting wrapper counts what Firestore bills, on the real client and the emulator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from bench.firestore_counts import counting_client
from tests.conftest import PROJECT
from tests.support.emulators import Emulator

pytestmark = pytest.mark.emulator


def test_reads_writes_and_ttl_documents_are_counted_as_billed(
    firestore_emulator: Emulator,
) -> None:
    """Lookups bill each document, found or missing; queries each hit or one; commits each write."""
    client, counts = counting_client(PROJECT)
    collection = client.collection(f"counts-{uuid.uuid4().hex[:8]}")
    batch = client.batch()
    batch.set(collection.document("a"), {"n": 1, "expire_at": datetime.now(UTC)})
    batch.set(collection.document("b"), {"n": 2})
    batch.commit()
    assert counts.snapshot() == (0, 2, 0, 1)
    snapshots = list(client.get_all([collection.document(k) for k in ("a", "b", "missing")]))
    assert len(snapshots) == 3
    assert counts.snapshot()[0] == 3
    assert len(list(collection.where(filter=FieldFilter("n", "==", 2)).stream())) == 1
    assert counts.snapshot()[0] == 4
    assert list(collection.where(filter=FieldFilter("n", "==", 99)).stream()) == []
    assert counts.snapshot()[0] == 5  # an empty query still bills one read
    collection.document("b").delete()
    assert counts.snapshot() == (5, 2, 1, 1)


def test_a_transaction_bills_its_reads_and_its_writes(firestore_emulator: Emulator) -> None:
    """Reading and writing in a transaction: one read, one write; begin and commit are free."""
    from google.cloud import firestore

    client, counts = counting_client(PROJECT)
    reference = client.collection(f"counts-{uuid.uuid4().hex[:8]}").document("doc")

    @firestore.transactional
    def bump(transaction: firestore.Transaction) -> None:
        snapshot = reference.get(transaction=transaction)
        transaction.set(reference, {"n": (snapshot.to_dict() or {}).get("n", 0) + 1})

    bump(client.transaction())
    assert counts.snapshot() == (1, 1, 0, 0)
