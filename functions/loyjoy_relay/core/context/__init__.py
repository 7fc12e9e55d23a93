"""Coarse context derived without personal data: the country and region a request comes
from, and the kind of device that sent it. The facts travel in the client batch (never the
raw IP address or user agent they come from); what of them reaches GA4 is the rules'
choice per mode (:mod:`loyjoy_relay.core.consent.context`)."""
