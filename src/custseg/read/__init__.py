"""Load any customer table, recognise what each column is, and validate it.

``load`` returns a :class:`Table`: the raw rows (values untouched) plus the role of every
column. ``validate`` reports every problem with the chosen features at once.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError, DataError, SourceError
from custseg.text import error_text

NUMERIC_ROLES = ("age", "income", "spending", "numeric")
ROLES = ("id", "gender", *NUMERIC_ROLES, "categorical", "date", "text", "empty", "constant")

# Name patterns on the normalised column name (lower case, words separated by one space).
_NAME_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "id",
        re.compile(
            r"^(?:(?:customer|cust|client|member|user|account|shopper|row)\s?)?"
            r"(?:id|no|nr|num|number|key|code|identifier)$|^(?:customer|cust|client)$"
        ),
    ),
    ("gender", re.compile(r"^(?:gender|genre|sex)$")),
    ("age", re.compile(r"^(?:customer\s)?age(?:\s(?:years?|yrs))?$")),
    ("income", re.compile(r"\b(?:income|salary|earnings|wage)\b")),
    ("spending", re.compile(r"\b(?:spending|spend|spendings)\b|^score$|\bspending score\b")),
    ("date", re.compile(r"\b(?:date|time|timestamp|since|joined)\b")),
]
ROLE_ALIASES = {"income": "income", "spending": "spending", "age": "age", "gender": "gender"}
MAX_CATEGORIES = 20
# Small integer codes under these names are categories, not quantities (e.g. Channel 1/2).
_CODE_NAME = re.compile(
    r"\b(?:channel|region|type|category|class|group|status|code|segment|area|zone|store|"
    r"country|city|state|branch|tier)\b"
)
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?:;|$)", re.MULTILINE)
NUMERIC_SHARE = 0.5  # a column whose non-missing values are mostly numbers is numeric
PYARROW_BYTES = 16 << 20  # CSV files from this size on are read with pyarrow (multi-threaded)


def normalise_name(name: str) -> str:
    """Lower-case words: ``'AnnualIncome'`` and ``'annual_income'`` -> ``'annual income'``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class Table:
    """A loaded customer table: the raw rows and what each column is.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows as read, values untouched.
    roles : dict
        Column name -> role (one of :data:`ROLES`).
    source : str
        Where the rows came from (for messages and the report).
    first_line : int or None
        File line of the first data row (for messages), ``None`` when lines don't apply.
    notes : list of str
        What loading noticed (encoding, delimiter, columns left out, ...).
    """

    frame: pd.DataFrame
    roles: dict[str, str]
    source: str = "DataFrame"
    first_line: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def id_column(self) -> str | None:
        return next((c for c, r in self.roles.items() if r == "id"), None)

    def columns_with(self, *roles: str) -> list[str]:
        return [c for c, r in self.roles.items() if r in roles]

    def where(self, position: int) -> str:
        """Human location of the row at ``position``: a file line or a row number."""
        if self.first_line is None:
            return f"row {position}"
        return f"line {position + self.first_line}"


# ---------------------------------------------------------------- reading


