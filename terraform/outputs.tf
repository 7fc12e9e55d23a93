locals {
  # Behind the optional load balancer the function's own URL refuses browsers.
  ingest_public_url = local.ingest_load_balancer ? "https://${var.ingest_load_balancer_domain}" : google_cloudfunctions2_function.ingest.service_config[0].uri
}

output "ingest_url" {
  description = "URL browsers post events to (LoyJoyRelay.listener endpoint): the load balancer's domain when there is one."
  value       = local.ingest_public_url
}

output "listener_url" {
  description = "URL of listener.js, served by the ingest function."
  value       = "${local.ingest_public_url}/listener.js"
}

output "ingest_load_balancer_ip" {
  description = "Address to point ingest_load_balancer_domain's DNS A record at (null without the load balancer)."
  value       = local.ingest_load_balancer ? google_compute_global_address.ingest[0].address : null
}

# The one line a website pastes where it boots LoyJoy today: listener.js from ingest, and
# the boot call with the relay's listener (docs/listener.md). %[1]s is the ingest URL and
# %[2]s the bot id: the allowed one when exactly one is, else BOT_ID for the site to fill in.
locals {
  website_snippet_format = "<script src=\"%[1]s/listener.js\"></script><script>LoyJoy('boot', {bot: '%[2]s', eventListeners: [LoyJoyRelay.listener({endpoint: '%[1]s'})]})</script>"
  website_snippet_bot    = length(var.allowed_bot_ids) == 1 ? var.allowed_bot_ids[0] : "BOT_ID"
}

output "website_snippet" {
  description = "The one line of HTML a website pastes where it boots LoyJoy: listener.js and the boot call with the relay's listener (BOT_ID unless exactly one bot id is allowed)."
  value       = format(local.website_snippet_format, local.ingest_public_url, local.website_snippet_bot)
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
