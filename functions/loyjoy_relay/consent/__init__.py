"""Consent: the privacy team's rules, decisions, the consent ledger, and redaction."""
