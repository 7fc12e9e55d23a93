"""loyjoy_relay: LoyJoy chat events to Google Analytics 4, server side, consent first.

Three floors, imports pointing down only:

* entry points (``functions/ingest/main.py``, ``functions/relay/main.py``, ``cli``) wire;
* adapters (``publishing``, ``ingest_http``, Firestore stores, the GA4 sender, secrets,
  ``logs``) do I/O;
* the core (``catalogue``, ``events``, consent decisions, GA4 mapping and validation) is
  pure and holds every decision.
"""

__version__ = "0.1.0"
