"""One error style for the Firestore stores (consent ledger, dedup).

Any failure of a store call, whatever the library raised, becomes
:class:`~loyjoy_relay.errors.StoreUnavailable` naming the store and what it could not do,
with the error's class only: messages can quote document paths or request details. The
relay treats it as transient (fail closed: nothing is sent, Pub/Sub retries).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from loyjoy_relay.errors import StoreUnavailable


@contextmanager
def store_call(store: str, action: str) -> Iterator[None]:
    """Run a store call; any failure raises ``StoreUnavailable("<store> cannot <action>")``."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:  # any store failure means "cannot know": retry later
        raise StoreUnavailable(f"{store} cannot {action} ({type(error).__name__})") from None
