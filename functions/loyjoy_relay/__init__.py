"""loyjoy_relay: LoyJoy chat events to Google Analytics 4, server side, consent first.

Three floors, imports pointing down only:

* entry points (``functions/ingest/main.py``, ``functions/relay/main.py``, ``cli``) wire;
* ``service`` (ingest, relay, explain, replay, wiring) and ``adapters`` (Pub/Sub,
  Firestore, GA4, Secret Manager, files, logs; their fakes) do I/O;
* ``core`` (catalogue, events, consent, GA4 mapping and validation, the planner) is pure
  and holds every decision.
"""

__version__ = "0.1.0"
