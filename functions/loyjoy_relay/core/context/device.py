"""The device a request came from: category, OS and browser, from client hints and the UA.

Pure: the user-agent parser (a library that loads regex data) is handed in by the adapter
as a plain function (:data:`AgentParser`), and called only when the request carries no
client hints. Chromium browsers send the low-entropy hints (``Sec-CH-UA``,
``Sec-CH-UA-Mobile``, ``Sec-CH-UA-Platform``) with every HTTPS request; their user agent is
"reduced" (Android 10, model ``K``, Windows NT 10.0, macOS 10.15.7 whatever the truth), so
the hints are the better source and cost no regex. Safari and Firefox send none: their
user agent is parsed.

Category (GA4's ``desktop``, ``mobile``, ``tablet``, ``smart TV``), first that applies:
a TV marker in the user agent; ``Sec-CH-UA-Form-Factors`` when sent; ``Sec-CH-UA-Mobile``
(``?1`` mobile; ``?0`` on Android tablet, on a desktop platform desktop); then markers of
the user agent (iPad and ``Tablet`` tablet, iPhone and ``Mobile`` mobile, Android without
``Mobile`` tablet, desktop systems desktop). Versions are majors only, and left out where
every browser freezes them (macOS 10.15, Windows NT 10.0 for 10 and 11).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from loyjoy_relay.core.context.model import FAMILY_PATTERN, DeviceCategory, DeviceContext

# Longer user agents are cut before any pattern runs (real ones are under 500 characters).
MAX_USER_AGENT = 1024
MAX_HINT = 512


@dataclass(frozen=True, slots=True)
class ClientHints:
    """The UA client-hint headers of a request, as sent (None when absent)."""

    brands: str | None = None  # Sec-CH-UA
    mobile: str | None = None  # Sec-CH-UA-Mobile
    platform: str | None = None  # Sec-CH-UA-Platform
    platform_version: str | None = None  # Sec-CH-UA-Platform-Version (only when requested)
    form_factors: str | None = None  # Sec-CH-UA-Form-Factors (only when requested)


@dataclass(frozen=True, slots=True)
class ParsedAgent:
    """What a user-agent parser read: families and major versions, None when unknown."""

    browser: str | None = None
    browser_major: str | None = None
    os: str | None = None
    os_major: str | None = None


AgentParser = Callable[[str], ParsedAgent]
"""Reads a user agent string (the adapter's library; only called without client hints)."""


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What a request tells about its device: the coarse context that may be published, and
    whether it looks like a crawler or a headless browser (never published; for ingest's
    own use, such as refusing automated traffic)."""

    device: DeviceContext | None
    is_bot: bool
    # A crawler or automated browser, not merely an HTTP library: what ingest refuses.
    is_crawler: bool = False


_FAMILY = re.compile(FAMILY_PATTERN)
_MAJOR = re.compile(r"^\s*\"?([0-9]{1,5})")
_BRAND = re.compile(r'"((?:[^"\\]|\\.){1,64})"\s*;\s*v\s*=\s*"([^"]{0,32})"')
_GREASE = re.compile(r"(?i)not.?a.?brand|^[^A-Za-z]*$")
_QUOTED = re.compile(r'"([^"]{0,64})"')
_TV = re.compile(
    r"(?i)smart-?tv|\bTizen\b.*\bTV\b|web0s|\bwebos\b.*\btv\b|netcast|hbbtv|\bAFT[A-Z]|crkey"
    r"|bravia|google ?tv|android ?tv|apple ?tv|\btvos\b|\broku\b|vidaa|philipstv|opera tv"
    r"|\bTV Safari\b|\bDTV\b"
)
_TABLET = re.compile(r"(?i)\bipad\b|\btablet\b|\bkindle\b|\bsilk/|playbook|\bnexus (?:7|9|10)\b")
_MOBILE = re.compile(
    r"(?i)\biphone\b|\bipod\b|\bmobile\b|windows phone|iemobile|opera mini|blackberry|\bbb10\b"
)
_ANDROID = re.compile(r"(?i)\bandroid\b")
_DESKTOP = re.compile(r"(?i)\bwindows nt\b|\bmacintosh\b|\bmac os x\b|\bx11\b|\bcros\b|\blinux\b")
# Crawlers and automated browsers (they run a page's scripts, so its chat listener too).
_CRAWLER = re.compile(
    r"(?i)(?<!cu)bot(?:[/;\s)+_-]|$)|crawl|spider|slurp|headless|phantomjs|lighthouse|puppeteer"
    r"|playwright|selenium|webdriver|scrapy|facebookexternalhit|bingpreview|mediapartners"
)
# HTTP libraries and command-line tools: no browser at all (never a visitor's page).
_HTTP_LIBRARY = re.compile(
    r"(?i)python-requests|python-urllib|^curl/|^wget/|go-http-client|okhttp|^java/|axios/"
    r"|node-fetch"
)
_FORM_FACTORS: dict[str, DeviceCategory] = {
    "tablet": "tablet",
    "mobile": "mobile",
    "watch": "mobile",
    "desktop": "desktop",
    "eink": "tablet",
}
_DESKTOP_PLATFORMS = frozenset({"Windows", "Macintosh", "Linux", "Chrome OS"})
# Hint brands and parsed families, as GA4's own reports name them.
_BROWSERS = {
    "Google Chrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Android Webview",
    "Android WebView": "Android Webview",
    "Microsoft Edge": "Edge",
    "Edge Mobile": "Edge",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari (in-app)",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Opera Mobile": "Opera",
    "Opera GX": "Opera",
    "YaBrowser": "Yandex Browser",
}
_SYSTEMS = {
    "macOS": "Macintosh",
    "Mac OS X": "Macintosh",
    "Chromium OS": "Chrome OS",
    "Ubuntu": "Linux",
    "Fedora": "Linux",
    "Debian": "Linux",
}
# Versions every browser reports the same whatever the truth: not worth sending.
_FROZEN_VERSIONS = frozenset({("Macintosh", "10"), ("Windows", "10")})


def device_facts(user_agent: str | None, hints: ClientHints, parse: AgentParser) -> DeviceFacts:
    """The device context of a request and whether it looks automated."""
    agent = (user_agent or "")[:MAX_USER_AGENT]
    brands = _brands(hints.brands)
    is_crawler = bool(_CRAWLER.search(agent)) or any(
        "headless" in name.lower() for name, _ in brands
    )
    platform = _system(_unquote(hints.platform))
    if brands:
        browser, browser_version = _hint_browser(brands)
        system = platform
        system_version = _platform_major(system, hints.platform_version)
    elif agent:
        parsed = parse(agent)
        is_crawler = is_crawler or bool(_CRAWLER.search(parsed.browser or ""))
        browser, browser_version = _browser(parsed.browser), _major(parsed.browser_major)
        system = platform or _system(parsed.os)
        system_version = _major(parsed.os_major) if system == _system(parsed.os) else None
    else:
        browser = browser_version = system_version = None
        system = platform
    if (system, system_version) in _FROZEN_VERSIONS:
        system_version = None
    is_bot = is_crawler or bool(_HTTP_LIBRARY.search(agent))
    category = _category(agent, hints, system)
    if not any((category, system, browser)):
        return DeviceFacts(None, is_bot, is_crawler)
    device = DeviceContext(
        category=category,
        operating_system=system,
        operating_system_version=system_version if system else None,
        browser=browser,
        browser_version=browser_version if browser else None,
    )
    return DeviceFacts(device, is_bot, is_crawler)


def _category(agent: str, hints: ClientHints, system: str | None) -> DeviceCategory | None:
    if _TV.search(agent):
        return "smart TV"
    for factor in _QUOTED.findall((hints.form_factors or "")[:MAX_HINT]):
        category = _FORM_FACTORS.get(factor.lower())
        if category is not None:
            return category
    mobile = (hints.mobile or "").strip()
    if mobile == "?1":
        return "mobile"
    if mobile == "?0" and system == "Android":
        return "tablet"
    if mobile == "?0" and system in _DESKTOP_PLATFORMS:
        return "desktop"
    if _TABLET.search(agent):
        return "tablet"
    if _MOBILE.search(agent):
        return "mobile"
    if _ANDROID.search(agent):
        return "tablet"  # Android browsers without "Mobile" are tablets (Google's convention)
    if _DESKTOP.search(agent) or system in _DESKTOP_PLATFORMS:
        return "desktop"
    return None


def _brands(header: str | None) -> list[tuple[str, str]]:
    """Sec-CH-UA's brands and versions, GREASE brands left out."""
    found = _BRAND.findall((header or "")[:MAX_HINT])
    return [(name, version) for name, version in found if not _GREASE.search(name)]


def _hint_browser(brands: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The most specific brand (Chrome, Edge, Opera, ... before the engine, Chromium)."""
    specific = [(name, version) for name, version in brands if name != "Chromium"]
    name, version = (specific or brands)[0]
    return _browser(name), _major(version)


def _platform_major(system: str | None, version: str | None) -> str | None:
    """The major OS version from Sec-CH-UA-Platform-Version, when the browser sent it."""
    major = _major(_unquote(version))
    if major is None or system != "Windows":
        return major
    # Windows reports its UA platform version: 13 and above is Windows 11, 1-10 is 10.
    number = int(major)
    return "11" if number >= 13 else "10" if number >= 1 else None


def _unquote(value: str | None) -> str | None:
    text = (value or "").strip()[:MAX_HINT]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text or None


def _browser(family: str | None) -> str | None:
    name = _BROWSERS.get(family or "", family)
    return name if name and name != "Other" and _FAMILY.match(name) else None


def _system(family: str | None) -> str | None:
    name = _SYSTEMS.get(family or "", family)
    return name if name and name not in ("Other", "Unknown") and _FAMILY.match(name) else None


def _major(version: str | None) -> str | None:
    found = _MAJOR.match(version or "")
    return found.group(1) if found else None
