"""Where the header is: exports often put a title line or two above it.

A header row is the first row whose cells are mostly filled and mostly words (not numbers);
the rows above it are titles. A table whose first row is such a row is read as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

from custseg.exceptions import ConfigError

MAX_TITLE_ROWS = 10  # a header further down than this is not looked for
FILLED_SHARE = 0.5  # of the widest row's cells
WORD_SHARE = 0.8  # of a header's filled cells
_NUMBER = re.compile(r"^[-+(]?[$€£¥]?\s*[\d.,' ]+%?\)?$")


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() not in ("", "nan", "NaN", "None")


def _is_word(cell: object) -> bool:
    return isinstance(cell, str) and not _NUMBER.match(cell.strip())


def find_header_row(rows: Sequence[Sequence[object]]) -> int:
    """Position (0-based) of the header among the first rows of a table; 0 when it is the first.

    Parameters
    ----------
    rows : list of rows
        The first rows as read without a header (cells as text or values).
    """
    counts = [sum(_filled(c) for c in row) for row in rows]
    width = max(counts, default=0)
    need = max(min(2, width), FILLED_SHARE * width)
    for i, row in enumerate(rows[: MAX_TITLE_ROWS + 1]):
        cells = [c for c in row if _filled(c)]
        if cells and len(cells) >= need and sum(map(_is_word, cells)) >= WORD_SHARE * len(cells):
            return i
    return 0


def check_header_row(header_row: int | None) -> int | None:
    """``header_row`` (1-based, as a spreadsheet numbers rows) checked: a whole number >= 1."""
    if header_row is None:
        return None
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        raise ConfigError(
            f"--header-row must be the row number of the column names (1 for the first row), "
            f"not {header_row!r}"
        )
    return header_row


def title_note(name: str, skipped: int, rows: Sequence[Sequence[object]]) -> str:
    """Say which title rows were skipped, so a wrong guess is easy to see and to correct."""
    title = next((str(c).strip() for row in rows[:skipped] for c in row if _filled(c)), "")
    shown = f" ({title[:60]!r})" if title else ""
    return (
        f"'{name}': took row {skipped + 1} as the column names and skipped "
        f"{'the title row' if skipped == 1 else f'{skipped} title rows'} above it{shown}; "
        "set the row with --header-row"
    )


def text_rows(text: str, delimiter: str) -> list[list[str]]:
    """The first lines of a text table split into cells (for :func:`find_header_row`)."""
    lines = text.splitlines()[: MAX_TITLE_ROWS + 5]
    if delimiter == r"\s+":
        return [line.split() for line in lines]
    return list(csv.reader(lines, delimiter=delimiter))


def header_skip(
    rows: Sequence[Sequence[object]], header_row: int | None, name: str, notes: list[str]
) -> int:
    """How many rows come before the column names: ``header_row - 1`` when given, otherwise
    found by :func:`find_header_row` (with a note when it skips title rows)."""
    if check_header_row(header_row) is not None:
        return header_row - 1
    skip = find_header_row(rows)
    if skip:
        notes.append(title_note(name, skip, rows))
    return skip
