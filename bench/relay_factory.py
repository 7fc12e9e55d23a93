"""The shipped relay as the bench's in-process ``process(message_data)`` callable.

Built exactly as the deployed function builds it (``create_relay_service``: Firestore
client ledger, Pub/Sub dead letters, the real GA4 sender), from the variables
``bench.relay_hooks.RelayEnvironment`` sets: the emulators, and a GA4 stand-in running in
another process so that its CPU is not counted as the relay's.
"""

from __future__ import annotations

from collections.abc import Callable

from loyjoy_relay.service.wiring import create_relay_service


def create() -> Callable[[bytes], object]:
    """The relay's work for one Pub/Sub message."""
    return create_relay_service().process
