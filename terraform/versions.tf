terraform {
  required_version = ">= 1.6, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
  }

  # Remote state in a GCS bucket. The bucket is given at init time, never here:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=loyjoy-ga4-relay"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = "loyjoy-ga4-relay"
  }
}
