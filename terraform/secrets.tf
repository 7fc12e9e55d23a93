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

# The key of the relay's client pseudonyms (HMAC-SHA256): log lines and consent-ledger
# document ids. Like the API secret, Terraform makes the container only; add the value once:
#   openssl rand -base64 48 | tr -d '\n' | gcloud secrets versions add loyjoy-pseudonym-key --data-file=-
# Adding a new version rotates it (docs/consent.md, "The consent ledger", says what that does).
resource "google_secret_manager_secret" "pseudonym_key" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption is accepted for the pseudonym key, as for the GA4 API secret.
  secret_id = "loyjoy-pseudonym-key"

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}
