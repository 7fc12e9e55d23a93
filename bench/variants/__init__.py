"""Variants of the functions that the bench compares with what ships (see README)."""
