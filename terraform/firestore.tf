# Firestore (native mode) holds the relay's client ledger, each document carrying an
# `expire_at` timestamp that a TTL policy uses to delete it:
#   consent_ledger - one document per client: its profiling decisions (consent semantics,
#                    DESIGN.md), the events being sent and those sent recently, so a
#                    redelivered message sends nothing twice
#   relay_dedup    - the per-event records of earlier releases; nothing writes there now,
#                    and the TTL policy empties it within days of an upgrade
# If the project already has a (default) database, import it first:
#   terraform import google_firestore_database.main "projects/<project>/databases/(default)"

resource "google_firestore_database" "main" {
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Losing the consent ledger would forget revocations: never delete it with the stack.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.apis]
}

resource "google_firestore_field" "ttl" {
  for_each = toset(["consent_ledger", "relay_dedup"])

  database   = google_firestore_database.main.name
  collection = each.value
  field      = "expire_at"

  ttl_config {}

  # A TTL field is only written and compared by the TTL policy; indexing it costs writes.
  index_config {}
}

# The ledger's maps are keyed by event ids and decision sources, new keys all the time. The
# relay reads each document by its id and never queries these fields, so indexing them
# would only slow every write and count against a document's 40,000 index entries.
resource "google_firestore_field" "ledger_maps_unindexed" {
  for_each = toset(["decisions", "claims", "done"])

  database   = google_firestore_database.main.name
  collection = "consent_ledger"
  field      = each.value

  index_config {}
}
