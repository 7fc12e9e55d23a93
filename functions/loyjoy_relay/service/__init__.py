"""Services: ingest, relay and replay, doing I/O around the core, and their wiring."""
