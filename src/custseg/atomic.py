"""Atomic file writes: write a temporary file beside the target, then rename it into place.

A reader sees the old file or the new one, never a half-written one; a failed write leaves no
temporary file behind. Files get the usual permissions (``0o666`` minus the umask).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from custseg.exceptions import DiskFullError

NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


@contextmanager
def disk_space(folder: Path, written: Callable[[], int] = lambda: 0) -> Iterator[None]:
    """Turn "no space left on device" into a DiskFullError naming the folder and the space.

    ``written`` says how many bytes were written before the disk filled: at least that much more
    free space is needed.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        free = shutil.disk_usage(folder).free if folder.exists() else 0
        raise DiskFullError(
            f"Not enough disk space in '{folder}': the disk filled up after "
            f"{_megabytes(written())} of output ({_megabytes(free)} free). The previous outputs "
            "are unchanged; free some space there, or write to another folder (--out)."
        ) from exc


def temp_sibling(path: str | Path) -> Path:
    """A new empty file in ``path``'s folder (so ``os.replace`` onto ``path`` is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # os.open with 0o666 honours the umask (mkstemp would leave the file private, 0o600)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    os.close(os.open(tmp, flags, 0o666))
    return tmp


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(handle)`` on a temporary file, flush it to disk, then rename it to ``path``."""
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        with disk_space(path.parent, lambda: tmp.stat().st_size), open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
