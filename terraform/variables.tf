variable "project_id" {
  description = "Google Cloud project id everything is deployed into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the source bucket and the Firestore database, e.g. europe-west3."
  type        = string
  default     = "europe-west3"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west3 or us-central1."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore (default) database: a region (europe-west3) or a multi-region (eur3, nam5). Cannot change after creation."
  type        = string
  default     = "eur3"

  validation {
    condition     = can(regex("^([a-z]+-[a-z]+[0-9]+|eur3|nam5)$", var.firestore_location))
    error_message = "firestore_location must be a region such as europe-west3 or one of the multi-regions eur3, nam5."
  }
}

variable "ga4_measurement_id" {
  description = "Measurement id of the GA4 web data stream that receives the events (G-XXXXXXXX)."
  type        = string

  validation {
    condition     = can(regex("^G-[A-Z0-9]{4,20}$", var.ga4_measurement_id))
    error_message = "ga4_measurement_id must look like G-ABC123XYZ (Admin > Data streams > the web stream)."
  }
}

variable "ga4_endpoint" {
  description = "Base URL of the GA4 Measurement Protocol. https://region1.google-analytics.com keeps collection in the EU."
  type        = string
  default     = "https://www.google-analytics.com"

  validation {
    condition     = can(regex("^https://[^/]+$", var.ga4_endpoint))
    error_message = "ga4_endpoint must be an https URL without a path, e.g. https://region1.google-analytics.com."
  }
}

variable "allowed_origins" {
  description = "Exact origins (scheme://host[:port]) of the websites allowed to call ingest from a browser. \"*\" allows any origin; empty refuses every cross-origin call."
  type        = list(string)

  validation {
    condition     = alltrue([for origin in var.allowed_origins : origin == "*" || can(regex("^https?://[^/]+$", origin))])
    error_message = "allowed_origins entries must be \"*\" or origins like https://www.example.com (scheme and host, no path, no trailing slash)."
  }
}

variable "allowed_bot_ids" {
  description = "LoyJoy bot ids whose events are accepted. Empty accepts any bot (not recommended in production)."
  type        = list(string)

  validation {
    condition     = alltrue([for bot in var.allowed_bot_ids : can(regex("^[A-Za-z0-9_-]{1,100}$", bot))])
    error_message = "allowed_bot_ids entries must be LoyJoy bot ids (letters, digits, - and _)."
  }
}

variable "custom_event_names" {
  description = "Extra event names a site emits through LoyJoy's Event module, accepted besides the 145 catalogue names."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.custom_event_names : can(regex("^[A-Za-z][A-Za-z0-9_]{0,39}$", name))])
    error_message = "custom_event_names entries must start with a letter and hold at most 40 letters, digits or underscores."
  }
}

variable "topic_name" {
  description = "Name of the Pub/Sub topic between ingest and relay; the dead-letter topic is <topic_name>-dead-letter."
  type        = string
  default     = "loyjoy-events"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~%+-]{2,200}$", var.topic_name)) && !startswith(var.topic_name, "goog")
    error_message = "topic_name must be a valid Pub/Sub topic name (3-200 characters, starting with a letter, not with goog)."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message to the relay before Pub/Sub moves it to the dead-letter topic (5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "ingest_max_instances" {
  description = "Upper bound on ingest instances: caps cost under a traffic spike or abuse (one instance serves about 1,200 requests a second; docs/deploy.md, \"Limits against abuse\", gives the most a flood can cost per instance)."
  type        = number
  default     = 5

  validation {
    condition     = var.ingest_max_instances >= 1 && var.ingest_max_instances <= 1000
    error_message = "ingest_max_instances must be between 1 and 1000."
  }
}

variable "ingest_concurrency" {
  description = "Requests one ingest instance serves at once (each waits on Pub/Sub, and those in flight together share one Publish request), and its server's threads."
  type        = number
  default     = 40

  validation {
    condition     = var.ingest_concurrency >= 1 && var.ingest_concurrency <= 1000
    error_message = "ingest_concurrency must be between 1 and 1000."
  }
}

variable "relay_max_instances" {
  description = "Upper bound on relay instances: bounds the request rate towards GA4 and Firestore, and what a flood can cost (one instance relays about 800 events a second)."
  type        = number
  default     = 3

  validation {
    condition     = var.relay_max_instances >= 1 && var.relay_max_instances <= 1000
    error_message = "relay_max_instances must be between 1 and 1000."
  }
}

variable "relay_concurrency" {
  description = "Pushed messages one relay instance handles at once, and its server's threads."
  type        = number
  default     = 10

  validation {
    condition     = var.relay_concurrency >= 1 && var.relay_concurrency <= 1000
    error_message = "relay_concurrency must be between 1 and 1000."
  }
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) the alerts go to. Empty: alerts only show in the console."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for channel in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", channel))])
    error_message = "notification_channels entries must be full ids: projects/<project>/notificationChannels/<number>."
  }
}

variable "dead_letter_alert_threshold" {
  description = "Alert when the dead-letter replay subscription holds more than this many messages for 5 minutes."
  type        = number
  default     = 0

  validation {
    condition     = var.dead_letter_alert_threshold >= 0
    error_message = "dead_letter_alert_threshold must be 0 or more."
  }
}

