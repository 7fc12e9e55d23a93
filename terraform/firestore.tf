# Firestore (native mode) holds two collections of the relay, each document carrying an
# `expire_at` timestamp that a TTL policy uses to delete it:
#   consent_ledger - the last profiling decisions per client (consent semantics, DESIGN.md)
#   relay_dedup    - event ids already sent, so a redelivered message sends nothing twice
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
