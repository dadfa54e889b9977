"""Read a finished run back: its model, ``summary.json`` and segment of each customer.

Used by ``--previous`` (a later run compared with this one) and ``custseg compare``. A folder
whose ``manifest.json`` does not match its files is refused, as everywhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from custseg.exceptions import SourceError
from custseg.outputs.export import FORMULA_START, MANIFEST, check_manifest
from custseg.outputs.model_file import MODEL_FILENAME, load_model
from custseg.pipeline.migration import Migration, migrate
from custseg.scoring.scorer import SegmentModel

RUN_FILES = ("segments.csv", "summary.json")


@dataclass(frozen=True)
class FinishedRun:
    """What a finished run left in its output folder (or just its model file)."""

    model: SegmentModel | None
    names: dict[int, str]  # segment id -> name
    summary: dict | None  # summary.json, when read from a run folder
    assignments: pd.DataFrame | None  # columns id, segment; None without customer ids
    id_column: str | None
    source: str  # the folder or model file, for messages


def read_previous(previous: str | Path | SegmentModel | FinishedRun) -> FinishedRun:
    """The previous run for ``segment(previous=...)``.

    ``previous`` is a loaded model, a model file, or a run's output folder. A model file that
    sits in its run's output folder, listed in the folder's ``manifest.json`` with
    ``segments.csv``, brings the run's customers along (for migration).
    """
    if isinstance(previous, FinishedRun):
        return previous
    if isinstance(previous, SegmentModel):
        return FinishedRun(previous, dict(previous.names), None, None, None, "the given model")
    path = Path(previous)
    if path.is_dir():
        return read_run(path, model=True)
    model = load_model(path)
    folder = path.parent
    if path.name == MODEL_FILENAME and _listed(folder, (MODEL_FILENAME, *RUN_FILES)):
        run = read_run(folder, model=False)
        return FinishedRun(model, dict(model.names), *_rest(run), str(path))
    return FinishedRun(model, dict(model.names), None, None, None, str(path))


def _rest(run: FinishedRun) -> tuple:
    return run.summary, run.assignments, run.id_column


def _listed(folder: Path, names: tuple[str, ...]) -> bool:
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(name in listed for name in names)


def read_run(folder: str | Path, *, model: bool = False) -> FinishedRun:
    """A run's output folder: ``segments.csv`` and ``summary.json`` (and the model when asked).

    Raises
    ------
    SourceError
        The folder is missing, lacks an output, or its files do not match its manifest.
    """
    folder = Path(folder)
    wanted = (*RUN_FILES, MODEL_FILENAME) if model else RUN_FILES
    absent = [name for name in wanted if not (folder / name).is_file()]
    if absent:
        raise SourceError(
            f"'{folder}' is not a finished custseg run: {', '.join(absent)} missing; give the "
            "--out folder of a custseg run"
        )
    check_manifest(folder, wanted)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        names = {int(s["id"]): str(s["name"]) for s in summary["segments"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            f"'{folder / 'summary.json'}' is not a custseg summary ({exc}); re-run custseg"
        ) from exc
    id_column = next((c for c, r in summary.get("roles", {}).items() if r == "id"), None)
    assignments = _assignments(folder / "segments.csv", id_column) if id_column else None
    loaded = load_model(folder / MODEL_FILENAME) if model else None
    return FinishedRun(loaded, names, summary, assignments, id_column, str(folder))


def _assignments(path: Path, id_column: str) -> pd.DataFrame:
    """Customer id and segment from a ``segments.csv`` (its last two columns are the segment
    and its name, whatever they were called to avoid clashing with input columns)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise SourceError(f"Could not read '{path}': {exc}") from exc
    if id_column not in frame.columns or frame.shape[1] < 3:
        raise SourceError(
            f"'{path}' has no customer id column {id_column!r}; it was not written by this run"
        )
    ids = frame[id_column]
    # segments.csv prefixes formula-like text with ' (spreadsheet safety); take it off again.
    guarded = ids.str.startswith("'", na=False) & ids.str[1:2].isin(FORMULA_START)
    ids = ids.where(~guarded, ids.str[1:])
    segment = pd.to_numeric(frame.iloc[:, -2], errors="coerce").astype("Int64")
    return pd.DataFrame({"id": ids, "segment": segment})


def compare_runs(previous: str | Path, current: str | Path) -> tuple[Migration, list[str]]:
    """Who moved between two finished runs, from their output folders.

    Segments are the same segment when the newer run was matched to the older one
    (``--previous``, its ``identity`` section); otherwise the same id is taken as the same
    segment, and a note says so.

    Returns
    -------
    (Migration, list of str)
        The migration and notes on how it was made.
    """
    old, new = read_run(previous), read_run(current)
    for run in (old, new):
        if run.assignments is None:
            raise SourceError(
                f"'{run.source}' has no customer id column; migration needs customer ids in "
                "both runs (name it with --id-column when running)"
            )
    notes = []
    identity = (new.summary or {}).get("identity")
    carried = None
    if identity:
        carried = {
            int(s["id"]): int(s["previous_id"])
            for s in identity.get("segments", [])
            if s.get("status") == "carried"
        }
        notes.append("segments matched as the newer run matched them to its previous model")
    else:
        notes.append(
            "the newer run was not matched to the older one (run it with --previous); the same "
            "segment id is taken as the same segment"
        )
    migration = migrate(
        old.assignments,
        new.assignments,
        id_column=new.id_column or "customer_id",
        previous_names=old.names,
        names=new.names,
        carried=carried,
    )
    return migration, notes
