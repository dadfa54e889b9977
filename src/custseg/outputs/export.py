"""Write a run's outputs (segments.csv, summary.json, model, report) atomically.

Everything is first written into a staging folder inside the output folder, then moved into
place file by file with ``os.replace``: a failed run leaves no half-written file and keeps the
previous outputs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; outputs are still staged and replaced atomically
    fcntl = None

from custseg.atomic import disk_space
from custseg.exceptions import OutputExistsError
from custseg.outputs.manifest import MANIFEST, manifest_of
from custseg.outputs.manifest import check_manifest as check_manifest  # part of export's API
from custseg.outputs.model_file import MODEL_FILENAME, save_model
from custseg.outputs.report import write_png
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.html import render_report

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

OUTPUTS = ("segments.csv", "summary.json", MODEL_FILENAME, "report.html")
RULES_SQL = "rules.sql"  # the segments as one SQL CASE expression (when the run has rules)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix with ``'`` text cells that a spreadsheet would run (``=``, ``+``, ``-``, ``@``).

    Numbers stored as text (``-5``, ``+3.2``) are left alone. Returns a new frame.
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        series = out[col]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False)
        risky &= pd.to_numeric(text.where(risky), errors="coerce").isna()
        if risky.any():
            out[col] = series.where(~risky, "'" + text)
    return out


CSV_CHUNK_ROWS = 500_000  # rows converted to Arrow at a time: bounded memory for any table


def write_csv(frame: pd.DataFrame, path: str | Path | IO[bytes], *, raw: bool = False) -> None:
    """Write ``frame`` as CSV with pyarrow's writer, chunk by chunk (quotes text values)."""
    target = str(path) if isinstance(path, str | Path) else path
    options = pacsv.WriteOptions(quoting_style="needed")
    schema = None
    writer = None
    try:
        for start in range(0, max(len(frame), 1), CSV_CHUNK_ROWS):
            chunk = frame.iloc[start : start + CSV_CHUNK_ROWS]
            chunk = chunk if raw else neutralise_formulas(chunk)
            table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
            if writer is None:
                schema = _nullable_text(table.schema)
                table = table.cast(schema)
                writer = pacsv.CSVWriter(target, schema, write_options=options)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _nullable_text(schema):
    """A column that is all-missing in the first chunk may hold text later: type it as text."""
    return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema])


STAGING_PREFIX = ".custseg-"


