"""Who may use the dashboard, and which server files it may read.

``custseg app`` checks the token rule before Streamlit starts and hands the page its settings in
environment variables (:func:`launch_environment`). The page asks for that token before it draws
anything (:func:`token_matches`) and reads server files only inside its data folder
(:func:`resolve_table`, :func:`list_tables`). No Streamlit here: the CLI imports this module.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from custseg.app import TOKEN_ENV
from custseg.exceptions import ConfigError, SourceError
from custseg.read.compressed import compression_of

DATA_DIR_ENV = "CUSTSEG_APP_DATA_DIR"
PREVIOUS_ENV = "CUSTSEG_APP_PREVIOUS"  # a previous run every segmentation is matched to
MIN_TOKEN_LENGTH = 16
# Table-like files only: a secrets file such as .env is never offered and never read.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm", ".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
MAX_LISTED = 500
_KINDS = "CSV, TSV, TXT, Parquet, Excel and JSON lines (also compressed, or in a .zip)"
_MAKE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


# ---------------------------------------------------------------- the token


def expected_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The token a user must type, or ``None`` when the page is open (loopback only)."""
    environ = os.environ if environ is None else environ
    return (environ.get(TOKEN_ENV) or "").strip() or None


def token_matches(entered: str, expected: str) -> bool:
    """Whether ``entered`` is the token, compared in constant time."""
    return hmac.compare_digest(entered.strip().encode(), expected.encode())


def launch_environment(
    host: str,
    *,
    loopback: bool,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    previous: Path | None = None,
) -> dict[str, str]:
    """The environment to start the dashboard with; raise when the token rule is broken.

    Parameters
    ----------
    host : str
        The address the dashboard will listen on.
    loopback : bool
        Whether ``host`` accepts connections from this machine only.
    data_dir : Path, optional
        The only folder whose tables the page may read; without it, no server paths at all.
    environ : mapping, optional
        The environment to start from (``os.environ`` by default).
    previous : Path, optional
        A previous run (output folder or model file) every segmentation is matched to.
    """
    env = dict(os.environ if environ is None else environ)
    token = expected_token(env)
    if token is None and not loopback:
        raise ConfigError(
            f"Refusing to listen on {host!r} without a token: anyone who can reach it could "
            f"open the dashboard and its data. Set {TOKEN_ENV} to a secret of at least "
            f"{MIN_TOKEN_LENGTH} characters (e.g. export {TOKEN_ENV}=$({_MAKE_TOKEN})) or "
            "listen on 127.0.0.1 only, the default"
        )
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"{TOKEN_ENV} is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} "
            f"(e.g. export {TOKEN_ENV}=$({_MAKE_TOKEN}))"
        )
    env.pop(DATA_DIR_ENV, None)  # only an explicit data folder opens server paths
    if data_dir is not None:
        folder = data_dir.expanduser().resolve()
        if not folder.is_dir():
            raise SourceError(f"The data folder {str(data_dir)!r} is not a folder; check the path")
        env[DATA_DIR_ENV] = str(folder)
    env.pop(PREVIOUS_ENV, None)
    if previous is not None:
        env[PREVIOUS_ENV] = str(previous.expanduser().resolve())
    return env


# ---------------------------------------------------------------- the data folder


def data_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder the page may read tables from, or ``None`` (upload and sample data only)."""
    environ = os.environ if environ is None else environ
    text = environ.get(DATA_DIR_ENV)
    return Path(text).resolve() if text else None


def resolve_table(root: Path, text: str) -> Path:
    """The table ``text`` names inside ``root``, resolved; a clear refusal for anything else.

    Refused: ``..``, paths (or links) that lead outside ``root``, hidden files, and files that
    are not tables (CSV/TSV/TXT, Parquet file or folder, Excel, JSON lines).
    """
    text = text.strip().strip("'\"")
    if not text:
        raise SourceError("Choose a table in the data folder, or type its path inside the folder")
    given = Path(text)
    if ".." in given.parts:
        raise SourceError(
            f"{text!r} goes up a folder with '..'; the dashboard reads only tables inside its "
            "data folder"
        )
    path = given if given.is_absolute() else root / given
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        if path.absolute().is_relative_to(root):
            raise SourceError(
                f"{text!r} is a link to a file outside the data folder; the dashboard reads only "
                "tables inside it"
            )
        raise SourceError(
            f"{text!r} is outside the data folder; the dashboard reads only tables inside it. "
            "Choose one from the list, or type a path relative to the folder"
        )
    typed = () if given.is_absolute() else given.parts
    if any(part.startswith(".") for part in (*typed, *resolved.relative_to(root).parts)):
        raise SourceError(f"{text!r} is hidden; the dashboard reads only {_KINDS} files")
    if not resolved.exists():
        raise SourceError(f"No table {text!r} in the data folder; choose one from the list")
    if resolved.is_dir():
        _check_parquet_folder(root, resolved, text)
    elif not is_table_name(resolved.name):
        raise SourceError(f"{text!r} is not a table; the dashboard reads only {_KINDS} files")
    return resolved


def is_table_name(name: str) -> bool:
    """Whether a file name is a table's: ``customers.csv``, ``customers.csv.gz``, ``export.zip``
    (a compressed file must say what it holds: ``customers.gz`` is not offered)."""
    path = Path(name)
    kind = compression_of(path)
    if kind == "zip":
        return True
    return Path(path.stem if kind else path.name).suffix.lower() in TABLE_SUFFIXES


def _check_parquet_folder(root: Path, folder: Path, text: str) -> None:
    """A Parquet folder holds Parquet files, and everything in it (links too) is inside ``root``."""
    if not _is_parquet_folder(folder):
        raise SourceError(f"{text!r} is a folder without Parquet files; choose a table file")
    entries = (Path(here) / name for here, dirs, files in os.walk(folder) for name in dirs + files)
    if not all(p.resolve().is_relative_to(root) for p in entries):
        raise SourceError(
            f"{text!r} holds links to files outside the data folder; the dashboard reads only "
            "tables inside it"
        )


def _is_parquet_folder(folder: Path) -> bool:
    try:
        return any(p.suffix.lower() in PARQUET_SUFFIXES and p.is_file() for p in folder.iterdir())
    except OSError:  # unreadable: not offered, and load would fail on it anyway
        return False


def list_tables(root: Path, limit: int = MAX_LISTED) -> list[str]:
    """The tables in ``root`` (paths relative to it, sorted), at most ``limit`` of them.

    Hidden files and folders, non-table files and links leading outside ``root`` are left out;
    a Parquet folder is one entry.
    """
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = sorted(f for f in files if not f.startswith("."))
        for name in [*names, *dirs]:
            path = here / name
            if path.is_dir() and not _is_parquet_folder(path):
                continue
            relative = path.relative_to(root).as_posix()
            try:
                resolve_table(root, relative)
            except SourceError:
                continue
            found.append(relative)
            if len(found) >= limit:
                return sorted(found)
        dirs[:] = [d for d in dirs if not _is_parquet_folder(here / d)]
    return sorted(found)
