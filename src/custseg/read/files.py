"""Read table files: CSV/TSV/TXT (encoding, delimiter and decimal comma sniffed), Parquet, Excel and
JSON lines, into a DataFrame with values untouched.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from charset_normalizer import from_bytes

from custseg.exceptions import SourceError
from custseg.read.header import MAX_TITLE_ROWS, check_header_row, header_skip, text_rows
from custseg.read.numeric import read_decimal_commas
from custseg.read.roles import role_from_name
from custseg.text import error_text

# A ;-separated field holding a decimal-comma number: 12,5 or, with a currency, "1.234,50 €".
_DECIMAL_COMMA = re.compile(
    r'(?:^|;)\s*"?[^;"\d.,]{0,5}\d+(?:[.\s]\d{3})*,\d+[^;"\d.,]{0,5}"?\s*(?:;|$)', re.MULTILINE
)
PYARROW_BYTES = 16 << 20  # CSV files from this size on are read with pyarrow (multi-threaded)


def release_arrow_memory() -> None:
    """Hand the memory pyarrow's reader kept for reuse back to the system.

    Its parse buffers stay cached in Arrow's allocator after a read: on a 10M-row CSV that is
    ~1.2 GB of resident memory no one uses any more.
    """
    pa.default_memory_pool().release_unused()


def read_path(
    path: Path,
    sheet: str | int | None,
    delimiter: str | None,
    encoding: str | None,
    notes: list[str],
    header_row: int | None = None,
) -> tuple[pd.DataFrame, int | None]:
    """The file's rows, and the file line of the first row (``None`` when lines don't apply).

    ``header_row`` (1-based) is the row of the column names in a CSV or Excel file; by default
    title rows above the header are found and skipped.
    """
    if not path.exists():
        raise SourceError(f"No such file or folder: '{path}'; check the path")
    check_header_row(header_row)
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in (".parquet", ".pq"):
            return pd.read_parquet(path), None
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame, skip = _read_excel(path, sheet, notes, header_row)
            return frame, 2 + skip
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False), 1
        if suffix == ".json":
            try:
                return pd.read_json(path, lines=True, dtype=False), 1
            except ValueError:
                return pd.read_json(path, dtype=False), None
    except (PermissionError, ImportError) as exc:
        raise SourceError(f"Could not read '{path}': {error_text(exc)}") from exc
    except Exception as exc:  # pyarrow / openpyxl raise their own families on corrupt files
        raise SourceError(
            f"Could not read '{path}': the file looks damaged or is not {suffix} "
            f"({error_text(exc)})"
        ) from exc
    frame, skip = _read_csv(path, delimiter, encoding, notes, header_row)
    return frame, 2 + skip


def _read_excel(path: Path, sheet, notes, header_row=None) -> tuple[pd.DataFrame, int]:
    sheets = pd.ExcelFile(path).sheet_names
    if sheet is None:
        if len(sheets) > 1:
            notes.append(
                f"'{path.name}' has {len(sheets)} sheets ({', '.join(map(repr, sheets))}); "
                f"read the first, {sheets[0]!r}; choose another with --sheet"
            )
        sheet = 0
    elif isinstance(sheet, str) and sheet not in sheets:
        if sheet.isdigit() and int(sheet) < len(sheets):
            sheet = int(sheet)
        else:
            raise SourceError(
                f"Sheet {sheet!r} is not in '{path.name}'; its sheets are "
                f"{', '.join(map(repr, sheets))}"
            )
    frame = pd.read_excel(path, sheet_name=sheet)
    # The first row as pandas named it ('Unnamed: 1' for an empty cell), then the rows below.
    names = [None if str(c).startswith("Unnamed:") else c for c in frame.columns]
    top = [names, *frame.head(MAX_TITLE_ROWS + 4).astype(object).values.tolist()]
    skip = header_skip(top, header_row, path.name, notes)
    if skip:  # read again below the title rows: only then, so a plain sheet is read once
        frame = pd.read_excel(path, sheet_name=sheet, header=skip)
    return frame, skip


def sniff_encoding(raw: bytes) -> str:
    """Encoding of a text sample: BOMs first, then UTF-8, then charset-normalizer's best guess."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(raw) - 4:  # a multi-byte character cut by the sample's end
            return "utf-8"
    best = from_bytes(raw).best()
    return best.encoding if best is not None else "latin-1"


