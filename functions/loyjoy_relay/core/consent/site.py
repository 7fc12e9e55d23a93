"""The site's own consent banner: what a page's Consent Mode or IAB TCF state changes.

Pure. Implements DESIGN.md "Consent semantics": the banner can only make a decision
stricter, never more permissive. The listener stamps the page's state on each event
(``site_consent``); with the rules' ``site_consent: respect`` (the default):

- ``analytics_storage: denied`` makes the event's state ``denied`` (so a ``follow`` signal
  is denied too), and its outcome the stricter of what its profiling state and ``denied``
  give (drop < anonymize < forward), so odd rules (``denied: forward``) cannot turn a
  denial into a wider outcome;
- ``ad_user_data`` / ``ad_personalization: denied`` make that Consent Mode signal
  ``DENIED`` on the request.

A granted signal, an absent one or an absent stamp changes nothing. ``ad_storage`` has no
Measurement Protocol counterpart: it is read and shown, never used.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyjoy_relay.core.consent.rules import Action, BotPolicy
from loyjoy_relay.core.events import LoyJoyEvent

# How permissive each outcome is; the site may only move an event down this order.
PERMISSIVENESS: dict[Action, int] = {"drop": 0, "anonymize": 1, "forward": 2}
SIGNALS = ("analytics_storage", "ad_storage", "ad_user_data", "ad_personalization")
MP_SIGNALS = frozenset({"ad_user_data", "ad_personalization"})


@dataclass(frozen=True, slots=True)
class SiteVerdict:
    """What the site's banner changes for one event, and a clause saying so (or None)."""

    denies_analytics: bool = False
    denied_signals: frozenset[str] = frozenset()
    note: str | None = None


def stricter(first: Action, second: Action) -> Action:
    """The less permissive of two outcomes."""
    return first if PERMISSIVENESS[first] <= PERMISSIVENESS[second] else second


def site_verdict(policy: BotPolicy, event: LoyJoyEvent) -> SiteVerdict:
    """The banner's effect on ``event`` under the bot's rules."""
    stamp = event.site_consent
    if stamp is None:
        return SiteVerdict()
    source = stamp.source.replace("_", " ")
    if policy.site_consent == "ignore":
        return SiteVerdict(note=f"the site's banner ({source}) is ignored by the rules")
    denied = [name for name in SIGNALS if getattr(stamp, name) == "denied"]
    if not denied:
        return SiteVerdict(note=f"the site's banner ({source}) denies nothing")
    return SiteVerdict(
        denies_analytics="analytics_storage" in denied,
        denied_signals=frozenset(denied) & MP_SIGNALS,
        note=f"the site's banner ({source}) denies {', '.join(denied)}",
    )
