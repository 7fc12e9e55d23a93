# Pub/Sub: ingest publishes one message per client batch to `events`; the relay is fed by a
# push subscription; messages that fail max_delivery_attempts times, and messages the relay
# itself rejects as permanently failing, land on the dead-letter topic, where a pull
# subscription keeps them for `loyjoy-relay replay`.
#
# Why a push subscription with an OIDC token, and not the function's Eventarc trigger:
# Eventarc creates and owns the subscription behind a trigger, and offers no dead-letter
# policy on it (and no control of the retry backoff): a message the relay can never process
# would be retried for the whole retention window and then silently lost. A subscription we
# own carries the dead-letter policy, exponential backoff (10 s .. 600 s), no message
# ordering (see below) and a never-expiring lifetime, all in this file, and it is the same topology the test
# suite runs against the Pub/Sub emulator (push to a CloudEvent function, functions-framework
# turns the push envelope into a messagePublished CloudEvent).

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption is accepted for event payloads that are pseudonymous and short-lived; a CMEK key ring would be a separate decision.
  name = var.topic_name

  # Messages outlive a relay outage: a day of retention on the topic allows a seek back.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption is accepted for dead letters (same data as the main topic).
  name = local.dead_letter_topic_name

  # 31 days, the maximum, so dead letters can be re-read after a replay went wrong.
  message_retention_duration = "2678400s"

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "relay" {
  name  = local.relay_subscription_name
  topic = google_pubsub_topic.events.id

  # The relay answers within its timeout; Pub/Sub waits as long before redelivering.
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  # No ordering, on purpose, and ingest sets no ordering key: the relay decides consent by
  # event time (from each event's stamp and the ledger), so arrival order does not matter;
  # without keys ingest can publish many clients' messages in one Publish request, and no
  # failing message holds back its client's later ones.
  enable_message_ordering = false

  push_config {
    push_endpoint = google_cloudfunctions2_function.relay.service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.relay_invoker.email
      audience              = google_cloudfunctions2_function.relay.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = "" # never expires, however quiet the site
  }

  # Pushes start as soon as the subscription exists: the invoker must already be allowed to
  # call the relay, Pub/Sub's agent to mint the invoker's token (older projects lack that
  # by default, see iam.tf) and to publish dead letters.
  depends_on = [
    google_cloud_run_v2_service_iam_member.relay_invoker,
    google_service_account_iam_member.pubsub_agent_token_creator,
    google_pubsub_topic_iam_member.dead_letter_publisher_pubsub_agent,
  ]
}

resource "google_pubsub_subscription" "dead_letter_replay" {
  name  = local.replay_subscription_name
  topic = google_pubsub_topic.dead_letter.id

  # Pull subscription read by `loyjoy-relay replay`; messages stay the maximum 7 days.
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = "" # a quiet dead-letter queue is the goal; it must not expire for being quiet
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the dead-letter
# topic and acknowledge (subscriber) on the source subscription, each granted on that one
# resource.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher_pubsub_agent" {
  topic  = google_pubsub_topic.dead_letter.name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "relay_subscriber_pubsub_agent" {
  subscription = google_pubsub_subscription.relay.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
