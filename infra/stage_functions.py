"""Stage each Cloud Function's upload: ``build/<fn>/`` and a byte-reproducible ``build/<fn>.zip``.

The staged cut (README, "Packaging"): each upload holds the function's own ``main.py`` and
``requirements.txt`` plus a copy of the shared ``loyjoy_relay`` package, so each function
installs only its own dependencies. The relay also gets the privacy team's
``consent-rules.yaml`` and the ``ga4-mapping.yaml`` at its root, beside the package, where
``config.shipped_file`` finds them. Terraform names each zip's bucket object by the zip's
SHA-256, so the zip must change only when the content does: entries are sorted and carry a
fixed timestamp and fixed permissions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "loyjoy_relay"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_MODE = 0o644 << 16  # rw-r--r-- in the entry's external attributes
SKIPPED_NAMES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class FunctionUpload:
    """What goes into one function's upload besides its main.py and requirements.txt."""

    name: str
    package_excludes: frozenset[str]  # top-level entries of the package left out
    infra_files: tuple[str, ...]  # files from infra/ placed at the upload root


# Neither function runs the CLI or the local dev stack. Ingest ships only what it imports
# (and static/, which holds the listener.js it serves), so its upload stays small and a
# change to the relay's modules does not redeploy it.
_NEVER_DEPLOYED = frozenset({"cli", "devstack"})
_RELAY_ONLY = frozenset(
    {
        "consent",
        "ga4",
        "dead_letters.py",
        "dedup.py",
        "outgoing.py",
        "relay_service.py",
        "relay_setup.py",
        "replay.py",
    }
)
UPLOADS = (
    FunctionUpload("ingest", _NEVER_DEPLOYED | _RELAY_ONLY, ()),
    FunctionUpload(
        "relay",
        _NEVER_DEPLOYED | {"static", "ingest_http.py", "replay.py"},
        ("consent-rules.yaml", "ga4-mapping.yaml"),
    ),
)


class StagingError(Exception):
    """A file the upload needs is missing."""


def _wanted(path: Path) -> bool:
    return not (set(path.parts) & SKIPPED_NAMES) and not path.name.endswith(SKIPPED_SUFFIXES)


def _package_files(root: Path, excludes: frozenset[str]) -> list[Path]:
    package = root / "functions" / PACKAGE
    files = []
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_file() and relative.parts[0] not in excludes and _wanted(relative):
            files.append(path)
    return files


def _require(path: Path, root: Path) -> Path:
    if not path.is_file():
        raise StagingError(f"missing {path.relative_to(root)}")
    return path


def upload_files(root: Path, upload: FunctionUpload) -> dict[str, Path]:
    """Every file of one upload: its path inside the upload -> its source in the repository."""
    function_dir = root / "functions" / upload.name
    files = {
        "main.py": _require(function_dir / "main.py", root),
        "requirements.txt": _require(function_dir / "requirements.txt", root),
    }
    package = root / "functions" / PACKAGE
    for path in _package_files(root, upload.package_excludes):
        files[f"{PACKAGE}/{path.relative_to(package).as_posix()}"] = path
    for name in upload.infra_files:
        files[name] = _require(root / "infra" / name, root)
    return dict(sorted(files.items()))


def write_zip(files: dict[str, Path], target: Path) -> None:
    """Write ``files`` into a zip whose bytes depend only on names and contents."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source.read_bytes(), compresslevel=9)


def stage(root: Path, build: Path, upload: FunctionUpload) -> Path:
    """Stage one function into ``build/<name>/`` and ``build/<name>.zip``; return the zip."""
    files = upload_files(root, upload)
    directory = build / upload.name
    if directory.exists():
        shutil.rmtree(directory)
    for name, source in files.items():
        destination = directory / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    archive = build / f"{upload.name}.zip"
    write_zip(files, archive)
    return archive


def main(argv: list[str]) -> int:
    """Stage every function (or those named) under ``--build`` (default ``build/``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="output directory")
    parser.add_argument("functions", nargs="*", help="functions to stage (default: all)")
    args = parser.parse_args(argv)
    wanted = set(args.functions) or {upload.name for upload in UPLOADS}
    args.build.mkdir(parents=True, exist_ok=True)
    try:
        for upload in UPLOADS:
            if upload.name in wanted:
                archive = stage(args.root, args.build, upload)
                print(f"staged {upload.name}: {archive}")
    except StagingError as error:
        print(f"stage_functions: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
