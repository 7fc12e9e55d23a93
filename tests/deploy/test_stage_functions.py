"""Staging the function uploads: the right files, importable alone, byte-reproducible zips."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import stage_functions
from infra.stage_functions import UPLOADS, stage
from tests.support.processes import ROOT

UPLOAD = {upload.name: upload for upload in UPLOADS}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of functions/ and the infra files, with stand-ins for what is not written yet."""
    root = tmp_path / "repo"
    shutil.copytree(
        ROOT / "functions", root / "functions", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "infra").mkdir()
    for name in ("consent-rules.yaml", "ga4-mapping.yaml"):
        source = ROOT / "infra" / name
        target = root / "infra" / name
        target.write_bytes(source.read_bytes() if source.is_file() else b"version: 1\n")
    relay_main = root / "functions" / "relay" / "main.py"
    if not relay_main.is_file():
        relay_main.write_text('"""Stand-in until the relay entry point exists."""\n')
    return root


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ingest_upload_holds_its_entry_point_and_only_the_modules_it_needs(
    repo: Path, tmp_path: Path
) -> None:
    """build/ingest has main.py, requirements.txt and only the package modules ingest imports."""
    (repo / "functions" / "loyjoy_relay" / "__pycache__").mkdir()
    (repo / "functions" / "loyjoy_relay" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    archive = stage(repo, tmp_path / "build", UPLOAD["ingest"])
    names = _names(archive)
    assert names == sorted(names)
    assert {"main.py", "requirements.txt", "loyjoy_relay/config.py"} <= set(names)
    assert not [n for n in names if n.startswith("loyjoy_relay/cli/") or "__pycache__" in n]
    assert not [n for n in names if n.endswith(".yaml")]
    shipped = {n for n in names if n.startswith("loyjoy_relay/")}
    assert {
        "loyjoy_relay/service/ingest.py",
        "loyjoy_relay/core/contract.py",
        "loyjoy_relay/adapters/pubsub.py",
    } <= shipped
    relay_only = ("core/consent/", "core/ga4/", "service/relay", "adapters/firestore", "devstack/")
    assert not [n for n in shipped if n.removeprefix("loyjoy_relay/").startswith(relay_only)]
    assert "loyjoy_relay/static/listener.js" in names
    staged = sorted(
        p.relative_to(tmp_path / "build" / "ingest").as_posix()
        for p in (tmp_path / "build" / "ingest").rglob("*")
        if p.is_file()
    )
    assert staged == names


def test_relay_upload_ships_the_rules_and_mapping_beside_the_package(
    repo: Path, tmp_path: Path
) -> None:
    """build/relay has the rules and the mapping at its root, where config finds them."""
    stage(repo, tmp_path / "build", UPLOAD["relay"])
    staged = tmp_path / "build" / "relay"
    assert (staged / "consent-rules.yaml").read_bytes() == (
        repo / "infra" / "consent-rules.yaml"
    ).read_bytes()
    assert (staged / "ga4-mapping.yaml").is_file()
    assert not (staged / "loyjoy_relay" / "cli").exists()
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from loyjoy_relay.config import shipped_file; "
            "print(shipped_file('consent-rules.yaml'))",
        ],
        cwd=staged,
        env={**os.environ, "PYTHONPATH": str(staged)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == staged / "consent-rules.yaml"


def test_staged_ingest_imports_alone_from_its_own_copy(tmp_path: Path) -> None:
    """The staged ingest main.py imports with only its upload on PYTHONPATH, using that copy."""
    stage(ROOT, tmp_path / "build", UPLOAD["ingest"])
    staged = tmp_path / "build" / "ingest"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(staged),
        "GOOGLE_CLOUD_PROJECT": "fake-project",
        # The publisher client is made at import; the emulator host makes it skip credentials.
        "PUBSUB_EMULATOR_HOST": "localhost:1",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import main, loyjoy_relay; print(loyjoy_relay.__file__)"],
        cwd=staged,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(staged)


def test_zip_bytes_depend_only_on_content(repo: Path, tmp_path: Path) -> None:
    """Restaging unchanged files gives the same zip; changing one byte gives another."""
    first = _sha256(stage(repo, tmp_path / "one", UPLOAD["ingest"]))
    config = repo / "functions" / "loyjoy_relay" / "config.py"
    os.utime(config, (1_000_000_000, 1_000_000_000))
    assert _sha256(stage(repo, tmp_path / "two", UPLOAD["ingest"])) == first
    config.write_text(config.read_text() + "\n")
    assert _sha256(stage(repo, tmp_path / "three", UPLOAD["ingest"])) != first


def test_zip_entries_carry_a_fixed_time_and_mode(repo: Path, tmp_path: Path) -> None:
    """Every entry has the fixed 1980 timestamp and rw-r--r-- permissions."""
    with zipfile.ZipFile(stage(repo, tmp_path / "build", UPLOAD["relay"])) as archive:
        for info in archive.infolist():
            assert info.date_time == stage_functions.FIXED_DATE
            assert info.external_attr == stage_functions.FILE_MODE


def test_missing_required_file_fails_with_its_name(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the consent rules the relay is not staged and the message names the file."""
    (repo / "infra" / "consent-rules.yaml").unlink()
    exit_code = stage_functions.main(["--root", str(repo), "--build", str(tmp_path), "relay"])
    assert exit_code == 2
    assert "consent-rules.yaml" in capsys.readouterr().err
    assert not (tmp_path / "relay.zip").exists()


def test_uploads_match_the_terraform_zip_names() -> None:
    """The staged zips are the files Terraform's source objects are hashed from."""
    from tests.deploy.terraform_model import load

    zips = {
        name.removesuffix("_zip"): path
        for name, path in load().locals.items()
        if name.endswith("_zip")
    }
    assert set(zips) == {upload.name for upload in UPLOADS}
    for name, path in zips.items():
        assert path == f"${{path.module}}/${{var.build_dir}}/{name}.zip"


def test_no_function_code_imports_the_cli() -> None:
    """Uploads leave cli/ out, so nothing outside it may import it."""
    package = ROOT / "functions"
    offenders = [
        str(path.relative_to(ROOT))
        for path in package.rglob("*.py")
        if "cli" not in path.relative_to(package).parts
        and (
            "loyjoy_relay.cli" in path.read_text() or "loyjoy_relay import cli" in path.read_text()
        )
    ]
    assert offenders == []
