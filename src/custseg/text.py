"""Small text helpers for messages people read."""

from __future__ import annotations

import re


def error_text(exc: BaseException, limit: int = 200) -> str:
    """The first line of an error's message (at most ``limit`` characters), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number: "1 row", "1,200 rows".

    ``many`` is the plural when it is not ``word + "s"`` (``plural(n, "family", "families")``).
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def humanise(column: str) -> str:
    """A column name as words: ``"PURCHASES_TRX"`` -> ``"purchases trx"``,
    ``"NumStorePurchases"`` -> ``"num store purchases"``, ``"Annual Income (k$)"`` ->
    ``"annual income (k$)"``."""
    # camelCase boundaries first, while the case still tells where words start
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", column)
    return " ".join(words.replace("_", " ").split()).lower()
