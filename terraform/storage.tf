# Function sources. `make stage` writes build/ingest.zip and build/relay.zip byte-for-byte
# reproducibly; each object is named by its zip's SHA-256, so unchanged code keeps the same
# object and the function is not redeployed, while any change (code, requirements, consent
# rules for the relay) makes a new object and redeploys only that function.

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:Access logs of a bucket that only Terraform and Cloud Build read add cost, not insight; Cloud Audit Logs record admin access.
  #checkov:skip=CKV_GCP_78:Versioning is pointless here: every object name is a content hash and is never overwritten.
  name     = "${var.project_id}-loyjoy-relay-sources"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "ingest_source" {
  name   = "ingest-${filesha256(local.ingest_zip)}.zip"
  bucket = google_storage_bucket.sources.name
  source = local.ingest_zip

  # The function moves to the new object before the old one goes, so a failed deploy can
  # still rebuild from the old source.
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_storage_bucket_object" "relay_source" {
  name   = "relay-${filesha256(local.relay_zip)}.zip"
  bucket = google_storage_bucket.sources.name
  source = local.relay_zip

  # The function moves to the new object before the old one goes, so a failed deploy can
  # still rebuild from the old source.
  lifecycle {
    create_before_destroy = true
  }
}
