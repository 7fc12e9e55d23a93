"""The pure core: every decision, no I/O, no clock and no randomness of its own.

Nothing here imports an adapter, a service, the CLI or an I/O library (a test checks):
the event model and catalogue, the consent rules and decisions, the GA4 model, mapping,
limits and validation, and the planner that turns one client batch into what is sent.
"""
