"""GA4 Measurement Protocol: the outgoing model, mapping, limits, request bodies, validation."""
