# Cloud Run writes a request log line for every call to ingest, holding the visitor's IP
# address and user agent (httpRequest.remoteIp, httpRequest.userAgent). The relay promises
# that neither is stored anywhere, so those lines are excluded from ingestion: Cloud
# Logging drops them before they are stored (and billed). The function's own structured
# lines (status, counts, reasons) stay. Set keep_platform_request_logs to keep them.
resource "google_logging_project_exclusion" "ingest_request_logs" {
  count = var.keep_platform_request_logs ? 0 : 1

  name        = "loyjoy-ingest-request-logs"
  description = "Platform request logs of the ingest function (visitors' IP addresses and user agents)."
  filter      = "${local.ingest_log} AND log_id(\"run.googleapis.com/requests\")"

  depends_on = [google_project_service.apis]
}