@contextmanager
def staging(out_dir: Path, notes: list[str] | None = None):
    """A temporary folder inside ``out_dir``, removed whatever happens.

    The folder is locked while the run lives, so the next run can tell the staging folders of
    killed runs (lock free) from those of live ones, and removes only the former.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir):  # no other run cleans up between our mkdtemp and our lock
        removed = remove_stale_staging(out_dir)
        tmp = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        fd = None
        if fcntl is not None:
            fd = os.open(tmp, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
    if removed and notes is not None:
        notes.append(
            f"removed {removed} unfinished output folder{'s' if removed != 1 else ''} "
            f"({STAGING_PREFIX}*) left in '{out_dir}' by interrupted runs"
        )
    try:
        with disk_space(out_dir, lambda: _size(tmp)):
            yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def remove_stale_staging(out_dir: Path) -> int:
    """Remove custseg's own staging folders in ``out_dir`` that no live run holds."""
    if fcntl is None:  # cannot tell a live run's folder from a dead one's: leave them
        return 0
    removed = 0
    for folder in out_dir.glob(f"{STAGING_PREFIX}*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its run is alive
        except OSError:
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
        finally:
            os.close(fd)
    return removed


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def check_free(paths: list[Path], force: bool, elsewhere: str = "another --out folder") -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise OutputExistsError(
            f"Output already exists: {', '.join(existing)}; pass --force to overwrite or "
            f"choose {elsewhere}"
        )


@contextmanager
def folder_lock(out_dir: Path):
    """An exclusive lock on ``out_dir`` so concurrent runs publish whole sets, one at a time."""
    if fcntl is None:
        yield
        return
    fd = os.open(out_dir, os.O_RDONLY)  # flock on the folder itself: no lock file left behind
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def publish(files: dict[str, Path], out_dir: Path) -> dict[str, Path]:
    """Move staged files into ``out_dir`` under a lock, then their manifest, last.

    Each move is atomic, but a kill between two moves could leave a mix of two runs; the
    manifest (written last, listing every file's size and SHA-256) lets a reader tell a whole set
    from a mixed one (:func:`check_manifest`).
    """
    manifest = next(iter(files.values())).parent / MANIFEST
    listing = manifest_of(files, uuid.uuid4().hex)
    manifest.write_text(json.dumps(listing, indent=2), encoding="utf-8")
    with folder_lock(out_dir):
        placed = _move(files, out_dir)
        placed[MANIFEST] = _move({MANIFEST: manifest}, out_dir)[MANIFEST]
    return placed


def _move(files: dict[str, Path], out_dir: Path) -> dict[str, Path]:
    placed = {}
    for name, staged in files.items():
        target = out_dir / name
        if staged.is_dir():  # replaced whole (no stale part files); the old one goes to staging
            if target.is_dir():
                os.replace(target, staged.parent / f"{name}.old")
            os.replace(staged, target)
        else:
            os.replace(staged, target)
        placed[name] = target
    return placed


def write_run_files(seg: Segmentation, folder: Path, say: Callable[[str], None]) -> None:
    """``summary.json``, the model and ``report.html`` into ``folder`` (a staging folder); every
    engine writes these the same way, next to its own per-customer output."""
    summary = seg.summary()  # built once: summary.json and the report show the same numbers
    say("summary.json")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    say(MODEL_FILENAME)
    save_model(seg, folder / MODEL_FILENAME)
    say("report.html")
    render_report(summary, ChartData.from_result(seg), folder / "report.html")


def rules_sql(seg: Segmentation) -> str:
    """``rules.sql``: a comment saying what it is, then one ``CASE ... END`` expression."""
    rules = seg.rules
    missing = (
        "a customer missing any of these columns gets NULL (the run left such rows out)"
        if rules.drop_missing
        else "a missing value (NULL) is read as the run's median, as the model does"
    )
    # A segment name holding "*/" would end the comment early.
    names = "; ".join(f"{i} = {name.replace('*/', '* /')}" for i, name in sorted(seg.names.items()))
    header = (
        f"/* custseg segment rules ({rules.method}, at most {rules.depth} conditions a rule).\n"
        f"   Puts {rules.fidelity:.1%} of customers in their own K-Means segment.\n"
        f"   Segments: {names}.\n"
        f"   NULLs: {missing}.\n"
        "   Use: SELECT *, <this expression> AS segment FROM customers */"
    )
    return header + "\n" + rules.to_sql() + "\n"


def write_rules_sql(seg: Segmentation, path: Path) -> None:
    """Write :func:`rules_sql` to ``path``."""
    path.write_text(rules_sql(seg), encoding="utf-8")


def write_outputs(
    seg: Segmentation,
    out_dir: str | Path = "out",
    *,
    force: bool = False,
    png: str | Path | None = None,
    raw_csv: bool = False,
    step: Callable[[str], None] | None = None,
    extra: Mapping[str, Callable[[Path], None]] | None = None,
) -> dict[str, Path]:
    """Write ``segments.csv``, ``summary.json``, the model and ``report.html`` into ``out_dir``.

    Parameters
    ----------
    force : bool
        Overwrite existing outputs (otherwise an existing one is an error).
    png : path, optional
        Also write the main charts as PNG images into this folder.
    raw_csv : bool
        Keep text cells that look like spreadsheet formulas as they are.
    step : callable(str), optional
        Told the name of each output as it is written (for progress display).
    extra : mapping of file name -> callable(path), optional
        Further outputs (e.g. ``rfm_features.csv``), staged and published with the others.
    """

    out_dir = Path(out_dir)
    extra = dict(extra or {})
    if seg.migration is not None:  # run with a previous run's customers: who moved
        migration = seg.migration.customers
        extra.setdefault("migration.csv", lambda path: write_csv(migration, path, raw=raw_csv))
    if getattr(seg, "rules", None) is not None:
        extra = {RULES_SQL: lambda path: write_rules_sql(seg, path), **extra}
    names = [*OUTPUTS, *extra]
    check_free([out_dir / name for name in names], force)
    say = step or (lambda _name: None)
    with staging(out_dir, seg.notes) as tmp:
        say("segments.csv")
        write_csv(seg.assignments(), tmp / "segments.csv", raw=raw_csv)
        write_run_files(seg, tmp, say)
        for name, write in extra.items():
            say(name)
            write(tmp / name)
        files = {name: tmp / name for name in names}
        placed = publish(files, out_dir)
    if png is not None:
        say("png")
        placed["png"] = Path(png)
        write_png(seg, png)
    return placed
