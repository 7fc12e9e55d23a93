"""Consent: the privacy team's rules, a client's history, decisions, and privacy transforms."""
