"""GA4 Measurement Protocol: mapping, validation, request building and sending."""
