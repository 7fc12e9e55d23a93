"""Loopback helpers: free ports and polling for a condition (never a bare sleep)."""

from loyjoy_relay.devstack.emulators import free_port, wait_until

__all__ = ["free_port", "wait_until"]
