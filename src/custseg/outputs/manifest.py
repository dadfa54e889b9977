"""The manifest of a run's outputs: written last, it tells a whole set from a mixed one.

Outputs are moved into place one by one; a kill between two moves could leave files of two runs
side by side. ``manifest.json`` lists every file of the set with its size and SHA-256 and is moved
last, so a file that differs from it (or a missing one) means the set is not whole. Readers of a
run's outputs (``load_model``, hence ``predict``, ``serve`` and the REST API; the dashboard when it
opens a file of a run folder) check it with :func:`check_manifest`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from custseg.exceptions import SourceError

MANIFEST = "manifest.json"  # written last: which files make up the run, with sizes and checksums

__all__ = ["MANIFEST", "check_manifest", "manifest_of", "sha256"]


def manifest_of(files: dict[str, Path], run_id: str) -> dict:
    listed = {}
    for name, staged in files.items():
        parts = sorted(p for p in staged.rglob("*") if p.is_file()) if staged.is_dir() else [staged]
        for part in parts:
            key = name if part == staged else f"{name}/{part.relative_to(staged).as_posix()}"
            listed[key] = {"bytes": part.stat().st_size, "sha256": sha256(part)}
    return {"run": run_id, "files": listed}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_manifest(folder: str | Path, names: Sequence[str] | None = None) -> str | None:
    """Check that the outputs in ``folder`` are the whole set one run wrote.

    Returns the run id, or ``None`` when the folder has no manifest (outputs written by an older
    custseg). ``names`` limits the check to those files (e.g. only the model file).
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"'{path}' is damaged ({exc}); re-run custseg to rewrite it") from exc
    for name, expected in listed.items():
        if names is not None and name.split("/")[0] not in names:
            continue
        file = folder / name
        if (
            not file.is_file()
            or file.stat().st_size != expected["bytes"]
            or (sha256(file) != expected["sha256"])
        ):
            raise SourceError(
                f"The outputs in '{folder}' are not the set one run wrote: '{name}' is missing "
                "or differs from the run's manifest (a run was interrupted while replacing them, "
                "or the file was edited). Re-run custseg into that folder to rewrite them."
            )
    return str(manifest.get("run"))
