"""The device a request came from: a corpus of user agents and client hints → categories,
families and the bot flag; and the parser's cost stays out of the import path."""

from __future__ import annotations

import subprocess
import sys

import pytest
from loyjoy_relay.adapters.user_agents import DeviceReader, UaParserAgents

CHROME_HINTS = '"Chromium";v="131", "Google Chrome";v="131", "Not_A Brand";v="24"'
EDGE_HINTS = '"Not)A;Brand";v="99", "Microsoft Edge";v="127", "Chromium";v="127"'
REDUCED_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
REDUCED_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0.0.0 Safari/537.36 EdgA/127.0.0.0"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

# (user agent, hints: Sec-CH-UA, -Mobile, -Platform[, -Form-Factors]) → expected facts:
# category, OS, OS major, browser, browser major, is_bot.
CORPUS: list[tuple[str, tuple[str, ...], tuple[str | None, ...]]] = [
    # Chromium with the default client hints: no regex, the hints decide
    (
        WINDOWS_CHROME,
        (CHROME_HINTS, "?0", '"Windows"'),
        ("desktop", "Windows", None, "Chrome", "131", False),
    ),
    (
        REDUCED_ANDROID,
        (CHROME_HINTS, "?1", '"Android"'),
        ("mobile", "Android", None, "Chrome", "131", False),
    ),
    (
        REDUCED_ANDROID_TABLET,
        (EDGE_HINTS, "?0", '"Android"'),
        ("tablet", "Android", None, "Edge", "127", False),
    ),
    (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/131.0.0.0 Safari/537.36"
        ),
        (CHROME_HINTS, "?0", '"macOS"'),
        ("desktop", "Macintosh", None, "Chrome", "131", False),
    ),
    (
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36"
        ),
        ('"Chromium";v="131", "Not_A Brand";v="24"', "?0", '"Chrome OS"'),
        ("desktop", "Chrome OS", None, "Chromium", "131", False),
    ),
    # a form factor, when the site asked for it, wins over the mobile hint
    (
        REDUCED_ANDROID_TABLET,
        (CHROME_HINTS, "?0", '"Android"', '"Tablet"'),
        ("tablet", "Android", None, "Chrome", "131", False),
    ),
    (
        WINDOWS_CHROME,
        (CHROME_HINTS, "?0", '"Windows"', '"Desktop", "Tablet"'),
        ("desktop", "Windows", None, "Chrome", "131", False),
    ),
    # Safari and Firefox send no hints: the user agent is parsed
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
            "like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
        ),
        (),
        ("mobile", "iOS", "17", "Safari", "17", False),
    ),
    (
        (
            "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
        ),
        (),
        ("tablet", "iOS", "16", "Safari", "16", False),
    ),
    (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.6 Safari/605.1.15"
        ),
        (),
        ("desktop", "Macintosh", None, "Safari", "17", False),  # macOS 10.15 is frozen
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        (),
        ("desktop", "Linux", None, "Firefox", "133", False),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        (),
        ("desktop", "Windows", None, "Firefox", "133", False),  # NT 10.0 is 10 or 11
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        (),
        ("mobile", "Android", "14", "Firefox", "133", False),
    ),
    (
        "Mozilla/5.0 (Android 13; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
        (),
        ("tablet", "Android", "13", "Firefox", "133", False),
    ),
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
            "like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
        ),
        (),
        ("mobile", "iOS", "17", "Chrome", "131", False),
    ),
    # smart TVs, whatever else the string or the hints say
    (
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"
        ),
        (),
        ("smart TV", "Tizen", "6", "Samsung Internet", "4", False),
    ),
    (
        (
            "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/87.0.4280.88 Safari/537.36 WebAppManager"
        ),
        (),
        ("smart TV", "Web0S", None, "Chrome", "87", False),
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633.3445N; wv) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36"
        ),
        (CHROME_HINTS, "?1", '"Android"'),
        ("smart TV", "Android", None, "Chrome", "131", False),
    ),
    # crawlers and headless browsers: flagged, never published as such
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        (),
        (None, None, None, "Googlebot", "2", True),
    ),
    (
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36"
        ),
        ('"HeadlessChrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"', "?0", '"Linux"'),
        ("desktop", "Linux", None, "HeadlessChrome", "131", True),
    ),
    ("curl/8.5.0", (), (None, None, None, "curl", "8", True)),
    ("python-requests/2.32.3", (), (None, None, None, "Python Requests", "2", True)),
    # a phone whose brand ends in "bot" is not a crawler
    (
        (
            "Mozilla/5.0 (Linux; Android 11; Cubot Note 20) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
        ),
        (),
        ("mobile", "Android", "11", "Chrome", "120", False),
    ),
    ("", (), (None, None, None, None, None, False)),
]


def facts(user_agent: str, hints: tuple[str, ...]) -> tuple[str | None, ...]:
    names = ("Sec-CH-UA", "Sec-CH-UA-Mobile", "Sec-CH-UA-Platform", "Sec-CH-UA-Form-Factors")
    headers = {"User-Agent": user_agent, **dict(zip(names, hints, strict=False))}
    found = DeviceReader().read(headers)
    device = found.device
    if device is None:
        return (None, None, None, None, None, found.is_bot)
    return (
        device.category,
        device.operating_system,
        device.operating_system_version,
        device.browser,
        device.browser_version,
        found.is_bot,
    )


@pytest.mark.parametrize(("user_agent", "hints", "expected"), CORPUS)
def test_user_agents_and_client_hints_give_the_expected_device(
    user_agent: str, hints: tuple[str, ...], expected: tuple[str | None, ...]
) -> None:
    """Each corpus entry gives its category, OS and browser families and majors, and bot flag."""
    assert facts(user_agent, hints) == expected


def test_a_crafted_user_agent_cannot_smuggle_text_into_the_families() -> None:
    """A family that is not a short name (here an e-mail address a parser would capture) is
    left out rather than published."""
    reader = DeviceReader()
    found = reader.read({"User-Agent": "jane.doe@example.com/1.0 (Windows NT 10.0)"})
    assert found.device is not None
    assert "@" not in found.device.model_dump_json()


def test_hints_cost_no_parse_and_repeated_agents_are_cached() -> None:
    """A Chromium request with hints never loads the parser; the same agent again is a
    cache hit."""
    agents = UaParserAgents()
    reader = DeviceReader(agents, cache_size=8)
    hinted = {
        "User-Agent": WINDOWS_CHROME,
        "Sec-CH-UA": CHROME_HINTS,
        "Sec-CH-UA-Platform": '"Windows"',
    }
    reader.read(hinted)
    assert not agents.loaded
    reader.read({"User-Agent": WINDOWS_CHROME})
    reader.read({"User-Agent": WINDOWS_CHROME})
    assert agents.loaded
    info = reader.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (1, 2, 8)


def test_importing_ingest_does_not_load_the_parser() -> None:
    """The parser library and its regexes stay out of ingest's import path (cold start)."""
    code = (
        "import sys, loyjoy_relay.service.ingest\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ua_parser', 'ua_parser_builtins'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
