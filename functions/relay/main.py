"""Cloud Function ``relay``: Pub/Sub client batches → consent → GA4 (see DESIGN.md).

Raising makes Pub/Sub deliver the message again (with the subscription's backoff, then
to the dead-letter topic); returning acknowledges it. The service raises only for
transient failures; permanent ones it dead-letters itself.
"""

import functions_framework
from cloudevents.http import CloudEvent
from loyjoy_relay.service.wiring import create_relay_service

_service = create_relay_service()  # once per instance: rules, mapping and clients


@functions_framework.cloud_event
def relay(cloud_event: CloudEvent) -> None:
    """Relay one Pub/Sub message (a client batch) to GA4."""
    _service.handle_event_data(cloud_event.data)
