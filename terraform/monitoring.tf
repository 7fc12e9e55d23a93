# Operations: log-based metrics from the functions' structured logs (logs.py's JsonLogger:
# each line's fields arrive as jsonPayload), a dashboard of them, and two alerts.
#
# Lines the metrics read (one per request, one per message: never one per event, which
# would make the logs cost more than the relay):
#   ingest: {"message": "ingest request", "status", "accepted", "rejected", "reject_reasons": "a,b"}
#   relay:  {"message": "relay message", "forwarded", "anonymized", "dropped", "dead_lettered",
#            "drop_rules": "default,never", ...and every decision (loyjoy_relay/service/audit.py)}
# Counts carried in a field (accepted, forwarded, ...) become DISTRIBUTION metrics with the
# field as value; their sum is the event count (PromQL: <metric>_sum). Label extractors
# read string fields only: EXTRACT of a JSON array is not documented to work, so ingest
# logs its distinct reject reasons, and the relay the distinct rules its drops rest on
# (never, default, denied, granted: a short fixed set, unlike the reasons, which name
# times), as one string joined with commas.

locals {
  ingest_log = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.ingest.name}\""
  relay_log  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.relay.name}\""

  # metric name => {filter, field (the count), description, labels (label => extractor)}
  event_count_metrics = {
    ingest_events_received = {
      filter      = "${local.ingest_log} AND jsonPayload.message=\"ingest request\" AND jsonPayload.status=202 AND jsonPayload.accepted>0"
      field       = "jsonPayload.accepted"
      description = "Events ingest accepted and Pub/Sub holds (202 answers only: a 503 published nothing)."
      labels      = {}
    }
    ingest_events_rejected = {
      filter      = "${local.ingest_log} AND jsonPayload.message=\"ingest request\" AND jsonPayload.rejected>0"
      field       = "jsonPayload.rejected"
      description = "Events ingest rejected, by the request's distinct reasons (the fields that failed), joined with commas."
      labels = {
        reasons = "EXTRACT(jsonPayload.reject_reasons)"
        status  = "EXTRACT(jsonPayload.status)"
      }
    }
    relay_events_forwarded = {
      filter      = "${local.relay_log} AND jsonPayload.message=\"relay message\" AND jsonPayload.forwarded>0"
      field       = "jsonPayload.forwarded"
      description = "Events the relay sent to GA4 with the client's identifiers."
      labels      = {}
    }
    relay_events_anonymized = {
      filter      = "${local.relay_log} AND jsonPayload.message=\"relay message\" AND jsonPayload.anonymized>0"
      field       = "jsonPayload.anonymized"
      description = "Events the relay sent to GA4 anonymized."
      labels      = {}
    }
    relay_events_dropped = {
      filter      = "${local.relay_log} AND jsonPayload.message=\"relay message\" AND jsonPayload.dropped>0"
      field       = "jsonPayload.dropped"
      description = "Events the relay did not send, by the consent rules that dropped them (never, default, denied, granted), joined with commas."
      labels = {
        rules = "EXTRACT(jsonPayload.drop_rules)"
      }
    }
    relay_events_dead_lettered = {
      filter      = "${local.relay_log} AND jsonPayload.message=\"relay message\" AND jsonPayload.dead_lettered>0"
      field       = "jsonPayload.dead_lettered"
      description = "Events the relay moved to the dead-letter topic as permanently failing."
      labels      = {}
    }
  }
}

resource "google_logging_metric" "event_counts" {
  for_each = local.event_count_metrics

  name             = each.key
  description      = each.value.description
  filter           = each.value.filter
  value_extractor  = "EXTRACT(${each.value.field})"
  label_extractors = each.value.labels

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = each.key

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 8
      growth_factor      = 2
      scale              = 1
    }
  }

  depends_on = [google_project_service.apis]
}

# Requests ingest refused before publishing anything to protect the bill and the GA4
# property: crawlers and headless browsers, and senders over a rate limit.
resource "google_logging_metric" "ingest_refused_requests" {
  name        = "ingest_refused_requests"
  description = "Requests ingest refused unpublished: automated clients (403) and rate-limited senders (429), by reason."
  filter      = "${local.ingest_log} AND jsonPayload.message=\"ingest request\" AND (jsonPayload.status=403 OR jsonPayload.status=429) AND jsonPayload.reason:*"

  label_extractors = {
    reason = "EXTRACT(jsonPayload.reason)"
  }

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "ingest_refused_requests"

    labels {
      key         = "reason"
      value_type  = "STRING"
      description = "automated client, rate limited (client) or rate limited (address)."
    }
  }

  depends_on = [google_project_service.apis]
}

