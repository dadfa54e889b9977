"""Bad and awkward inputs, each with the outcome custseg must give.

Every case writes its file into a folder and returns the path. ``expect`` is ``None`` when the
input must be handled (exit code 0), or a fragment of the one-line error (exit code 2).
The README's reliability table lists the same cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from custseg import sample_customers


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    expect: str | None  # None: handled; else a fragment of the error message
    what: str  # the README's description of what custseg does


def _csv(frame: pd.DataFrame, path: Path, **kwargs) -> Path:
    frame.to_csv(path, index=False, **kwargs)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _base(n: int = 60) -> pd.DataFrame:
    return sample_customers(n, seed=5)


def _mixed(d: Path) -> Path:
    f = _base().astype({"Age": object})
    f.loc[[4, 9], "Age"] = ["forty", "n/a?"]
    return _csv(f, d / "mixed.csv")


def _all_missing(d: Path) -> Path:
    return _csv(_base().assign(Loyalty=np.nan), d / "all_missing.csv")


def _constant(d: Path) -> Path:
    return _csv(_base().assign(Country=1.0), d / "constant.csv")


def _extreme(d: Path) -> Path:
    f = _base()
    f["Annual Income (k$)"] = f["Annual Income (k$)"].astype(float)
    f.loc[0, "Annual Income (k$)"] = 1e308
    f.loc[1, "Annual Income (k$)"] = -1e308
    return _csv(f, d / "extreme.csv")


def _infinite(d: Path) -> Path:
    f = _base().astype({"Age": float})
    f.loc[[2, 3], "Age"] = [np.inf, -np.inf]
    return _csv(f, d / "infinite.csv")


def _duplicated_ids(d: Path) -> Path:
    f = _base()
    f.loc[5, "CustomerID"] = f.loc[4, "CustomerID"]
    return _csv(f, d / "duplicated_ids.csv")


def _non_ascii(d: Path) -> Path:
    f = _base().rename(
        columns={"Age": "Âge", "Annual Income (k$)": "Revenu annuel (k€)", "Gender": "性别"}
    )
    return _csv(f, d / "non_ascii.csv")


def _wide(d: Path) -> Path:
    rng = np.random.default_rng(0)
    f = pd.DataFrame(rng.normal(size=(80, 1000)), columns=[f"f{i:04d}" for i in range(1000)])
    return _csv(f, d / "wide.csv")


def _sheets(d: Path) -> Path:
    path = d / "sheets.xlsx"
    with pd.ExcelWriter(path) as writer:
        _base().to_excel(writer, sheet_name="customers", index=False)
        pd.DataFrame({"note": ["exported 2026"]}).to_excel(writer, sheet_name="about", index=False)
    return path


def _truncated_parquet(d: Path) -> Path:
    full = d / "full.parquet"
    _base().to_parquet(full)
    data = full.read_bytes()
    return _write(d / "truncated.parquet", data[: len(data) // 2])


def _formulas(d: Path) -> Path:
    f = _base()
    f["Note"] = ['=HYPERLINK("http://x")', "+1+2", "-cmd", "@SUM(A1)"] * 15
    return _csv(f, d / "formulas.csv")


def _wrong_delimiter(d: Path) -> Path:
    # A European export: semicolons and decimal commas.
    f = _base().astype({"Annual Income (k$)": float})
    f["Annual Income (k$)"] += 0.5
    return _csv(f, d / "european.csv", sep=";", decimal=",")


CASES = [
    Case("empty file", lambda d: _write(d / "empty.csv", b""), "is empty",
         "error: the file is empty"),
    Case("header only", lambda d: _write(d / "header.csv", b"CustomerID,Age,Income\n"),
         "header but no rows", "error: header but no rows"),
    Case("binary garbage", lambda d: _write(d / "garbage.csv", bytes(range(256)) * 40),
         "binary", "error: not a text table"),
    Case("wrong delimiter and decimal commas", _wrong_delimiter, None,
         "handled: ';' delimiter and decimal commas sniffed, with a note"),
    Case("mixed types in a column", _mixed, "'forty' on line 6",
         "error: count and examples of non-numeric values with line numbers"),
    Case("all-missing column", _all_missing, None, "left out of the features with a note"),
    Case("constant column", _constant, None, "left out of the features with a note"),
    Case("one row", lambda d: _csv(_base().head(1), d / "one.csv"), "fewer than",
         "error: fewer usable rows than segments"),
    Case("duplicated ids", _duplicated_ids, "duplicated id",
         "error: names the id and both lines"),
    Case("extreme values (1e308)", _extreme, "too large",
         "error: values too large to scale"),
    Case("inf and -inf", _infinite, "infinite", "error: infinite values with the line"),
    Case("non-ASCII column names", _non_ascii, None, "handled; roles still recognised"),
    Case("Latin-1 encoding", lambda d: _csv(_non_ascii_frame(), d / "latin1.csv",
                                            encoding="latin-1"), None, "encoding sniffed"),
    Case("UTF-16 encoding", lambda d: _csv(_base(), d / "utf16.csv", encoding="utf-16"), None,
         "encoding sniffed from the BOM"),
    Case("1,000 columns", _wide, None, "handled; charts capped, PCA view"),
    Case("Excel with several sheets", _sheets, None,
         "first sheet read, a note names the others (--sheet chooses)"),
    Case("truncated Parquet", _truncated_parquet, "damaged",
         "error: the file looks damaged"),
    Case("formula-like text cells", _formulas, None,
         "handled; cells prefixed with ' in segments.csv (--raw-csv keeps them)"),
]  # fmt: skip


def _non_ascii_frame() -> pd.DataFrame:
    f = _base()
    f["City"] = ["Zürich", "Málaga", "Lodz", "Köln"] * 15
    return f


def more_segments_than_rows(d: Path) -> Path:
    """With ``--k 50``: more segments requested than rows."""
    return _csv(_base(20), d / "twenty.csv")
