# Optional: an external HTTPS load balancer in front of ingest (var.ingest_load_balancer_domain),
# off by default. It adds the client's country and ISO 3166-2 subdivision as request
# headers (geo from the client's address; the address itself never reaches the code), so
# GA4 gets country and region without the relay forwarding an IP. Without it, ingest derives
# the country from the browser's time zone. It costs a monthly fee (forwarding rule and
# data processed): docs/deploy.md, "Country and region".
#
# global address <- forwarding rule :443 <- HTTPS proxy (managed certificate, TLS 1.2+)
#   <- URL map <- backend service (adds the geo headers) <- serverless NEG -> ingest
#
# A Cloud Armor policy attaches to google_compute_backend_service.ingest (security_policy).

locals {
  ingest_load_balancer = var.ingest_load_balancer_domain != ""
  # The variables the load balancer fills in (custom headers, "Variables that can appear in
  # the header value"): CLDR region code and subdivision of the client's address.
  ingest_geo_headers = [
    "${var.geo_country_header}:{client_region}",
    "${var.geo_region_header}:{client_region_subdivision}",
  ]
}

resource "google_compute_global_address" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name       = "loyjoy-ingest"
  depends_on = [google_project_service.apis]
}

resource "google_compute_region_network_endpoint_group" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name                  = "loyjoy-ingest"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  # A 2nd gen function is a Cloud Run service.
  cloud_run {
    service = google_cloudfunctions2_function.ingest.service_config[0].service
  }
}

resource "google_compute_backend_service" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name                   = "loyjoy-ingest"
  load_balancing_scheme  = "EXTERNAL_MANAGED"
  protocol               = "HTTPS"
  custom_request_headers = local.ingest_geo_headers

  backend {
    group = google_compute_region_network_endpoint_group.ingest[0].id
  }

  # Request logs would hold each visitor's IP address and user agent: off on purpose.
  log_config {
    enable = false
  }

  security_policy = local.ingest_edge_rate_limit ? google_compute_security_policy.ingest[0].id : null
}

# Optional, with the load balancer: Cloud Armor answers 429 at Google's edge to any address
# sending more than var.edge_rate_limit_per_minute requests a minute, before the request
# reaches (and is billed to) ingest. Ingest's own per-instance limits still apply behind it.
locals {
  ingest_edge_rate_limit = local.ingest_load_balancer && var.edge_rate_limit_per_minute > 0
}

resource "google_compute_security_policy" "ingest" {
  count = local.ingest_edge_rate_limit ? 1 : 0

  name        = "loyjoy-ingest"
  description = "Rate limit per client address in front of the LoyJoy ingest function."

  rule {
    action      = "throttle"
    priority    = 1000
    description = "At most edge_rate_limit_per_minute requests a minute per client address."

    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }

    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"

      rate_limit_threshold {
        count        = var.edge_rate_limit_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Everything else."

    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_url_map" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name            = "loyjoy-ingest"
  default_service = google_compute_backend_service.ingest[0].id
}

resource "google_compute_managed_ssl_certificate" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name = "loyjoy-ingest"

  managed {
    domains = [var.ingest_load_balancer_domain]
  }
}

resource "google_compute_ssl_policy" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name            = "loyjoy-ingest"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name             = "loyjoy-ingest"
  url_map          = google_compute_url_map.ingest[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.ingest[0].id]
  ssl_policy       = google_compute_ssl_policy.ingest[0].id
}

resource "google_compute_global_forwarding_rule" "ingest" {
  count = local.ingest_load_balancer ? 1 : 0

  name                  = "loyjoy-ingest"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "443"
  ip_address            = google_compute_global_address.ingest[0].id
  target                = google_compute_target_https_proxy.ingest[0].id
}