locals {
  promql_event_sum = { for name in keys(local.event_count_metrics) : name => "sum(increase(logging_googleapis_com:user_${name}_sum{monitored_resource=\"cloud_run_revision\"}[5m]))" }

  dashboard_tiles = [
    { title = "Events received (ingest)", query = local.promql_event_sum.ingest_events_received },
    { title = "Events rejected by reasons (ingest)", query = "sum by (reasons) (increase(logging_googleapis_com:user_ingest_events_rejected_sum{monitored_resource=\"cloud_run_revision\"}[5m]))" },
    { title = "Events forwarded to GA4", query = local.promql_event_sum.relay_events_forwarded },
    { title = "Events anonymized", query = local.promql_event_sum.relay_events_anonymized },
    { title = "Events dropped by rule", query = "sum by (rules) (increase(logging_googleapis_com:user_relay_events_dropped_sum{monitored_resource=\"cloud_run_revision\"}[5m]))" },
    { title = "Events dead-lettered by the relay", query = local.promql_event_sum.relay_events_dead_lettered },
    { title = "Dead-letter backlog (replay subscription)", query = "max(pubsub_googleapis_com:subscription_num_undelivered_messages{monitored_resource=\"pubsub_subscription\",subscription_id=\"${local.replay_subscription_name}\"})" },
    { title = "Relay pushes by response class", query = "sum by (response_code_class) (rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${google_cloudfunctions2_function.relay.name}\"}[5m]))" },
  ]

  # Two columns of 6x4 tiles. A position of 0 is left out, not written: the API drops zero
  # fields from what it returns, so a written 0 shows as a change on every plan
  # (hashicorp/terraform-provider-google#16173).
  dashboard_mosaic_tiles = [
    for index, tile in local.dashboard_tiles : merge(
      { for axis, position in { xPos = (index % 2) * 6, yPos = floor(index / 2) * 4 } : axis => position if position != 0 },
      {
        width  = 6
        height = 4
        widget = {
          title = tile.title
          xyChart = {
            dataSets = [{
              plotType        = "LINE"
              targetAxis      = "Y1"
              timeSeriesQuery = { prometheusQuery = tile.query }
            }]
          }
        }
      },
    )
  ]
}

resource "google_monitoring_dashboard" "relay" {
  dashboard_json = jsonencode({
    displayName  = "loyjoy-ga4-relay"
    mosaicLayout = { columns = 12, tiles = local.dashboard_mosaic_tiles }
  })

  depends_on = [google_logging_metric.event_counts]
}

resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  display_name          = "loyjoy-ga4-relay: dead letters waiting"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Replay subscription backlog above ${var.dead_letter_alert_threshold}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter_replay.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.dead_letter_alert_threshold
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Messages reached the dead-letter topic. Read the reason attributes (`loyjoy-relay replay --dry-run`), fix the cause, then `loyjoy-relay replay`. See docs/deploy.md, \"Dead letters\"."
  }

  depends_on = [google_project_service.apis]
}

resource "google_monitoring_alert_policy" "relay_error_rate" {
  display_name          = "loyjoy-ga4-relay: relay failing"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.relay_error_rate_threshold * 100}% of pushes to the relay fail"

    condition_prometheus_query_language {
      query               = "sum(rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${google_cloudfunctions2_function.relay.name}\",response_code_class!=\"2xx\"}[10m])) / sum(rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${google_cloudfunctions2_function.relay.name}\"}[10m])) > ${var.relay_error_rate_threshold}"
      duration            = "600s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The relay answers pushes with errors, so Pub/Sub retries them (and dead-letters them after the maximum attempts). Check the relay's ERROR logs: GA4 unreachable, Firestore unavailable (the relay fails closed), or a bad configuration."
  }

  depends_on = [google_project_service.apis]
}

# The dropped-events metric was a counter of one line per dropped event; it is now one of
# the event-count metrics above (one line per message). Same metric name, new shape: the
# provider replaces it.
moved {
  from = google_logging_metric.relay_events_dropped
  to   = google_logging_metric.event_counts["relay_events_dropped"]
}