SAMPLE_BYTES = 1 << 16  # what delimiter, encoding and decimal sniffing look at


def text_sample(path: Path, encoding: str | None, *, if_empty: str) -> tuple[bytes, str]:
    """The first ``SAMPLE_BYTES`` of a text table and its encoding (``encoding`` or sniffed).

    An empty file is a :class:`SourceError` ending with ``if_empty``; a binary one is too.
    """
    with open(path, "rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    if not raw.strip():
        raise SourceError(f"'{path}' is empty; {if_empty}")
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(
            f"'{path}' is not a text table (it holds binary data); "
            "pass a CSV, TSV, Parquet, Excel or JSON lines file"
        )
    return raw, encoding or sniff_encoding(raw)


def _read_csv(path: Path, delimiter, encoding, notes, header_row=None) -> tuple[pd.DataFrame, int]:
    raw, encoding = text_sample(path, encoding, if_empty="export the table again with a header row")
    if encoding not in ("utf-8", "utf-8-sig", "ascii"):
        notes.append(f"read '{path.name}' as {encoding}")
    text = raw.decode(encoding, errors="replace")
    if delimiter is None:
        delimiter = sniff_delimiter(text, default="\t" if path.suffix.lower() == ".tsv" else ",")
    if delimiter == " ":
        delimiter = r"\s+"
    skip = header_skip(text_rows(text, delimiter), header_row, path.name, notes)
    # Header first, so id-like and gender columns are read as text ("0001" stays "0001").
    try:
        header = pd.read_csv(
            path, sep=delimiter, encoding=encoding, nrows=0, engine="python", skiprows=skip
        )
        as_text = {c: str for c in header.columns if role_from_name(str(c)) in ("id", "gender")}
        decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text) else "."
        if decimal == ",":
            notes.append(f"read '{path.name}' with decimal commas (e.g. 12,5)")
        if _use_pyarrow(path, delimiter, encoding) and decimal == ".":
            spaced = re.search(re.escape(delimiter) + "[ \t]", text) is not None
            frame = _read_csv_arrow(path, delimiter, list(as_text), trim=spaced, skip=skip)
        else:
            frame = pd.read_csv(
                path,
                sep=delimiter,
                encoding=encoding,
                dtype=as_text,
                decimal=decimal,
                skipinitialspace=True,
                skiprows=skip,
                engine="python" if delimiter == r"\s+" else "c",
            )
        if decimal == ",":
            read_decimal_commas(frame, notes, keep=as_text)
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"'{path}' has no columns; export the table with a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(
            f"Could not parse '{path}' as a delimited table ({error_text(exc)}); "
            "check the delimiter (--delimiter) and encoding (--encoding)"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, skip


# pandas' default missing-value markers, so both readers agree on what is missing.
NULL_TEXT = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip


def _read_csv_arrow(
    path: Path, delimiter: str, text_columns: list[str], *, trim: bool = False, skip: int = 0
) -> pd.DataFrame:
    """pyarrow's multi-threaded CSV reader, straight into pandas (id/gender columns as text).

    Called directly rather than through ``pd.read_csv(engine="pyarrow")``, which reads ids as
    numbers and converts them to text afterwards (~0.6 GB more resident at 10M rows). ``trim``
    drops the spaces after delimiters (``a, b``) from text values, as the C reader's
    ``skipinitialspace`` does; numbers are read either way.
    """
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=skip),
        # Quoted values may span lines (notes, addresses); no slower on the 10M benchmark.
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in text_columns},
            null_values=NULL_TEXT,
            strings_can_be_null=True,
        ),
    )
    if trim:
        for i, field in enumerate(table.schema):
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                table = table.set_column(i, field, pc.utf8_ltrim_whitespace(table.column(i)))
    return table.to_pandas(self_destruct=True)


def _use_pyarrow(path: Path, delimiter: str, encoding: str) -> bool:
    """Big UTF-8 files go through pyarrow's multi-threaded reader."""
    return (
        path.stat().st_size >= PYARROW_BYTES
        and len(delimiter) == 1
        and encoding in ("utf-8", "utf-8-sig", "ascii")
    )


def sniff_delimiter(text: str, default: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not lines[-1].endswith(("\n",)):
        lines = lines[:-1] or lines  # the last line of a sample may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else default
