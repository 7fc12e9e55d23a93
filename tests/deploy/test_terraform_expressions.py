"""Terraform's own evaluation of the deployment's expressions, offline (`terraform console`).

A copy of terraform/ with a local backend is initialised against the schema-only provider,
and `terraform console` evaluates locals and variables as a plan would, with the values of
terraform.tfvars.example (its optional lines uncommented). What only the API knows (URLs,
project numbers) stays unknown here, so the snippet is evaluated through the same format
local its output uses, with a stand-in URL.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra.schema_provider import runner
from tests.deploy.terraform_model import load
from tests.support.processes import ROOT

TERRAFORM_DIR = ROOT / "terraform"
EXAMPLE = TERRAFORM_DIR / "terraform.tfvars.example"
INGEST_URL = "https://ingest-abc123-ey.a.run.app"


@pytest.fixture(scope="module")
def console_dir(schema_provider: runner.RunningProvider, tmp_path_factory: Any) -> Path:
    """terraform/ copied with a local backend and the example's values, initialised."""
    directory: Path = tmp_path_factory.mktemp("console")
    for source in TERRAFORM_DIR.glob("*.tf"):
        shutil.copy(source, directory)
    (directory / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    example = re.sub(r"^# ([a-z0-9_]+\s*=)", r"\1", EXAMPLE.read_text(), flags=re.MULTILINE)
    assert example.count("\n# ") < EXAMPLE.read_text().count("\n# "), "no optional line found"
    (directory / "example.tfvars").write_text(example)
    init = runner.terraform(schema_provider, directory, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    return directory


def _evaluate(
    provider: runner.RunningProvider, directory: Path, expression: str, *var_args: str
) -> tuple[Any, str]:
    """The value of ``expression`` (through jsonencode) and console's error output."""
    result = runner.terraform(
        provider,
        directory,
        "console",
        "-no-color",
        "-var-file=example.tfvars",
        *var_args,
        stdin=f"jsonencode({expression})\n",
    )
    assert result.returncode == 0, result.stderr
    (line,) = [text for text in result.stdout.splitlines() if text.startswith('"')]
    # console prints an HCL string: JSON's escapes, plus $${ and %%{ for literal ${ and %{
    decoded = json.loads(line).replace("$${", "${").replace("%%{", "%{")
    return json.loads(decoded), result.stderr


def test_dashboard_tiles_write_no_zero_position(
    schema_provider: runner.RunningProvider, console_dir: Path
) -> None:
    """No tile carries an xPos or yPos of 0 (the API drops them: a diff on every plan)."""
    tiles, errors = _evaluate(
        schema_provider,
        console_dir,
        "[for tile in local.dashboard_mosaic_tiles : "
        '[try(tile.xPos, "absent"), try(tile.yPos, "absent"), tile.width, tile.height]]',
    )
    assert errors == ""
    assert len(tiles) == 8
    assert all(position != 0 for tile in tiles for position in tile[:2])
    assert tiles[0][:2] == ["absent", "absent"]
    cells = set()
    for x, y, width, height in tiles:
        x, y = (0 if x == "absent" else int(x)), (0 if y == "absent" else int(y))
        assert x + width <= 12
        tile_cells = {(x + i, y + j) for i in range(width) for j in range(height)}
        assert not cells & tile_cells, "tiles overlap"
        cells |= tile_cells


def test_example_tfvars_pass_every_variable_validation(
    schema_provider: runner.RunningProvider, console_dir: Path
) -> None:
    """Every value of the example, optional ones included, passes variables.tf's rules."""
    names = sorted(load(TERRAFORM_DIR).variables)
    every = "{" + ", ".join(f"{name} = var.{name}" for name in names) + "}"
    values, errors = _evaluate(schema_provider, console_dir, every)
    assert "Error" not in errors, errors
    assert values["ga4_measurement_id"] == "G-ABC123XYZ"
    assert values["custom_event_names"] == ["newsletter_signup"]
    _, refused = _evaluate(
        schema_provider, console_dir, "var.ga4_measurement_id", "-var=ga4_measurement_id=UA-1"
    )
    assert "Invalid value for variable" in refused


def test_website_snippet_is_one_line_with_the_script_and_the_listener(
    schema_provider: runner.RunningProvider, console_dir: Path
) -> None:
    """The snippet loads listener.js from ingest and boots LoyJoy with the relay's listener."""
    expression = f'format(local.website_snippet_format, "{INGEST_URL}", local.website_snippet_bot)'
    one_bot, _ = _evaluate(schema_provider, console_dir, expression)
    assert one_bot == (
        f'<script src="{INGEST_URL}/listener.js"></script>'
        "<script>LoyJoy('boot', {bot: '7d3c9a52-5b1e-4a57-9a0e-8f3b2c1d0e9f', "
        f"eventListeners: [LoyJoyRelay.listener({{endpoint: '{INGEST_URL}'}})]}})</script>"
    )
    two_bots, _ = _evaluate(
        schema_provider, console_dir, expression, '-var=allowed_bot_ids=["a","b"]'
    )
    assert "{bot: 'BOT_ID'," in two_bots
    assert "\n" not in two_bots


def test_the_load_balancer_is_off_by_default_and_names_the_headers_when_on(
    schema_provider: runner.RunningProvider, console_dir: Path
) -> None:
    """Without a domain ingest reads no geo header; with one it reads the two the load
    balancer adds, whose values are the load balancer's geo variables; a bad domain or a
    header name the load balancer reserves is refused."""
    expression = (
        "{country = local.ingest_environment.GEO_COUNTRY_HEADER, "
        "region = local.ingest_environment.GEO_REGION_HEADER, "
        "headers = local.ingest_geo_headers, on = local.ingest_load_balancer}"
    )
    off, _ = _evaluate(
        schema_provider, console_dir, expression, "-var=ingest_load_balancer_domain="
    )
    assert (off["country"], off["region"], off["on"]) == ("", "", False)
    on, _ = _evaluate(schema_provider, console_dir, expression)  # the example's domain
    assert (on["country"], on["region"], on["on"]) == (
        "X-Client-Geo-Country",
        "X-Client-Geo-Region",
        True,
    )
    assert on["headers"] == [
        "X-Client-Geo-Country:{client_region}",
        "X-Client-Geo-Region:{client_region_subdivision}",
    ]
    for bad in (
        "-var=ingest_load_balancer_domain=https://x.example.com",
        "-var=geo_region_header=X-Goog-Region",
    ):
        result = runner.terraform(
            schema_provider,
            console_dir,
            "console",
            "-no-color",
            "-var-file=example.tfvars",
            bad,
            stdin="local.ingest_load_balancer\n",
        )
        assert "Invalid value for variable" in result.stderr, bad
