# loyjoy-ga4-relay on Google Cloud: LoyJoy chat events -> ingest (HTTP function) -> Pub/Sub
# -> relay (function, pushed by a subscription with retries and dead letters) -> GA4.
# Files by concern: apis/locals here, storage.tf (sources), pubsub.tf, functions.tf, iam.tf,
# firestore.tf, secrets.tf, monitoring.tf.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  dead_letter_topic_name   = "${var.topic_name}-dead-letter"
  relay_subscription_name  = "${var.topic_name}-relay"
  replay_subscription_name = "${var.topic_name}-dead-letter-replay"

  # The Pub/Sub service agent: it pushes to the relay (minting the OIDC token) and moves
  # messages to the dead-letter topic.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  ingest_zip = "${path.module}/${var.build_dir}/ingest.zip"
  relay_zip  = "${path.module}/${var.build_dir}/relay.zip"

  # Every environment variable the functions read (functions/loyjoy_relay/config.py).
  # tests/deploy checks these key sets against the code in both directions.
  ingest_environment = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    RELAY_TOPIC          = google_pubsub_topic.events.name
    ALLOWED_ORIGINS      = join(",", var.allowed_origins)
    ALLOWED_BOT_IDS      = join(",", var.allowed_bot_ids)
    CUSTOM_EVENT_NAMES   = join(",", var.custom_event_names)
    # Set only behind the load balancer (load_balancer.tf), which alone adds these headers;
    # without it a client could send them itself, so ingest must not read them.
    GEO_COUNTRY_HEADER = local.ingest_load_balancer ? var.geo_country_header : ""
    GEO_REGION_HEADER  = local.ingest_load_balancer ? var.geo_region_header : ""
    # Abuse limits per instance (README, "Limits against abuse").
    CLIENT_RATE_PER_SECOND  = tostring(var.client_rate_per_second)
    CLIENT_RATE_BURST       = tostring(var.client_rate_burst)
    ADDRESS_RATE_PER_SECOND = tostring(var.address_rate_per_second)
    ADDRESS_RATE_BURST      = tostring(var.address_rate_burst)
    TRUSTED_PROXY_HOPS      = tostring(coalesce(var.trusted_proxy_hops, local.ingest_load_balancer ? 2 : 1))
    AUTOMATED_USER_AGENTS   = join(",", var.automated_user_agents)
    # Read by functions-framework's server, not by our code: the threads that serve
    # requests at once. Its default (4 per CPU) would leave most of the concurrency Cloud
    # Run routes to an instance waiting in the socket backlog, and ingest's requests wait
    # on Pub/Sub together: the more in flight, the more share one Publish request.
    THREADS = tostring(var.ingest_concurrency)
  }

  # CONSENT_RULES and GA4_MAPPING stay unset on purpose: the relay then reads the copies of
  # infra/consent-rules.yaml and infra/ga4-mapping.yaml that `make stage` puts in its upload,
  # so a rules change is a reviewed file change that redeploys the relay (new zip hash).
  # GA4_API_SECRET (the value) is for local runs only; here the relay reads the value from
  # Secret Manager by GA4_API_SECRET_NAME, so it never sits in Terraform state or config.
  relay_environment = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    RELAY_TOPIC          = google_pubsub_topic.events.name
    DEAD_LETTER_TOPIC    = google_pubsub_topic.dead_letter.name
    GA4_MEASUREMENT_ID   = var.ga4_measurement_id
    GA4_API_SECRET_NAME  = "${google_secret_manager_secret.ga4_api_secret.id}/versions/latest"
    PSEUDONYM_KEY_NAME   = "${google_secret_manager_secret.pseudonym_key.id}/versions/latest"
    GA4_ENDPOINT         = var.ga4_endpoint
    # The mapping must know a site's custom event names to check them at start.
    CUSTOM_EVENT_NAMES = join(",", var.custom_event_names)
    # functions-framework's server threads, as many as the messages Cloud Run pushes at once.
    THREADS = tostring(var.relay_concurrency)
  }
}

resource "google_project_service" "apis" {
  # Compute Engine only for the optional load balancer: enabling it makes a default network.
  for_each = toset(concat(local.ingest_load_balancer ? ["compute.googleapis.com"] : [], [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]))

  project = var.project_id
  service = each.value

  # Destroying this stack must not switch off APIs other workloads in the project may use.
  disable_on_destroy = false
}
