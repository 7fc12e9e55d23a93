"""Validation of MP request bodies, answering as GA4's debug endpoint does."""
