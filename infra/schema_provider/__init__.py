"""A schema-only google provider, so ``terraform validate`` runs offline (dev tooling).

Terraform providers cannot be downloaded where this project is built, but
cdktn-provider-google on PyPI carries the google provider's schema in its generated
bindings. This package reads that schema (:mod:`.assembly`, :mod:`.bindings`), serves it
over Terraform's plugin protocol 6 (:mod:`.server`, :mod:`.protocol`), makes the
provider's own schema checks on each block (:mod:`.checks`), and runs
``terraform init -backend=false`` and ``terraform validate`` against it (:mod:`.runner`,
``python -m infra.schema_provider``).

It lives in ``infra/`` beside the other build tooling, not in ``tests/``, because it is
run outside pytest too (``make terraform-check`` prints Terraform's own diagnostics).
Nothing here is deployed, and the functions never import it.
"""
