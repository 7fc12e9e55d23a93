"""A schema-only google provider, so ``terraform validate`` runs offline (dev tooling).

Terraform providers cannot be downloaded where this project is built, but
cdktn-provider-google on PyPI carries the google provider's schema in its generated
bindings. This package reads that schema (:mod:`.assembly`, :mod:`.bindings`), serves it
over Terraform's plugin protocol 6 (:mod:`.server`), checks literal enum values the way
the provider does (:mod:`.enums`), and runs ``terraform init -backend=false`` and
``terraform validate`` against it (:mod:`.runner`, ``python -m infra.schema_provider``).
Nothing here is deployed.
"""
