"""Fresh client ids for anonymized events, from the operating system's random source."""

from __future__ import annotations

import secrets


def random_client_id() -> str:
    """A fresh random client id in GA4's ``<number>.<number>`` form, for one event.

    Both halves are 31-bit random numbers (62 bits in all): nothing in it derives from
    the visitor, so GA4 cannot link it to anything else they did.
    """
    return f"{secrets.randbelow(2**31 - 1) + 1}.{secrets.randbelow(2**31 - 1) + 1}"
