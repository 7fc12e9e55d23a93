"""UN M49 regions of each country, as GA4's ``user_location`` takes them.

``continent_id`` and ``subcontinent_id`` are UN M49 codes (MP reference, ``user_location``;
``../shared/reference/context-and-site-consent.md``). GA4's subcontinents are M49's
sub-regions, with Africa south of the Sahara and Latin America split into M49's
intermediate regions (Eastern Africa, Caribbean, ...), as GA4's own reports show them.
Membership: the UN Statistics Division's "Standard country or area codes for statistical
use (M49)", by ISO 3166-1 alpha-2 code.
"""

from __future__ import annotations

from typing import NamedTuple


class Region(NamedTuple):
    """A country's place in M49: its sub-region and continent codes."""

    subcontinent_id: str
    continent_id: str


CONTINENTS: dict[str, str] = {
    "002": "Africa",
    "009": "Oceania",
    "019": "Americas",
    "142": "Asia",
    "150": "Europe",
}

# sub-region -> continent
SUBCONTINENT_CONTINENT: dict[str, str] = {
    "005": "019",  # South America
    "011": "002",  # Western Africa
    "013": "019",  # Central America
    "014": "002",  # Eastern Africa
    "015": "002",  # Northern Africa
    "017": "002",  # Middle Africa
    "018": "002",  # Southern Africa
    "021": "019",  # Northern America
    "029": "019",  # Caribbean
    "030": "142",  # Eastern Asia
    "034": "142",  # Southern Asia
    "035": "142",  # South-eastern Asia
    "039": "150",  # Southern Europe
    "053": "009",  # Australia and New Zealand
    "054": "009",  # Melanesia
    "057": "009",  # Micronesia
    "061": "009",  # Polynesia
    "143": "142",  # Central Asia
    "145": "142",  # Western Asia
    "151": "150",  # Eastern Europe
    "154": "150",  # Northern Europe
    "155": "150",  # Western Europe
}

# sub-region -> its countries
_MEMBERS: dict[str, tuple[str, ...]] = {
    # South America
    "005": (
        "AR",
        "BO",
        "BR",
        "BV",
        "CL",
        "CO",
        "EC",
        "FK",
        "GF",
        "GS",
        "GY",
        "PE",
        "PY",
        "SR",
        "UY",
        "VE",
    ),
    # Western Africa
    "011": (
        "BF",
        "BJ",
        "CI",
        "CV",
        "GH",
        "GM",
        "GN",
        "GW",
        "LR",
        "ML",
        "MR",
        "NE",
        "NG",
        "SH",
        "SL",
        "SN",
        "TG",
    ),
    # Central America
    "013": (
        "BZ",
        "CR",
        "GT",
        "HN",
        "MX",
        "NI",
        "PA",
        "SV",
    ),
    # Eastern Africa
    "014": (
        "BI",
        "DJ",
        "ER",
        "ET",
        "IO",
        "KE",
        "KM",
        "MG",
        "MU",
        "MW",
        "MZ",
        "RE",
        "RW",
        "SC",
        "SO",
        "SS",
        "TF",
        "TZ",
        "UG",
        "YT",
        "ZM",
        "ZW",
    ),
    # Northern Africa
    "015": (
        "DZ",
        "EG",
        "EH",
        "LY",
        "MA",
        "SD",
        "TN",
    ),
    # Middle Africa
    "017": (
        "AO",
        "CD",
        "CF",
        "CG",
        "CM",
        "GA",
        "GQ",
        "ST",
        "TD",
    ),
    # Southern Africa
    "018": (
        "BW",
        "LS",
        "NA",
        "SZ",
        "ZA",
    ),
    # Northern America
    "021": (
        "BM",
        "CA",
        "GL",
        "PM",
        "US",
    ),
    # Caribbean
    "029": (
        "AG",
        "AI",
        "AW",
        "BB",
        "BL",
        "BQ",
        "BS",
        "CU",
        "CW",
        "DM",
        "DO",
        "GD",
        "GP",
        "HT",
        "JM",
        "KN",
        "KY",
        "LC",
        "MF",
        "MQ",
        "MS",
        "PR",
        "SX",
        "TC",
        "TT",
        "VC",
        "VG",
        "VI",
    ),
    # Eastern Asia
    "030": (
        "CN",
        "HK",
        "JP",
        "KP",
        "KR",
        "MN",
        "MO",
        "TW",
    ),
    # Southern Asia
    "034": (
        "AF",
        "BD",
        "BT",
        "IN",
        "IR",
        "LK",
        "MV",
        "NP",
        "PK",
    ),
    # South-eastern Asia
    "035": (
        "BN",
        "ID",
        "KH",
        "LA",
        "MM",
        "MY",
        "PH",
        "SG",
        "TH",
        "TL",
        "VN",
    ),
    # Southern Europe
    "039": (
        "AD",
        "AL",
        "BA",
        "ES",
        "GI",
        "HR",
        "IT",
        "ME",
        "MK",
        "MT",
        "PT",
        "RS",
        "SI",
        "SM",
        "VA",
        "XK",
        "GR",
    ),
    # Australia and New Zealand
    "053": (
        "AU",
        "CC",
        "CX",
        "HM",
        "NF",
        "NZ",
    ),
    # Melanesia
    "054": (
        "FJ",
        "NC",
        "PG",
        "SB",
        "VU",
    ),
    # Micronesia
    "057": (
        "FM",
        "GU",
        "KI",
        "MH",
        "MP",
        "PW",
        "UM",
    ),
    # Polynesia
    "061": (
        "AS",
        "CK",
        "NR",
        "NU",
        "PF",
        "PN",
        "TK",
        "TO",
        "TV",
        "WF",
        "WS",
    ),
    # Central Asia
    "143": (
        "KG",
        "KZ",
        "TJ",
        "TM",
        "UZ",
    ),
    # Western Asia
    "145": (
        "AE",
        "AM",
        "AZ",
        "BH",
        "CY",
        "GE",
        "IL",
        "IQ",
        "JO",
        "KW",
        "LB",
        "OM",
        "PS",
        "QA",
        "SA",
        "SY",
        "TR",
        "YE",
    ),
    # Eastern Europe
    "151": (
        "BG",
        "BY",
        "CZ",
        "HU",
        "MD",
        "PL",
        "RO",
        "RU",
        "SK",
        "UA",
    ),
    # Northern Europe
    "154": (
        "AX",
        "DK",
        "EE",
        "FI",
        "FO",
        "GG",
        "IE",
        "IM",
        "IS",
        "JE",
        "LT",
        "LV",
        "NO",
        "SE",
        "SJ",
        "GB",
    ),
    # Western Europe
    "155": (
        "AT",
        "BE",
        "CH",
        "DE",
        "FR",
        "LI",
        "LU",
        "MC",
        "NL",
    ),
}

COUNTRY_REGION: dict[str, Region] = {
    country: Region(subcontinent, SUBCONTINENT_CONTINENT[subcontinent])
    for subcontinent, countries in _MEMBERS.items()
    for country in countries
}


def region_of(country_id: str) -> Region | None:
    """The M49 sub-region and continent of an ISO 3166-1 alpha-2 country, if known."""
    return COUNTRY_REGION.get(country_id.upper())
