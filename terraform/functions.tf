# The two Cloud Functions (2nd gen), each built from its own staged upload (storage.tf) and
# running as its own service account (iam.tf). Runtime python311: the code targets Python
# 3.11 (pyproject requires-python, mypy and ruff target 3.11).

resource "google_cloudfunctions2_function" "ingest" {
  #checkov:skip=CKV_GCP_124:Browsers on the customers' websites call ingest directly, so it must accept traffic from the internet (the relay is internal-only).
  name        = "ingest"
  location    = var.region
  description = "LoyJoy events over HTTP into Pub/Sub; serves /listener.js."

  build_config {
    runtime     = "python311"
    entry_point = "ingest"

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.ingest_source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.ingest.email
    max_instance_count               = var.ingest_max_instances
    max_instance_request_concurrency = var.ingest_concurrency
    available_cpu                    = "1" # concurrency above 1 needs a whole vCPU
    available_memory                 = "512Mi"
    timeout_seconds                  = 30
    # Browsers on the customers' websites call this function directly, or only through the
    # optional load balancer (load_balancer.tf): then nothing can bypass it and send the geo
    # headers itself.
    ingress_settings               = local.ingest_load_balancer ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    environment_variables          = local.ingest_environment
  }

  depends_on = [google_project_service.apis]
}

resource "google_cloudfunctions2_function" "relay" {
  name        = "relay"
  location    = var.region
  description = "Consent rules, dedup and GA4 Measurement Protocol delivery for pushed Pub/Sub messages."

  build_config {
    runtime     = "python311"
    entry_point = "relay"

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.relay_source.name
      }
    }
  }

  # No event_trigger: the relay is fed by the push subscription in pubsub.tf (see there why).
  service_config {
    service_account_email            = google_service_account.relay.email
    max_instance_count               = var.relay_max_instances
    max_instance_request_concurrency = var.relay_concurrency
    available_cpu                    = "1"
    available_memory                 = "512Mi"
    timeout_seconds                  = 60
    # Only Pub/Sub (same project) reaches it, and only with the invoker's OIDC token.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.relay_environment
  }

  depends_on = [
    google_project_service.apis,
    google_firestore_database.main,
    google_secret_manager_secret_iam_member.relay_secret_accessor,
    google_secret_manager_secret_iam_member.relay_pseudonym_key_accessor,
  ]
}

# Anyone may call ingest: it is the endpoint browsers post to. It protects itself (origin
# and bot allow-lists, size limits, validation against the catalogue) and max instances
# bounds the cost of abuse.
resource "google_cloud_run_v2_service_iam_member" "ingest_public" {
  #checkov:skip=CKV_GCP_102:The ingest endpoint is called by anonymous website visitors' browsers; public invocation is its purpose.
  project  = var.project_id
  location = google_cloudfunctions2_function.ingest.location
  name     = google_cloudfunctions2_function.ingest.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Only the push subscription's identity may invoke the relay.
resource "google_cloud_run_v2_service_iam_member" "relay_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.relay.location
  name     = google_cloudfunctions2_function.relay.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.relay_invoker.email}"
}
