"""Adapters: every piece of I/O (Pub/Sub, Firestore, GA4, Secret Manager, files, logs).

Each adapter is thin and sits beside its fake (``fakes``); the service floor uses them
through the interfaces in ``ports``.
"""
