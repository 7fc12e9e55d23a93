# One service account per role, each granted only what it needs, on the one resource it
# needs it for:
#   ingest        -> roles/pubsub.publisher on the events topic
#   relay         -> roles/secretmanager.secretAccessor on the GA4 API secret and on the
#                    pseudonym key,
#                    roles/pubsub.publisher on the dead-letter topic,
#                    roles/datastore.user (Firestore) on the project, see below
#   relay-invoker -> roles/run.invoker on the relay's Cloud Run service (functions.tf)

resource "google_service_account" "ingest" {
  account_id   = "loyjoy-ingest"
  display_name = "loyjoy-ga4-relay ingest function"
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "relay" {
  account_id   = "loyjoy-relay"
  display_name = "loyjoy-ga4-relay relay function"
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "relay_invoker" {
  account_id   = "loyjoy-relay-invoker"
  display_name = "loyjoy-ga4-relay push subscription identity (invokes relay)"
  depends_on   = [google_project_service.apis]
}

resource "google_pubsub_topic_iam_member" "ingest_publisher" {
  topic  = google_pubsub_topic.events.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.ingest.email}"
}

# The relay publishes messages that can never succeed to the dead-letter topic itself.
resource "google_pubsub_topic_iam_member" "relay_dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.relay.email}"
}

resource "google_secret_manager_secret_iam_member" "relay_secret_accessor" {
  secret_id = google_secret_manager_secret.ga4_api_secret.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.relay.email}"
}

resource "google_secret_manager_secret_iam_member" "relay_pseudonym_key_accessor" {
  secret_id = google_secret_manager_secret.pseudonym_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.relay.email}"
}

# Firestore has no IAM policy of its own (no per-database or per-collection IAM resource):
# the project is the only level roles/datastore.user can be granted at. The IAM condition
# narrows the grant to this stack's database.
resource "google_project_iam_member" "relay_firestore_user" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.relay.email}"

  condition {
    title       = "loyjoy-relay-database-only"
    description = "Only the Firestore database of loyjoy-ga4-relay."
    expression  = "resource.name == \"${google_firestore_database.main.id}\""
  }
}

# Pub/Sub mints the push's OIDC token as the invoker account. Projects made after April 2021
# give the Pub/Sub service agent this permission by default; granting it on this one
# account makes older projects work too.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.relay_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}