variable "relay_error_rate_threshold" {
  description = "Alert when more than this fraction (0-1) of pushes to the relay fail over 10 minutes."
  type        = number
  default     = 0.05

  validation {
    condition     = var.relay_error_rate_threshold > 0 && var.relay_error_rate_threshold < 1
    error_message = "relay_error_rate_threshold must be a fraction between 0 and 1."
  }
}

variable "build_dir" {
  description = "Directory holding the staged uploads ingest.zip and relay.zip (written by `make stage`), relative to this module."
  type        = string
  default     = "../build"
}

variable "ingest_load_balancer_domain" {
  description = "Domain (e.g. collect.example.com) of an optional external HTTPS load balancer in front of ingest that adds the client's country and region as request headers; point its DNS at the ingest_load_balancer_ip output. Empty (the default): no load balancer, and the country comes from the browser's time zone."
  type        = string
  default     = ""

  validation {
    condition     = var.ingest_load_balancer_domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.ingest_load_balancer_domain))
    error_message = "ingest_load_balancer_domain must be empty or a lower-case domain name such as collect.example.com."
  }
}

variable "geo_country_header" {
  description = "Request header the load balancer puts the client's country in ({client_region}); ingest reads it (GEO_COUNTRY_HEADER). Used only with ingest_load_balancer_domain."
  type        = string
  default     = "X-Client-Geo-Country"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,64}$", var.geo_country_header)) && !can(regex("(?i)^(x-google|x-goog-|x-gfe|x-amz-|host$|x-user-ip$)", var.geo_country_header))
    error_message = "geo_country_header must be a header name of letters, digits and hyphens, not Host, X-User-IP, nor starting with X-Google, X-Goog-, X-GFE or X-Amz- (reserved by the load balancer)."
  }
}

variable "geo_region_header" {
  description = "Request header the load balancer puts the client's subdivision in ({client_region_subdivision}, e.g. USCA); ingest reads it (GEO_REGION_HEADER). Used only with ingest_load_balancer_domain."
  type        = string
  default     = "X-Client-Geo-Region"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,64}$", var.geo_region_header)) && !can(regex("(?i)^(x-google|x-goog-|x-gfe|x-amz-|host$|x-user-ip$)", var.geo_region_header))
    error_message = "geo_region_header must be a header name of letters, digits and hyphens, not Host, X-User-IP, nor starting with X-Google, X-Goog-, X-GFE or X-Amz- (reserved by the load balancer)."
  }
}
variable "client_rate_per_second" {
  description = "Requests a second one client id may send to ingest (per instance), after its burst. Over it ingest answers 429 with Retry-After and publishes nothing; the listener retries later."
  type        = number
  default     = 2

  validation {
    condition     = var.client_rate_per_second > 0
    error_message = "client_rate_per_second must be positive."
  }
}

variable "client_rate_burst" {
  description = "Requests one client id may send at once before client_rate_per_second applies."
  type        = number
  default     = 10

  validation {
    condition     = var.client_rate_burst >= 1 && floor(var.client_rate_burst) == var.client_rate_burst
    error_message = "client_rate_burst must be a whole number of at least 1."
  }
}

variable "address_rate_per_second" {
  description = "Requests a second one source address may send (per instance), after its burst. Higher than the client limit: visitors behind one office or carrier NAT share an address."
  type        = number
  default     = 20

  validation {
    condition     = var.address_rate_per_second > 0
    error_message = "address_rate_per_second must be positive."
  }
}

variable "address_rate_burst" {
  description = "Requests one source address may send at once before address_rate_per_second applies."
  type        = number
  default     = 60

  validation {
    condition     = var.address_rate_burst >= 1 && floor(var.address_rate_burst) == var.address_rate_burst
    error_message = "address_rate_burst must be a whole number of at least 1."
  }
}

variable "trusted_proxy_hops" {
  description = "Proxies in front of ingest that append to X-Forwarded-For; the client address is that many entries from the right. Null (the default): 1 for Google's front end alone, 2 with the ingest load balancer in front."
  type        = number
  default     = null

  validation {
    condition     = var.trusted_proxy_hops == null ? true : var.trusted_proxy_hops >= 0 && floor(var.trusted_proxy_hops) == var.trusted_proxy_hops
    error_message = "trusted_proxy_hops must be null or a whole number of at least 0."
  }
}

variable "automated_user_agents" {
  description = "Case-insensitive User-Agent substrings of crawlers and automated browsers that ingest refuses (403, nothing published), besides those the user-agent parser recognises and the built-in markers (HeadlessChrome, PhantomJS, bot/, crawler, spider, +http, lighthouse, facebookexternalhit). [\"none\"] turns screening off."
  type        = list(string)
  default     = []
}

variable "edge_rate_limit_per_minute" {
  description = "With the ingest load balancer: a Cloud Armor policy answers 429 at Google's edge to any client address over this many requests a minute. 0 (the default) adds no policy. Cloud Armor is billed per policy, rule and request (docs/deploy.md)."
  type        = number
  default     = 0

  validation {
    condition     = var.edge_rate_limit_per_minute >= 0 && floor(var.edge_rate_limit_per_minute) == var.edge_rate_limit_per_minute
    error_message = "edge_rate_limit_per_minute must be a whole number of at least 0."
  }
}

variable "keep_platform_request_logs" {
  description = "Keep Cloud Run's request logs of ingest, which hold each visitor's IP address and user agent. false (the default) excludes them from Cloud Logging, so neither is stored anywhere."
  type        = bool
  default     = false
}
