output "ingest_url" {
  description = "URL browsers post events to (LoyJoyRelay.listener endpoint)."
  value       = google_cloudfunctions2_function.ingest.service_config[0].uri
}

output "listener_url" {
  description = "URL of listener.js, served by the ingest function."
  value       = "${google_cloudfunctions2_function.ingest.service_config[0].uri}/listener.js"
}

output "website_snippet" {
  description = "Ready-to-paste HTML for a website; replace BOT_ID with the LoyJoy bot id."
  value       = <<-HTML
    <script src="${google_cloudfunctions2_function.ingest.service_config[0].uri}/listener.js"></script>
    <script>
      LoyJoy('boot', {
        bot: 'BOT_ID',
        eventListeners: [LoyJoyRelay.listener({endpoint: '${google_cloudfunctions2_function.ingest.service_config[0].uri}'})]
      })
    </script>
  HTML
}

output "relay_subscription" {
  description = "Push subscription feeding the relay."
  value       = google_pubsub_subscription.relay.name
}

output "dead_letter_topic" {
  description = "Topic that collects messages the relay cannot process."
  value       = google_pubsub_topic.dead_letter.name
}

output "dead_letter_subscription" {
  description = "Pull subscription holding dead letters for `loyjoy-relay replay`."
  value       = google_pubsub_subscription.dead_letter_replay.name
}

output "ga4_api_secret" {
  description = "Secret Manager secret to add the GA4 API secret value to (gcloud secrets versions add)."
  value       = google_secret_manager_secret.ga4_api_secret.secret_id
}

output "dashboard_id" {
  description = "Cloud Monitoring dashboard of the relay."
  value       = google_monitoring_dashboard.relay.id
}
