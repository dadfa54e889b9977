"""Cached library calls behind the dashboard: loading, the k search, the result at a chosen k.

Every cache is keyed explicitly: a *data key* naming the content (the sample, an upload's
SHA-256, a data-folder file's path, size and modification time), the column roles and the run's
``SegmentOptions``.
So moving the k slider reuses the loaded table and the k search (``segment(k_choice=...)``)
and only profiles the chosen k. The caches live in ``st.cache_resource`` (one per server, shared
by sessions); results are frozen ``Segmentation`` objects that the app never changes.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from custseg.app import DEFAULT_MAX_UPLOAD_MB
from custseg.app.access import (
    PREVIOUS_ENV,
    TABLE_SUFFIXES,
    list_tables,
    resolve_table,
)
from custseg.datasets import sample_customers
from custseg.exceptions import CustsegError, SourceError
from custseg.outputs.export import rules_sql, write_csv
from custseg.outputs.manifest import check_manifest
from custseg.outputs.model_file import MODEL_FILENAME, save_model
from custseg.outputs.runs import FinishedRun, read_previous
from custseg.pipeline.guidance import advise
from custseg.pipeline.options import SegmentOptions
from custseg.read import NUMERIC_ROLES, Table, auto_features, load, numeric_view, set_roles
from custseg.read.compressed import COMPRESSIONS
from custseg.segmentation import Progress, Segmentation, segment
from custseg.text import humanise

# Compressed uploads too (customers.csv.gz, export.zip): read as the table inside.
UPLOAD_TYPES = [suffix.lstrip(".") for suffix in (*TABLE_SUFFIXES, *COMPRESSIONS)]
SAMPLE_ROWS = 200
MB = 1024 * 1024


@dataclass(frozen=True)
class Loaded:
    """A loaded table and the key that names its content in the caches."""

    key: str
    table: Table


class LRU:
    """A small thread-safe least-recently-used store (held by ``st.cache_resource``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items


@st.cache_resource(show_spinner=False)
def _searches() -> LRU:
    return LRU(8)


@st.cache_resource(show_spinner=False)
def _fits() -> LRU:
    return LRU(32)


# ---------------------------------------------------------------- loading


@st.cache_resource(show_spinner=False, max_entries=1)
def _sample_table() -> Table:
    table = load(sample_customers(SAMPLE_ROWS))
    table.source = "built-in sample customers"
    return table


def load_sample() -> Loaded:
    """The built-in sample customers."""
    return Loaded(f"sample:{SAMPLE_ROWS}", _sample_table())


@st.cache_resource(show_spinner=False, max_entries=4)
def _upload_table(digest: str, name: str, _content: bytes) -> Table:
    with tempfile.TemporaryDirectory(prefix="custseg-upload-") as folder:
        path = Path(folder) / (Path(name).name or "upload.csv")
        path.write_bytes(_content)
        try:
            table = load(path)
        except CustsegError as exc:
            _rename_in_message(exc, str(path), name)
            raise
    table.source = f"{name} (uploaded)"
    return table


def load_upload(name: str, content: bytes, max_mb: int = DEFAULT_MAX_UPLOAD_MB) -> Loaded:
    """An uploaded file (CSV, TSV, Parquet, Excel, JSON lines), read by ``custseg.read.load``."""
    if not content:
        raise SourceError(f"'{name}' is empty; export the table again with a header row")
    if len(content) > max_mb * MB:
        raise SourceError(
            f"'{name}' is {len(content) / MB:,.1f} MB; this dashboard takes files up to "
            f"{max_mb:,} MB. Upload a smaller extract, or ask whoever runs the dashboard to "
            "raise the limit (custseg app --max-upload-mb)"
        )
    digest = hashlib.sha256(content).hexdigest()
    return Loaded(f"upload:{digest}", _upload_table(digest, name, content))


@st.cache_resource(show_spinner=False, max_entries=4)
def _path_table(path: str, name: str, size: int, mtime_ns: int) -> Table:
    try:
        # A run's outputs (segments.csv beside a manifest) only as a whole set, never mixed.
        check_manifest(Path(path).parent, [Path(path).name])
        table = load(Path(path))
    except CustsegError as exc:
        _rename_in_message(exc, path, name)
        _rename_in_message(exc, str(Path(path).parent), Path(name).parent.as_posix())
        raise
    table.source = f"{name} (data folder)"
    return table


def load_path(text: str, root: Path) -> Loaded:
    """A table file or Parquet folder inside ``root``, re-read when its size or time changes."""
    path = resolve_table(root, text)
    name = path.relative_to(root).as_posix()
    try:
        stat = path.stat()
    except OSError:
        raise SourceError(
            f"No table '{name}' in the data folder; choose one from the list"
        ) from None
    return Loaded(
        f"path:{path}:{stat.st_size}:{stat.st_mtime_ns}",
        _path_table(str(path), name, stat.st_size, stat.st_mtime_ns),
    )


@st.cache_data(show_spinner=False, ttl=10)
def folder_tables(root: Path) -> list[str]:
    """What the data folder holds, listed again at most every 10 seconds."""
    return list_tables(root)


def _rename_in_message(exc: CustsegError, old: str, new: str) -> None:
    """Say the user's file name, not the temporary path it was saved under."""
    exc.args = tuple(a.replace(old, new) if isinstance(a, str) else a for a in exc.args)
    if hasattr(exc, "problems"):
        exc.problems = [p.replace(old, new) for p in exc.problems]


def role_changes(table: Table, roles: dict[str, str]) -> dict[str, str]:
    """The roles the user changed: what ``SegmentOptions(roles=...)`` and ``--role`` take."""
    return {c: r for c, r in roles.items() if table.roles.get(c) != r}


def with_roles(table: Table, roles: dict[str, str]) -> Table:
    """The same rows with the roles the user corrected (the library's ``set_roles``, as
    ``--role`` applies them)."""
    return set_roles(table, role_changes(table, roles))


def numeric_columns(table: Table) -> list[str]:
    return table.columns_with(*NUMERIC_ROLES)


def numeric_features(table: Table) -> list[str]:
    """The numeric columns; the library's error when there are none."""
    return auto_features(table)[0]


def presets(table: Table) -> dict[str, list[str]]:
    """Named feature sets: every numeric column, and the 2D/3D views when the roles allow."""
    found = {role: table.columns_with(role) for role in ("age", "income", "spending")}
    out = {"All numeric columns": numeric_columns(table)}  # first: the CLI's default too
    if found["income"] and found["spending"]:
        pair = [found["income"][0], found["spending"][0]]
        out["Income × spending (2D)"] = pair
        if found["age"]:
            out["Age × income × spending (3D)"] = [found["age"][0], *pair]
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def overview(key: str, roles: tuple[tuple[str, str], ...], _table: Table) -> pd.DataFrame:
    """One row per column: role, missing values, distinct values and numeric statistics."""
    frame, rows = _table.frame, []
    for col, role in roles:
        series = frame[col]
        numbers = numeric_view(series) if role in NUMERIC_ROLES else None
        has = numbers is not None and numbers.notna().any()
        rows.append(
            {
                "column": col,
                "role": role,
                "type": str(series.dtype),
                "missing": int(series.isna().sum()),
                "distinct": int(series.nunique()),
                "mean": numbers.mean() if has else None,
                "min": numbers.min() if has else None,
                "max": numbers.max() if has else None,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- segmenting


def previous_run() -> FinishedRun | None:
    """The previous run ``custseg app --previous`` named, read once per server."""
    path = os.environ.get(PREVIOUS_ENV)
    return _read_previous(path) if path else None


@st.cache_resource(show_spinner=False)
def _read_previous(path: str) -> FinishedRun:
    return read_previous(path)


@st.cache_data(show_spinner=False, max_entries=8)
def feature_advice(key: str, roles: tuple[tuple[str, str], ...], _table: Table) -> list[dict]:
    """Feature guidance on the table's numeric columns (cached per table and roles)."""
    columns = numeric_columns(_table)
    if len(columns) < 2:
        return []
    return [a.to_dict() for a in advise(_table.frame, columns, label=humanise)]


def search_key(loaded: Loaded, table: Table, options: SegmentOptions) -> tuple:
    return (loaded.key, tuple(table.roles.items()), options, os.environ.get(PREVIOUS_ENV))


def is_searched(key: tuple) -> bool:
    return key in _searches()


def search(
    key: tuple, table: Table, options: SegmentOptions, progress: Progress | None = None
) -> Segmentation:
    """The recommended segmentation and its k search, computed once per key."""
    found = _searches().get(key)
    if found is None:
        found = segment(table, options, progress=progress, previous=previous_run())
        _searches().put(key, found)
    return found


def at_k(key: tuple, base: Segmentation, k: int) -> Segmentation:
    """The segmentation at ``k``, reusing the k search of ``base`` (no new K-Means fit)."""
    if k == base.k:
        return base
    found = _fits().get((key, k))
    if found is None:
        found = segment(
            base.table, base.options.replace(k=k), k_choice=base.k_choice, previous=previous_run()
        )
        _fits().put((key, k), found)
    return found


# ---------------------------------------------------------------- downloads


def segments_csv(seg: Segmentation) -> bytes:
    """``segments.csv``: every input row plus its segment, formula-like cells neutralised."""
    buffer = io.BytesIO()
    write_csv(seg.assignments(), buffer)
    return buffer.getvalue()


def rules_sql_file(seg: Segmentation) -> bytes:
    """``rules.sql``: the segments as one SQL CASE expression."""
    return rules_sql(seg).encode("utf-8")


def report_html(seg: Segmentation) -> bytes:
    """``report.html``: the library's self-contained report."""
    return seg.report().encode("utf-8")


def model_bytes(seg: Segmentation) -> bytes:
    """The fitted model as ``save_model`` writes it (via a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="custseg-model-") as folder:
        return save_model(seg, Path(folder) / MODEL_FILENAME).read_bytes()


def deferred(build: Callable[[Segmentation], bytes], seg: Segmentation) -> Callable[[], bytes]:
    """A download body built only when the user clicks."""
    return lambda: build(seg)
