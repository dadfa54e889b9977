"""Small text helpers for messages people read."""

from __future__ import annotations

import re
from collections.abc import Mapping


def error_text(exc: BaseException, limit: int = 200) -> str:
    """The first line of an error's message (at most ``limit`` characters), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number: "1 row", "1,200 rows".

    ``many`` is the plural when it is not ``word + "s"`` (``plural(n, "family", "families")``).
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


_BRACKETS = re.compile(r"(\([^)]*\)|\[[^\]]*\])")
# Word boundaries inside a name: lower->Upper ("webVisits"), ACRONYM->Word ("USDTotal"),
# letter<->digit ("Mnt2023").
_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)


def humanise(column: str, display: Mapping[str, str] | None = None) -> str:
    """A column name as words a person reads: ``cash_advance_frequency`` -> "cash advance
    frequency", ``NumWebVisitsMonth`` -> "num web visits month".

    Parameters
    ----------
    column : str
        The column name as in the data.
    display : mapping, optional
        Column -> display name chosen by the user (the rules file's ``[display]``); wins.

    Returns
    -------
    str
        Lower-case words (acronyms such as ``USD`` kept), units in brackets kept as written;
        start a sentence with :func:`capitalise`.
    """
    if display and column in display:
        return display[column]
    text = str(column).strip()
    shouting = text.upper() == text  # CASH_ADVANCE: capitals carry no meaning here
    parts = []
    for piece in _BRACKETS.split(text):
        if _BRACKETS.fullmatch(piece):
            parts.append(piece)  # units such as (k$) or (1-100) stay as written
            continue
        for word in re.split(r"[\s_.\-]+", piece):
            for token in _CAMEL.split(word):
                if not token:
                    continue
                keep = not shouting and len(token) > 1 and token.isupper()
                parts.append(token if keep else token.lower())
    return " ".join(parts) or text


def capitalise(text: str) -> str:
    """``text`` with its first letter upper-case, the rest untouched."""
    return text[:1].upper() + text[1:]
