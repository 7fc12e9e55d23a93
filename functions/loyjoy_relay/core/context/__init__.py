"""Coarse context derived without personal data: country and region, device (issue work in
progress: the tables here are the pure data that derivation uses)."""
