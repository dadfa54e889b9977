"""Compressed tables: ``.csv.gz``, ``.tsv.gz``, ``.csv.zst``, ``.csv.bz2``, ``.csv.xz`` and a
``.zip`` holding one table.

The file is unpacked once, with pyarrow's compressed streams (gzip, bzip2, zstd; the standard
library's ``lzma`` for xz, ``zipfile`` for zip), into a temporary folder under the name of the
table inside; the table reader then reads that file exactly as it reads an uncompressed one, so
sniffing, notes and results are the same (``segments.csv`` is byte-identical). Messages name the
compressed file, never the temporary one, which is removed afterwards.
"""

from __future__ import annotations

import errno
import lzma
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from custseg.exceptions import CustsegError, SourceError
from custseg.text import error_text

# Last suffix -> how it is unpacked.
COMPRESSIONS = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".xz": "xz",
    ".zip": "zip",
}
_BLOCK = 16 << 20  # bytes copied at a time while unpacking


def compression_of(path: str | Path) -> str | None:
    """``"gzip"``, ``"bz2"``, ``"zstd"``, ``"xz"`` or ``"zip"`` by the file's last suffix."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


def inner_name(path: str | Path) -> str:
    """The name of the table inside a compressed file: ``customers.csv.gz`` -> ``customers.csv``
    (a bare ``customers.gz`` is taken as CSV)."""
    stem = Path(Path(path).name).stem
    return stem if Path(stem).suffix else f"{stem}.csv"


@contextmanager
def decompressed(path: Path, notes: list[str] | None = None) -> Iterator[Path]:
    """The path of a plain table file for ``path``: ``path`` itself unless it is compressed.

    A compressed file is unpacked into a temporary folder, removed on exit. Errors raised inside
    the block and ``notes`` added there name ``path`` rather than the unpacked copy.
    """
    kind = compression_of(path)
    if kind is None or not path.is_file():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="custseg-unpacked-") as folder:
        plain = _unpack(path, kind, Path(folder))
        before = len(notes) if notes is not None else 0
        try:
            yield plain
        except CustsegError as exc:
            exc.args = tuple(_renamed(a, plain, path) for a in exc.args)
            if hasattr(exc, "problems"):
                exc.problems = [_renamed(p, plain, path) for p in exc.problems]
            raise
        if notes is not None:
            notes[before:] = [_renamed(n, plain, path) for n in notes[before:]]


def _renamed(text: object, plain: Path, path: Path) -> object:
    if not isinstance(text, str):
        return text
    return text.replace(str(plain), str(path)).replace(f"'{plain.name}'", f"'{path.name}'")


def _unpack(path: Path, kind: str, folder: Path) -> Path:
    """Write the table inside ``path`` into ``folder``; return its path there."""
    try:
        if kind == "zip":
            return _unzip(path, folder)
        target = folder / inner_name(path)
        with _stream(path, kind) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _BLOCK)
        return target
    except CustsegError:
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise SourceError(
                f"Not enough disk space in '{folder.parent}' to unpack '{path}' "
                f"({path.stat().st_size:,} bytes compressed); free some space there, point "
                "TMPDIR at a folder with more room, or unpack the file yourself"
            ) from exc
        raise _damaged(path, kind, exc) from exc
    except (pa.ArrowException, lzma.LZMAError, zipfile.BadZipFile, EOFError) as exc:
        raise _damaged(path, kind, exc) from exc


def _stream(path: Path, kind: str):
    if kind == "xz":  # not among pyarrow's codecs: the standard library reads it
        return lzma.open(path, "rb")
    return pa.CompressedInputStream(pa.OSFile(str(path), "rb"), kind)


def _damaged(path: Path, kind: str, exc: BaseException) -> SourceError:
    return SourceError(
        f"Could not unpack '{path}': it looks damaged or is not a {kind} file "
        f"({error_text(exc)}); export it again, or pass the uncompressed table"
    )


def _unzip(path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and not m.filename.startswith("__MACOSX/")
            and not Path(m.filename).name.startswith(".")
        ]
        if len(members) != 1:
            shown = ", ".join(repr(m.filename) for m in members[:10]) or "no files"
            raise SourceError(
                f"'{path}' holds {len(members)} files ({shown}); custseg reads a .zip that holds "
                "one table: unzip it and pass the table's own file"
            )
        # Only the member's own name is used: a path inside the archive never leaves `folder`.
        target = folder / Path(members[0].filename).name
        with archive.open(members[0]) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _BLOCK)
    return target