def load(
    source: str | Path | pd.DataFrame,
    *,
    id_column: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> Table:
    """Read a customer table from a file, a database or a DataFrame and recognise column roles.

    Parameters
    ----------
    source : path, database URL or DataFrame
        CSV/TSV/TXT (delimiter, encoding and BOM sniffed), Parquet (file or folder), Excel
        (.xlsx), JSON lines (.jsonl/.ndjson/.json), a pandas DataFrame (never modified), or a
        database: a URL (``postgresql://user@host/db``, ``sqlite:///f.db``, ``duckdb:///f.duckdb``)
        or a .db/.sqlite/.duckdb file, with ``table`` or ``query`` (see :mod:`custseg.read.sql`).
    id_column : str, optional
        Name of the customer id column, or ``"none"`` when the table has none.
    sheet : str or int, optional
        Excel sheet; the first sheet by default.
    delimiter, encoding : str, optional
        Override what sniffing finds for text files.
    table, query : str, optional
        For a database source: the table to read, or a SELECT statement.
    """
    if not isinstance(source, pd.DataFrame):
        from custseg.read.sql import database_file_kind, is_database_url, load_sql

        if (
            table is not None
            or query is not None
            or is_database_url(source)
            or database_file_kind(source) is not None
        ):
            return load_sql(source, table=table, query=query, id_column=id_column)
    notes: list[str] = []
    first_line: int | None = None
    if isinstance(source, pd.DataFrame):
        frame = source
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.rename(columns=str)
        name = "DataFrame"
    else:
        path = Path(source)
        name = str(path)
        frame, first_line = _read_path(path, sheet, delimiter, encoding, notes)
    check_columns(frame, name)
    roles = recognise_roles(frame, id_column=id_column, notes=notes)
    release_arrow_memory()
    return Table(frame=frame, roles=roles, source=name, first_line=first_line, notes=notes)


def release_arrow_memory() -> None:
    """Hand the memory pyarrow's reader kept for reuse back to the system.

    Its parse buffers stay cached in Arrow's allocator after a read: on a 10M-row CSV that is
    ~1.2 GB of resident memory no one uses any more.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _read_path(path: Path, sheet, delimiter, encoding, notes) -> tuple[pd.DataFrame, int | None]:
    if not path.exists():
        raise SourceError(f"No such file or folder: '{path}'; check the path")
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in (".parquet", ".pq"):
            return pd.read_parquet(path), None
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return _read_excel(path, sheet, notes), 2
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
    return _read_csv(path, delimiter, encoding, notes), 2


def _read_excel(path: Path, sheet, notes) -> pd.DataFrame:
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
    return pd.read_excel(path, sheet_name=sheet)


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
    from charset_normalizer import from_bytes

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


def _read_csv(path: Path, delimiter, encoding, notes) -> pd.DataFrame:
    raw, encoding = text_sample(path, encoding, if_empty="export the table again with a header row")
    if encoding not in ("utf-8", "utf-8-sig", "ascii"):
        notes.append(f"read '{path.name}' as {encoding}")
    text = raw.decode(encoding, errors="replace")
    if delimiter is None:
        delimiter = sniff_delimiter(text, default="\t" if path.suffix.lower() == ".tsv" else ",")
    if delimiter == " ":
        delimiter = r"\s+"
    # Header first, so id-like and gender columns are read as text ("0001" stays "0001").
    try:
        header = pd.read_csv(path, sep=delimiter, encoding=encoding, nrows=0, engine="python")
        as_text = {c: str for c in header.columns if role_from_name(str(c)) in ("id", "gender")}
        decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text) else "."
        if decimal == ",":
            notes.append(f"read '{path.name}' with decimal commas (e.g. 12,5)")
        if _use_pyarrow(path, delimiter, encoding) and decimal == ".":
            spaced = re.search(re.escape(delimiter) + "[ \t]", text) is not None
            frame = _read_csv_arrow(path, delimiter, list(as_text), trim=spaced)
        else:
            frame = pd.read_csv(
                path,
                sep=delimiter,
                encoding=encoding,
                dtype=as_text,
                decimal=decimal,
                skipinitialspace=True,
                engine="python" if delimiter == r"\s+" else "c",
            )
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"'{path}' has no columns; export the table with a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(
            f"Could not parse '{path}' as a delimited table ({error_text(exc)}); "
            "check the delimiter (--delimiter) and encoding (--encoding)"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


# pandas' default missing-value markers, so both readers agree on what is missing.
NULL_TEXT = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip


def _read_csv_arrow(
    path: Path, delimiter: str, text_columns: list[str], *, trim: bool = False
) -> pd.DataFrame:
    """pyarrow's multi-threaded CSV reader, straight into pandas (id/gender columns as text).

    Called directly rather than through ``pd.read_csv(engine="pyarrow")``, which reads ids as
    numbers and converts them to text afterwards (~0.6 GB more resident at 10M rows). ``trim``
    drops the spaces after delimiters (``a, b``) from text values, as the C reader's
    ``skipinitialspace`` does; numbers are read either way.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(
        path,
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


def check_columns(frame: pd.DataFrame, name: str) -> None:
    if frame.shape[1] == 0:
        raise SourceError(f"'{name}' has no columns; export the table with a header row")
    if len(frame) == 0:
        raise DataError(f"'{name}' has a header but no rows; there are no customers to segment")
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise DataError(
            f"'{name}' has duplicated column names {dupes!r}; rename them so each is unique"
        )


# ---------------------------------------------------------------- roles


def role_from_name(name: str) -> str | None:
    norm = normalise_name(name)
    for role, pattern in _NAME_RULES:
        if pattern.search(norm):
            return role
    return None


def non_numeric_cells(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The column as numbers (blank text counts as missing), and the positions of the cells that
    are neither a number nor blank."""
    values = numeric_view(raw)
    bad = values.isna() & raw.notna()
    if pd.api.types.is_object_dtype(raw) or pd.api.types.is_string_dtype(raw):
        blank = raw.astype("string").str.strip().fillna("") == ""
        bad &= ~blank
        values = values.where(~blank)
    return values, np.flatnonzero(bad.to_numpy())


def examples(table: Table, raw: pd.Series, positions: np.ndarray, n: int = 3) -> str:
    """``'forty' on line 3, 'n/a' on line 9`` for the first ``n`` positions."""
    return ", ".join(f"{raw.iloc[p]!r} on {table.where(p)}" for p in positions[:n])


def infinite_values(table: Table, col: str, values: np.ndarray) -> str | None:
    """The problem with ``col`` when ``values`` (its numbers) hold infinities, else ``None``."""
    positions = np.flatnonzero(np.isinf(values))
    if not len(positions):
        return None
    return (
        f"Column {col!r} has {len(positions)} infinite value"
        f"{'s' if len(positions) > 1 else ''} (first on {table.where(positions[0])}); "
        "replace them with real numbers or leave them empty"
    )


def numeric_view(series: pd.Series) -> pd.Series:
    """The column as float numbers; values that are not numbers become NaN."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    return pd.to_numeric(series.astype("string").str.strip(), errors="coerce").astype(float)


def recognise_roles(
    frame: pd.DataFrame, *, id_column: str | None = None, notes: list[str] | None = None
) -> dict[str, str]:
    """Give each column a role from its name first, then from its content."""
    notes = notes if notes is not None else []
    if id_column is not None and id_column.lower() != "none" and id_column not in frame.columns:
        raise ConfigError(unknown_column("--id-column", id_column, frame.columns))
    roles: dict[str, str] = {}
    taken: set[str] = set()
    for col in frame.columns:
        series = frame[col]
        by_name = role_from_name(col)
        non_missing = series.notna().sum()
        if non_missing == 0:
            roles[col] = "empty"
            continue
        if id_column is not None:
            if col == id_column:
                roles[col] = "id"
                continue
            if by_name == "id":
                by_name = None
        if by_name in ("id", "gender") and by_name not in taken:
            roles[col] = by_name
            taken.add(by_name)
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or (
            by_name == "date" and not pd.api.types.is_numeric_dtype(series)
        ):
            roles[col] = "date"
            continue
        values = numeric_view(series)
        is_numeric = values.notna().sum() >= NUMERIC_SHARE * non_missing
        if is_numeric:
            if by_name in ("age", "income", "spending") and by_name not in taken:
                roles[col] = by_name
                taken.add(by_name)
            elif values.nunique() <= 1:
                roles[col] = "constant"
            elif _is_code(values, col):
                roles[col] = "categorical"
                notes.append(f"treated '{col}' as categorical (a small set of codes)")
            else:
                roles[col] = "numeric"
            continue
        n_unique = series.nunique()
        if n_unique <= 1:
            roles[col] = "constant"
        elif n_unique <= max(MAX_CATEGORIES, 0.05 * non_missing) and n_unique < non_missing:
            roles[col] = "categorical"
        else:
            roles[col] = "text"
    if id_column is None and "id" not in roles.values():
        _guess_id_from_content(frame, roles, notes)
    return roles


def _is_code(values: pd.Series, name: str) -> bool:
    if not _CODE_NAME.search(normalise_name(name)) or values.nunique() > MAX_CATEGORIES:
        return False
    finite = values.dropna()
    return bool((finite == finite.round()).all())


def _guess_id_from_content(frame: pd.DataFrame, roles: dict[str, str], notes: list[str]) -> None:
    """A first column of unique codes like '0001' or 1..n is an id even when not named so."""
    col = frame.columns[0]
    series = frame[col]
    if len(series) < 3 or series.isna().any() or not series.is_unique:
        return
    codes = not pd.api.types.is_numeric_dtype(series) and bool(
        series.astype(str).str.fullmatch(r"[A-Za-z]*\d+").all()
    )
    sequence = (
        pd.api.types.is_integer_dtype(series) and series.max() - series.min() == len(series) - 1
    )
    if codes or sequence:
        roles[col] = "id"
    if roles[col] == "id":
        notes.append(f"treated '{col}' as the customer id (unique codes); see --id-column")


# ---------------------------------------------------------------- features and validation


def unknown_column(
    option: str, name: str, columns: Sequence[str], roles: Mapping[str, str] | None = None
) -> str:
    names = [str(c) for c in columns]
    keys = {n.lower(): n for n in names} | {normalise_name(n): n for n in names}
    for col, role in (roles or {}).items():
        if role in ROLE_ALIASES:
            keys.setdefault(role, col)
    close = difflib.get_close_matches(normalise_name(name) or name.lower(), list(keys), 3, 0.6)
    suggestions = list(dict.fromkeys(keys[c] for c in close))
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
    shown = ", ".join(map(repr, names[:30])) + (", ..." if len(names) > 30 else "")
    return f"{option}: there is no column {name!r}.{hint} The columns are: {shown}"


def resolve_columns(table: Table, names: Sequence[str], option: str = "--features") -> list[str]:
    """Map user-given names (exact, case/format-insensitive, or a role like 'income') to columns."""
    by_norm = {normalise_name(c): c for c in table.frame.columns}
    resolved, problems = [], []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name in table.roles:
            col = name
        elif normalise_name(name) in by_norm:
            col = by_norm[normalise_name(name)]
        elif name.lower() in ROLE_ALIASES and name.lower() in table.roles.values():
            col = table.columns_with(name.lower())[0]
        else:
            problems.append(unknown_column(option, name, table.frame.columns, table.roles))
            continue
        if col not in resolved:
            resolved.append(col)
    if problems:
        raise DataError(problems)
    return resolved


def auto_features(table: Table) -> tuple[list[str], list[str]]:
    """Default features (all numeric non-id columns) and notes on the columns left out."""
    features = table.columns_with(*NUMERIC_ROLES)
    why = {
        "id": "an identifier",
        "empty": "all values are missing",
        "constant": "it has a single value",
        "text": "free text",
        "date": "a date",
        "categorical": "categorical (use --one-hot to include it)",
        "gender": "categorical (use --one-hot to include it)",
    }
    notes = [f"left out '{col}': {why[role]}" for col, role in table.roles.items() if role in why]
    if not features:
        raise DataError(
            f"'{table.source}' has no numeric columns to segment on (roles found: "
            + ", ".join(f"{c!r}={r}" for c, r in table.roles.items())
            + "); add numeric columns such as age, income or spending"
        )
    return features, notes


def validate(
    table: Table,
    features: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    n_clusters: int | None = None,
    missing: str = "impute",
    explicit: bool = True,
) -> dict[str, int]:
    """Check the chosen feature columns; raise one :class:`DataError` listing every problem.

    Returns the number of missing values per feature (for the report).
    """
    if missing not in ("impute", "drop", "error"):
        raise ConfigError(f"--missing must be impute, drop or error, not {missing!r}")
    frame, problems, missing_counts = table.frame, [], {}
    for col in features:
        role = table.roles[col]
        if role in ("id", "empty", "constant", "text", "date"):
            what = {
                "id": "is the customer id",
                "empty": "has no values at all",
                "constant": "has the same value in every row",
                "text": "holds free text, not numbers",
                "date": "holds dates, not numbers",
            }[role]
            problems.append(
                f"Column {col!r} {what}, so it cannot separate customers; remove it from --features"
            )
            continue
        if role in ("categorical", "gender"):
            problems.append(
                f"Column {col!r} is categorical; pass it with --one-hot {col!r} instead of "
                "--features"
            )
            continue
        raw = frame[col]
        values, positions = non_numeric_cells(raw)
        if len(positions):
            problems.append(
                f"Column {col!r} has {len(positions)} non-numeric value"
                f"{'s' if len(positions) > 1 else ''} (e.g. {examples(table, raw, positions)}); "
                "clean them or leave the column out of --features"
            )
        finite = values.to_numpy()
        infinite = infinite_values(table, col, finite)
        if infinite:
            problems.append(infinite)
        else:
            with np.errstate(all="ignore"):
                spread = np.nanstd(finite) if np.isfinite(finite).any() else 0.0
            if not np.isfinite(spread):
                big = int(np.nanargmax(np.abs(finite)))
                problems.append(
                    f"Column {col!r} has values too large to compute with (e.g. "
                    f"{finite[big]:g} on {table.where(big)}); rescale the column (e.g. to "
                    "thousands) or fix the values"
                )
        n_missing = int(raw.isna().sum())
        missing_counts[col] = n_missing
        if n_missing and missing == "error":
            first = int(np.flatnonzero(raw.isna().to_numpy())[0])
            problems.append(
                f"Column {col!r} has {n_missing} missing value{'s' if n_missing > 1 else ''} "
                f"(first on {table.where(first)}); fill them, or use --missing impute or "
                "--missing drop"
            )
    for col in categorical:
        if table.roles[col] in ("id", "empty", "constant", "text"):
            problems.append(
                f"Column {col!r} cannot be one-hot encoded (it is {table.roles[col]}); "
                "remove it from --one-hot"
            )
    id_col = table.id_column
    if id_col is not None:
        ids = frame[id_col]
        dup = ids.duplicated(keep=False) & ids.notna() if has_duplicates(ids) else None
        if dup is not None:
            positions = np.flatnonzero(dup.to_numpy())
            value = ids.iloc[positions[0]]
            same = np.flatnonzero((ids == value).to_numpy())[:2]
            problems.append(
                f"Id column {id_col!r} has {int(ids[dup].nunique())} duplicated id"
                f"{'s' if ids[dup].nunique() > 1 else ''} (e.g. {value!r} on "
                f"{table.where(same[0])} and {table.where(same[1])}); remove the duplicates or "
                "name a unique column with --id-column (or --id-column none)"
            )
    if n_clusters is not None:
        usable = len(frame)
        if missing == "drop" and features:
            usable = int(frame[list(features)].notna().all(axis=1).sum())
        if usable < n_clusters:
            problems.append(
                f"The table has {usable} usable row{'s' if usable != 1 else ''}, fewer than the "
                f"{n_clusters} segments asked for; lower --k or add rows"
            )
    if problems:
        raise DataError(problems)
    return missing_counts


def has_duplicates(values: pd.Series) -> bool:
    """Whether a non-missing value occurs twice.

    Sort-based: on 10M text ids it needs a third of the memory of pandas' hash table.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed objects
        return bool(values.dropna().duplicated().any())
    ordered = array.take(pc.sort_indices(array))
    return bool(pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py())


def free_column_name(columns: Iterable[str], name: str) -> str:
    """``name``, or ``name_custseg`` (and so on) when the table already has such a column."""
    taken = set(columns)
    while name in taken:
        name = f"{name}_custseg"
    return name


def describe_roles(roles: Mapping[str, str]) -> str:
    return ", ".join(f"{c} ({r})" for c, r in roles.items())
