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
import ast
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
    data_files: tuple[str, ...]  # non-Python package files it reads (static/listener.js)
    infra_files: tuple[str, ...]  # files from infra/ placed at the upload root


# Each upload ships exactly the package modules its main.py imports, directly or through
# other package modules (every import statement counts, lazy ones too), so ingest's upload
# holds no relay code and a change to the relay's modules does not redeploy it.
UPLOADS = (
    FunctionUpload("ingest", ("static/listener.js",), ()),
    FunctionUpload("relay", (), ("consent-rules.yaml", "ga4-mapping.yaml")),
)


class StagingError(Exception):
    """A file the upload needs is missing."""


def _wanted(path: Path) -> bool:
    return not (set(path.parts) & SKIPPED_NAMES) and not path.name.endswith(SKIPPED_SUFFIXES)


def _module_file(package: Path, module: str) -> Path | None:
    """The file of ``loyjoy_relay.<...>`` (a module or a package's ``__init__``)."""
    parts = module.split(".")[1:]
    candidate = package.joinpath(*parts)
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    return None


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never run)."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            ):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return nodes


def _imported_modules(source: Path, module: str) -> set[str]:
    """The ``loyjoy_relay`` modules one file imports (``from x import y`` may name a module)."""
    found: set[str] = set()
    package_of = module if source.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package_of.split(".")[: len(package_of.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def _package_files(root: Path, upload: FunctionUpload) -> list[Path]:
    """The package files ``functions/<name>/main.py`` reaches, with every parent __init__."""
    package = root / "functions" / PACKAGE
    entry = _require(root / "functions" / upload.name / "main.py", root)
    files: set[Path] = set()
    pending = [(entry, "__main__")]
    seen: set[str] = set()
    while pending:
        source, module = pending.pop()
        for name in sorted(_imported_modules(source, module) - seen):
            seen.add(name)
            path = _module_file(package, name)
            if path is not None:
                files.add(path)
                pending.append((path, name))
    for path in list(files):
        for parent in path.relative_to(package).parents:
            init = package / parent / "__init__.py"
            if init.is_file():
                files.add(init)
    files.update(_require(package / name, root) for name in upload.data_files)
    typed = package / "py.typed"
    if typed.is_file():
        files.add(typed)
    return sorted(path for path in files if _wanted(path.relative_to(package)))


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
    for path in _package_files(root, upload):
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
