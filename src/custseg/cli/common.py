"""What every ``custseg`` command shares: consoles, errors, option types, progress and printing.

The library is reached through :func:`lazy` modules, so ``custseg --help`` parses arguments without
loading pandas, scikit-learn or plotly; they load when a command's body first uses them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from custseg.exceptions import CustsegError, OptionError
from custseg.text import humanise, plural

console = Console(stderr=True, soft_wrap=True)
out = Console()

ProgressCallback = Callable[[str, int, int], None]


class LazyModule:
    """A module imported on first attribute access.

    Not ``importlib.util.LazyLoader``: finding a submodule's spec imports its package, and
    ``custseg.read`` (the package of ``custseg.read.sql``) loads pandas.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # tools probing for __wrapped__ and the like import nothing
            raise AttributeError(attr)
        # Resolved on every access (a dict look-up once imported), so tests can monkeypatch it.
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """The module ``name``, imported when a command first uses one of its attributes."""
    return LazyModule(name)


if TYPE_CHECKING:
    from custseg import datasets, read
    from custseg.read import Table, sql
    from custseg.segmentation import Segmentation
else:
    datasets, read, sql = lazy("custseg.datasets"), lazy("custseg.read"), lazy("custseg.read.sql")


# ---------------------------------------------------------------- options shared by commands

DataArg = Annotated[
    str | None,
    typer.Argument(
        help="Customer table (CSV/TSV, Parquet, Excel, JSON lines), or a database URL or "
        ".db/.sqlite/.duckdb file with --table/--query; default: sample data."
    ),
]
TableOpt = Annotated[
    str | None,
    typer.Option("--table", help="Database table to read (schema.table allowed); Spark table."),
]
QueryOpt = Annotated[
    str | None, typer.Option("--query", help="SELECT statement to read (Spark SQL with spark).")
]
WriteTableOpt = Annotated[
    str | None,
    typer.Option("--write-table", help="Also write id, segment, run id, time to this table."),
]
IfExistsOpt = Annotated[
    str, typer.Option("--if-exists", help="When --write-table exists: fail, replace or append.")
]
WriteUrlOpt = Annotated[
    str | None,
    typer.Option("--write-url", help="Database for --write-table (default: the source's)."),
]
FeaturesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        "-f",
        help="Feature columns, comma-separated or repeated (names or roles: income, age), "
        "or auto (the columns feature guidance keeps).",
    ),
]
IdOpt = Annotated[str | None, typer.Option("--id-column", help="Customer id column, or 'none'.")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or index.")]
HeaderRowOpt = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        help="Row holding the column names (1 = first) in CSV/Excel; default: found below "
        "title rows.",
    ),
]
RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="Set a column's role: COLUMN=numeric, categorical, id, ignore or date (repeatable).",
    ),
]
TenureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tenure", help="Date column to add as a feature: days since each date (repeatable)."
    ),
]
KOpt = Annotated[str, typer.Option("--k", help="Number of segments, or 'auto'.")]
ScaleOpt = Annotated[
    str, typer.Option("--scale", help="Scaling: standard, minmax, robust or none.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
NInitOpt = Annotated[int, typer.Option("--n-init", help="K-Means restarts per k.", min=1)]
KRangeOpt = Annotated[
    str, typer.Option("--k-range", help="Candidate numbers of segments, e.g. 2..10 or 3,5,8.")
]
LogOpt = Annotated[
    str | None,
    typer.Option("--log", help="Log-transform skewed columns: 'auto' or a comma-separated list."),
]
OneHotOpt = Annotated[
    list[str] | None,
    typer.Option("--one-hot", help="Categorical columns to one-hot encode (e.g. Gender)."),
]
MissingOpt = Annotated[
    str, typer.Option("--missing", help="Missing feature values: impute (median), drop or error.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")]
RawCsvOpt = Annotated[
    bool, typer.Option("--raw-csv", help="Keep formula-like text cells unescaped.")
]
PngOpt = Annotated[
    Path | None, typer.Option("--png", help="Also write the main charts as PNG here.")
]
OutDirOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="K-Means engine: auto, lloyd, elkan, minibatch or spark."),
]


# Parameters whose flag is not their name with dashes (a repeatable flag reads as a singular).
FLAGS = {"roles": "--role"}


def flag_for(parameter: str) -> str:
    """The flag of a library parameter: ``k_range`` -> ``--k-range``."""
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


