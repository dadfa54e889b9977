"""Small text helpers for messages people read."""

from __future__ import annotations


def error_text(exc: BaseException, limit: int = 200) -> str:
    """The first line of an error's message (at most ``limit`` characters), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number: "1 row", "1,200 rows".

    ``many`` is the plural when it is not ``word + "s"`` (``plural(n, "family", "families")``).
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
