"""Currency codes: GA4 takes ``currency`` "in 3-letter ISO 4217 format" (events reference).

Two levels, because a list of codes ages while the format does not:

- :data:`CURRENCY_FORMAT` (three upper-case letters) is what the reference and Google's
  Event Builder (``handlers/formatCheckLib.ts``, "must be a valid uppercase 3-letter ISO
  4217 format") require: anything else is refused.
- :data:`ISO_4217_CODES` (ISO 4217 list one, plus codes withdrawn since 2023 that senders
  still use) only warns: a well-formed code missing here may be newer than this list.
"""

from __future__ import annotations

import re

CURRENCY_FORMAT = re.compile(r"^[A-Z]{3}$")

_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
    UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS
    XUA XXX YER ZAR ZMW ZWG ZWL
"""
ISO_4217_CODES = frozenset(_CODES.split())


def currency_problem(value: str) -> tuple[bool, str] | None:
    """Why ``value`` is not a GA4 currency, as (refused, reason); None when it is one."""
    if not CURRENCY_FORMAT.match(value):
        return True, (
            f"currency [{value}] must be an upper-case 3-letter ISO 4217 code, e.g. [EUR]."
        )
    if value not in ISO_4217_CODES:
        return False, f"currency [{value}] is not an ISO 4217 code GA4 can convert."
    return None