def split_list(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated values as one list: ``["a,b", "c"]`` -> ``["a", "b", "c"]``."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


# ---------------------------------------------------------------- errors, data, progress


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one red line and exit code 2."""
    try:
        yield
    except CustsegError as exc:
        # The library names parameters (k_range); the command line shows flags (--k-range).
        message = exc.for_flag(flag_for(exc.parameter)) if isinstance(exc, OptionError) else exc
        console.print(f"[bold red]error:[/] {escape(str(message))}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; no output was changed")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # an unexpected failure: still no traceback unless asked
        if os.environ.get("CUSTSEG_DEBUG"):
            raise
        console.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {escape(str(exc))} "
            "(set CUSTSEG_DEBUG=1 to see the traceback and please report it)",
            highlight=False,
        )
        raise typer.Exit(1) from None


def load_table(
    data: str | None,
    id_column: str | None,
    sheet: str | None,
    table: str | None = None,
    query: str | None = None,
    *,
    header_row: int | None = None,
    roles: tuple[tuple[str, str], ...] | None = None,
) -> Table:
    """The customer table a command names: a file, a database, or the built-in sample, with the
    roles set by ``--role`` (checked by ``SegmentOptions``)."""
    if data is None and table is None and query is None:
        loaded = read.load(datasets.sample_customers(), id_column=id_column)
    elif data is None or sql.is_database_url(data):  # no source: the URL in CUSTSEG_DB_URL
        loaded = sql.load_sql(data, table=table, query=query, id_column=id_column)
    else:
        loaded = read.load(
            Path(data), id_column=id_column, sheet=sheet, table=table, query=query,
            header_row=header_row,
        )  # fmt: skip
    return read.set_roles(loaded, roles)


@contextmanager
def progress_bar(quiet: bool) -> Iterator[ProgressCallback]:
    """A Rich progress display and a ``callback(step, done, total)`` that drives it."""
    if quiet:
        yield lambda *_: None
        return
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def callback(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield callback


def output_steps(callback: ProgressCallback, total: int) -> Callable[[str], None]:
    """A ``step`` for the output writers: each file written advances the "write outputs" bar."""
    done = iter(range(1, total + 1))
    return lambda _name: callback("write outputs", next(done), total)


# ---------------------------------------------------------------- printing


# What each output is for, in the "wrote ..." lines; a file not listed gets its path alone.
_WHAT = {
    "segments.csv": "each customer with their segment",
    "summary.json": "segments, profiles and the evidence for k",
    "model.skops": "the model, for predict and serve",
    "report.html": "the report: open it in a browser",
    "rfm_features.csv": "RFM features and scores of each customer",
    "rules.sql": "the segments as one SQL expression, to assign customers in a database",
    "manifest.json": "the list of files that make up this run",
    "migration.csv": "each customer's previous and new segment",
    "migration.json": "who moved between segments, as in summary.json",
}


def print_written(written: Mapping[str, object]) -> None:
    """One line per output written: its path and what it is."""
    for name, path in written.items():
        what = _WHAT.get(name, "" if Path(str(path)).name == name else name)
        out.print(f"  wrote [cyan]{path}[/]" + (f"  ({what})" if what else ""), highlight=False)


def print_segments(seg: Segmentation) -> None:
    """The run's notes, the k decision and the compact table of segments."""
    for note in seg.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    out.print(f"[bold]{seg.k_reason}[/]", highlight=False)
    out.print(segment_table(seg))


TABLE_FEATURES = 3  # most distinctive features per segment in the terminal's table


def segment_table(seg: Segmentation) -> RichTable:
    """One row per segment that fits a terminal: size, share, stability and what stands out.

    Every feature's mean is in ``summary.json`` and the report; the table names only the
    ``TABLE_FEATURES`` features on which each segment differs most from all customers.
    """
    stability = getattr(seg, "stability", None)  # None: not measured (k < 2, Spark)
    table = RichTable(
        title=f"{plural(seg.k, 'segment')} of {plural(seg.n_used, 'customer')}",
        caption="Every feature's mean per segment: summary.json and report.html.",
    )
    table.add_column("segment", justify="right")
    table.add_column("name")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    if stability is not None:
        table.add_column("stability")
    table.add_column("stands out by")
    for p in seg.profiles:
        cells = [str(p.id), escape(p.name), f"{p.size:,}", f"{p.share:.1%}"]
        if stability is not None:
            cells.append(f"{stability.segments[p.id]:.2f}\n{stability.labels[p.id]}")
        cells.append(escape(standout(p)))
        table.add_row(*cells)
    return table


def standout(profile: Any, n: int = TABLE_FEATURES) -> str:
    """The ``n`` features on which a segment differs most from all customers, one a line:
    ``"annual income (k$) high"``."""
    z = {f: abs(v) for f, v in profile.zscores.items() if v is not None}
    ranked = [f for f in sorted(z, key=lambda f: -z[f]) if profile.levels.get(f) != "average"]
    if not ranked:
        return "close to average on every feature"
    return "\n".join(f"{humanise(f)} {profile.levels[f]}" for f in ranked[:n])
