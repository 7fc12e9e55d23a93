"""The request's context objects: ``user_location``, ``device`` and ``user_data``.

Pure. Sources: the MP reference's JSON post body (``reference#payload_post_body``, cited
as "reference") and Google's Event Builder schemas (``schemas/userLocation.ts``,
``schemas/deviceSchema.ts``). Every field of ``user_location`` and ``device`` is a string
(both sources), so another type is malformed and reported in both behaviours. The formats
the reference gives (ISO 3166 codes, UN M49 codes, ``WIDTHxHEIGHT``) and the fields it
recommends "at minimum" only warn: it does not say GA4 refuses a request without them.
``user_data`` holds SHA-256 hex digests ("hashed using SHA256, encoded in hex string
format", reference and "Send user-provided data with User-ID"); a value that is not one
would hand GA4 the personal data itself, so it is refused under ENFORCE_RECOMMENDATIONS.
"""

from __future__ import annotations

import re
from typing import Any

from loyjoy_relay.core.ga4.validation.report import Report

LOCATION_FIELDS = frozenset({"city", "region_id", "country_id", "subcontinent_id", "continent_id"})
DEVICE_FIELDS = frozenset(
    {
        "category",
        "language",
        "screen_resolution",
        "operating_system",
        "operating_system_version",
        "model",
        "brand",
        "browser",
        "browser_version",
    }
)
USER_DATA_FIELDS = frozenset({"sha256_email_address", "sha256_phone_number", "address"})
ADDRESS_FIELDS = frozenset(
    {
        "sha256_first_name",
        "sha256_last_name",
        "sha256_street",
        "city",
        "region",
        "postal_code",
        "country",
    }
)

# reference, user_location: country_id "ISO 3166-1 alpha-2", region_id "ISO 3166-2",
# subcontinent_id and continent_id "UN M49" (three digits, e.g. 021, 019).
_FORMATS = {
    "user_location.country_id": (re.compile(r"^[A-Z]{2}$"), "an ISO 3166-1 alpha-2 code"),
    "user_location.region_id": (
        re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$"),
        "an ISO 3166-2 code such as US-CA",
    ),
    "user_location.subcontinent_id": (re.compile(r"^\d{3}$"), "a UN M49 code such as 021"),
    "user_location.continent_id": (re.compile(r"^\d{3}$"), "a UN M49 code such as 019"),
    # reference, device: screen_resolution "WIDTHxHEIGHT".
    "device.screen_resolution": (re.compile(r"^\d+x\d+$"), "WIDTHxHEIGHT, e.g. 1280x2856"),
}
# reference: "we recommend at minimum" country_id and region_id, and category.
_RECOMMENDED = {"user_location": ("country_id", "region_id"), "device": ("category",)}
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def check_context(payload: dict[str, Any], report: Report) -> None:
    """Report problems of the body's ``user_location``, ``device`` and ``user_data``."""
    for name, allowed in (("user_location", LOCATION_FIELDS), ("device", DEVICE_FIELDS)):
        value = payload.get(name)
        if value is None:
            continue
        if not _object(value, name, allowed, report):
            continue
        for field, text in value.items():
            path = f"{name}.{field}"
            if not isinstance(text, str):
                report.add(path, f"Field [{path}] must be a string.", "VALUE_INVALID")
            elif path in _FORMATS and not _FORMATS[path][0].match(text):
                report.warn(path, f"[{path}] should be {_FORMATS[path][1]}.", "VALUE_INVALID")
        for field in _RECOMMENDED[name]:
            if field not in value:
                report.warn(
                    f"{name}.{field}",
                    f"[{name}] is recommended to carry at least [{field}].",
                    "VALUE_REQUIRED",
                )
    user_data = payload.get("user_data")
    if user_data is not None and _object(user_data, "user_data", USER_DATA_FIELDS, report):
        _check_user_data(user_data, report)


def _object(value: Any, path: str, allowed: frozenset[str], report: Report) -> bool:
    if not isinstance(value, dict):
        report.add(path, f"Field [{path}] must be an object.", "VALUE_INVALID")
        return False
    report.duplicates(value, path)
    report.unknown_fields(value, allowed, path)
    return True


def _check_user_data(user_data: dict[str, Any], report: Report) -> None:
    for name in ("sha256_email_address", "sha256_phone_number"):
        if name in user_data:
            _hashes(user_data[name], f"user_data.{name}", report)
    addresses = user_data.get("address")
    if addresses is None:
        return
    for index, address in enumerate(addresses if isinstance(addresses, list) else [addresses]):
        path = f"user_data.address[{index}]"
        if not _object(address, path, ADDRESS_FIELDS, report):
            continue
        for field, value in address.items():
            if field.startswith("sha256_"):
                _hashes(value, f"{path}.{field}", report)
            elif not isinstance(value, str):
                report.add(f"{path}.{field}", "Field must be a string.", "VALUE_INVALID")


def _hashes(value: Any, path: str, report: Report) -> None:
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        where = path if not isinstance(value, list) else f"{path}[{index}]"
        if not isinstance(item, str):
            report.add(where, "Field must be a string.", "VALUE_INVALID")
        elif not _SHA256_HEX.match(item):
            report.add(
                where,
                "Value must be a SHA-256 digest in hex (64 characters), never the data itself.",
                "VALUE_INVALID",
                enforce_only=True,
            )
