"""Atomic file writes: write a temporary file beside the target, then rename it into place.

A reader sees the old file or the new one, never a half-written one; a failed write leaves no
temporary file behind. Files get the usual permissions (``0o666`` minus the umask).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO


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
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
