# The GA4 Measurement Protocol API secret. Terraform creates the secret (the container) but
# never a version: the value would otherwise sit in the Terraform state. Add the value once,
# and again to rotate (the relay reads versions/latest):
#   printf '%s' "$GA4_API_SECRET" | gcloud secrets versions add loyjoy-ga4-api-secret --data-file=-

resource "google_secret_manager_secret" "ga4_api_secret" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption is accepted for the GA4 API secret; a CMEK key ring would be a separate decision.
  secret_id = "loyjoy-ga4-api-secret"

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}
