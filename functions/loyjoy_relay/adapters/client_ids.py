"""Fresh random values from the operating system's random source: client ids for
anonymized events, and the pseudonym key of a local run (``loyjoy-relay dev``)."""

from __future__ import annotations

import secrets


def random_client_id() -> str:
    """A fresh random client id in GA4's ``<number>.<number>`` form, for one event.

    Both halves are 31-bit random numbers (62 bits in all): nothing in it derives from
    the visitor, so GA4 cannot link it to anything else they did.
    """
    return f"{secrets.randbelow(2**31 - 1) + 1}.{secrets.randbelow(2**31 - 1) + 1}"


def random_pseudonym_key() -> str:
    """A fresh pseudonym key (256 random bits, URL-safe text), for a local run only: a
    deployment's key lives in Secret Manager so that its pseudonyms stay stable."""
    return secrets.token_urlsafe(32)
