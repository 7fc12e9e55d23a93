"""Ingest's admission: source addresses, automated clients, per-client and per-address limits."""

from __future__ import annotations

import pytest
from loyjoy_relay.config import DEFAULT_AUTOMATED_USER_AGENTS, IngestSettings, RateLimits
from loyjoy_relay.errors import ConfigError
from loyjoy_relay.service.admission import Admission, automated_marker, source_address


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("forwarded", "remote", "hops", "address"),
    [
        ("203.0.113.7", "10.0.0.1", 1, "203.0.113.7"),
        ("6.6.6.6, 203.0.113.7", "10.0.0.1", 1, "203.0.113.7"),  # a forged entry is ignored
        ("6.6.6.6, 203.0.113.7, 35.191.0.1", "10.0.0.1", 2, "203.0.113.7"),  # behind an LB
        (None, "10.0.0.1", 1, "10.0.0.1"),
        ("203.0.113.7", "10.0.0.1", 0, "10.0.0.1"),
        ("203.0.113.7", "10.0.0.1", 3, "10.0.0.1"),
    ],
)
def test_the_address_is_what_the_last_trusted_proxy_saw(
    forwarded: str | None, remote: str, hops: int, address: str
) -> None:
    """The client's address comes from the trusted proxies' end of X-Forwarded-For."""
    assert source_address(forwarded, remote, hops) == address


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    ],
)
def test_crawlers_and_headless_browsers_are_recognised(user_agent: str) -> None:
    """Known crawlers and automated browsers match a default marker."""
    assert automated_marker(user_agent, DEFAULT_AUTOMATED_USER_AGENTS) is not None


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; CUBOT KingKong 9) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        None,
    ],
)
def test_visitors_browsers_are_not_taken_for_bots(user_agent: str | None) -> None:
    """Ordinary browsers (a Cubot phone too) match no marker."""
    assert automated_marker(user_agent, DEFAULT_AUTOMATED_USER_AGENTS) is None


def test_a_client_over_its_limit_waits_and_spends_nothing_while_refused() -> None:
    """2/s, burst 10 per client: the 11th request waits; refusals do not prolong the wait."""
    clock = Clock()
    admission = Admission(RateLimits(client_per_second=2, client_burst=10), clock=clock)
    assert [admission.admit_clients(["c"]) for _ in range(10)] == [None] * 10
    refusal = admission.admit_clients(["c"])
    assert refusal is not None
    assert (refusal.limit, refusal.retry_after) == ("client", 1)
    for _ in range(50):
        admission.admit_clients(["c"])
    clock.now += 0.5
    assert admission.admit_clients(["c"]) is None
    assert admission.admit_clients(["other"]) is None


def test_a_request_of_several_clients_is_refused_whole() -> None:
    """If one of its clients is over the limit, no client of the request spends anything."""
    admission = Admission(RateLimits(client_per_second=1, client_burst=1), clock=Clock())
    assert admission.admit_clients(["busy"]) is None
    assert admission.admit_clients(["busy", "fresh"]) is not None
    assert admission.admit_clients(["fresh"]) is None


def test_addresses_have_their_own_higher_limit() -> None:
    """The address limit is separate from the client limit, and addresses apart."""
    admission = Admission(RateLimits(address_per_second=20, address_burst=60), clock=Clock())
    assert all(admission.admit_address("203.0.113.7") is None for _ in range(60))
    refusal = admission.admit_address("203.0.113.7")
    assert refusal is not None
    assert refusal.limit == "address"
    assert admission.admit_address("198.51.100.2") is None


def test_the_address_is_held_only_as_a_keyed_hash() -> None:
    """No limiter holds the raw address, and two instances hash it differently."""
    first, second = Admission(RateLimits()), Admission(RateLimits())
    first.admit_address("203.0.113.7")
    second.admit_address("203.0.113.7")
    held = repr(vars(first)) + repr(list(first._addresses._buckets))
    assert "203.0.113.7" not in held
    assert list(first._addresses._buckets) != list(second._addresses._buckets)


def test_limits_and_markers_are_configurable_and_checked() -> None:
    """The variables set the limits; a bad value names its variable; screening can be off."""
    base = {"GOOGLE_CLOUD_PROJECT": "p"}
    settings = IngestSettings.from_env(
        {
            **base,
            "CLIENT_RATE_PER_SECOND": "0.5",
            "CLIENT_RATE_BURST": "3",
            "ADDRESS_RATE_PER_SECOND": "100",
            "ADDRESS_RATE_BURST": "300",
            "TRUSTED_PROXY_HOPS": "2",
            "AUTOMATED_USER_AGENTS": "ExampleBot, Scraper",
        }
    )
    assert settings.rate_limits == RateLimits(0.5, 3, 100.0, 300, 2)
    assert settings.automated_user_agents == (
        *DEFAULT_AUTOMATED_USER_AGENTS,
        "examplebot",
        "scraper",
    )
    off = IngestSettings.from_env({**base, "AUTOMATED_USER_AGENTS": "none"})
    assert off.automated_user_agents == ()
    for unset in (base, {**base, "AUTOMATED_USER_AGENTS": ""}):
        assert IngestSettings.from_env(unset).automated_user_agents == DEFAULT_AUTOMATED_USER_AGENTS
    for name, value in (
        ("CLIENT_RATE_PER_SECOND", "0"),
        ("CLIENT_RATE_BURST", "1.5"),
        ("ADDRESS_RATE_PER_SECOND", "nan"),
        ("TRUSTED_PROXY_HOPS", "-1"),
    ):
        with pytest.raises(ConfigError, match=name):
            IngestSettings.from_env({**base, name: value})
