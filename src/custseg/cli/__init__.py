"""The ``custseg`` command: parse options, call the library, print with Rich.

Errors from the library (``CustsegError``) become one red line and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from custseg.exceptions import ConfigError, CustsegError, OptionError

app = typer.Typer(
    name="custseg",
    help="Customer segmentation with K-Means: segments you can trust, explain and act on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console()

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
        help="Feature columns, comma-separated or repeated (names or roles: income, age).",
    ),
]
IdOpt = Annotated[str | None, typer.Option("--id-column", help="Customer id column, or 'none'.")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name or index.")]
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
OutDirOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="K-Means engine: auto, lloyd, elkan, minibatch or spark."),
]


def flag_for(parameter: str) -> str:
    """The flag of a library parameter: ``k_range`` -> ``--k-range``."""
    return "--" + parameter.replace("_", "-")


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@contextmanager
def errors():
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


def _load(
    data: str | None,
    id_column: str | None,
    sheet: str | None,
    table: str | None = None,
    query: str | None = None,
):
    from custseg.datasets import sample_customers
    from custseg.read import load
    from custseg.read.sql import is_database_url, load_sql

    if data is None and table is None and query is None:
        return load(sample_customers(), id_column=id_column)
    if data is None or is_database_url(data):  # no source: the URL in CUSTSEG_DB_URL
        return load_sql(data, table=table, query=query, id_column=id_column)
    return load(Path(data), id_column=id_column, sheet=sheet, table=table, query=query)


@contextmanager
def progress_bar(quiet: bool):
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


def output_steps(callback: Callable[[str, int, int], None], total: int) -> Callable[[str], None]:
    """A ``step`` for the output writers: each file written advances the "write outputs" bar."""
    done = iter(range(1, total + 1))
    return lambda _name: callback("write outputs", next(done), total)


def print_written(written: Mapping[str, object]) -> None:
    for name, path in written.items():
        out.print(f"  wrote [cyan]{path}[/]  ({name})", highlight=False)


@app.command()
def run(
    data: DataArg = None,
    features: FeaturesOpt = None,
    k: Annotated[str, typer.Option("--k", help="Number of segments, or 'auto'.")] = "auto",
    k_range: KRangeOpt = "2..10",
    scale: ScaleOpt = "standard",
    log: LogOpt = None,
    one_hot: OneHotOpt = None,
    missing: MissingOpt = "impute",
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    out_dir: OutDirOpt = Path("out"),
    seed: SeedOpt = 0,
    n_init: Annotated[
        int | None,
        typer.Option("--n-init", help="K-Means restarts per k (10; 3 seeds with spark).", min=1),
    ] = None,
    engine: EngineOpt = "auto",
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Segment naming/actions rules (TOML).")
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Also write the main charts as PNG here.")
    ] = None,
    raw_csv: RawCsvOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    table: TableOpt = None,
    query: QueryOpt = None,
    write_table: WriteTableOpt = None,
    if_exists: IfExistsOpt = "fail",
    write_url: WriteUrlOpt = None,
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", help="Spark master: local[2], spark://host:7077, yarn."),
    ] = None,
    spark_conf: Annotated[
        list[str] | None,
        typer.Option("--spark-conf", help="Spark setting key=value (repeatable)."),
    ] = None,
    spark_output: Annotated[
        str | None,
        typer.Option("--spark-output", help="Where Spark writes assignments (Parquet)."),
    ] = None,
) -> None:
    """Segment a customer table: segments.csv, summary.json, model and report.html in --out."""
    from custseg.engines import ENGINES
    from custseg.outputs.export import OUTPUTS, check_free, write_outputs
    from custseg.read.sql import write_back, write_target
    from custseg.segmentation import segment

    with errors():
        if engine not in ENGINES:
            raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        target = write_target(
            data, table=table, query=query, write_table=write_table, if_exists=if_exists,
            write_url=write_url, spark=engine == "spark",
        )  # fmt: skip
        options = {
            "features": _split(features),
            "k": k,
            "k_range": k_range,
            "scale": scale,
            "log": log,
            "one_hot": _split(one_hot),
            "missing": missing,
            "seed": seed,
            "rules": rules,
        }
        if engine == "spark":
            seg, written = _run_spark(
                data, table, query, id_column, options, n_init, out_dir, force, quiet,
                spark_master, spark_conf, spark_output,
            )  # fmt: skip
        else:
            check_free([out_dir / name for name in OUTPUTS], force)
            with progress_bar(quiet) as callback:
                callback("load data", 0, 1)
                loaded = _load(data, id_column, sheet, table, query)
                callback("load data", 1, 1)
                if target is not None and loaded.id_column is None:
                    raise ConfigError(
                        "--write-table needs a customer id column to write; name it with "
                        "--id-column"
                    )
                seg = segment(
                    loaded, **options, n_init=n_init or 10, engine=engine, progress=callback
                )
                written = write_outputs(
                    seg,
                    out_dir,
                    force=force,
                    png=png,
                    raw_csv=raw_csv,
                    step=output_steps(callback, 4 + (png is not None)),
                )
        if target is not None:
            written[f"table {write_table}"] = write_back(
                seg.assignments(),
                target,
                write_table,
                id_column=seg.table.id_column,
                created=seg.created,
                if_exists=if_exists,
                source_table=table,
            )
        if not quiet:
            _print_segments(seg)
            print_written(written)


def _run_spark(
    data, table, query, id_column, options, n_init, out_dir, force, quiet, master, conf, output
):
    """``run --engine spark``: segment in Spark, write the outputs, stop Spark."""
    from custseg.spark import (
        DEFAULT_SEEDS,
        active_session,
        segment_spark,
        spark_session,
        write_spark_outputs,
    )

    settings = {}
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--spark-conf must look like key=value, not {item!r}")
        settings[key.strip()] = value.strip()
    already = active_session()  # e.g. under spark-submit: not ours to stop
    with progress_bar(quiet) as callback:
        callback("start Spark", 0, 1)
        spark = spark_session(master, settings)
        callback("start Spark", 1, 1)
        seg = None
        try:
            seg = segment_spark(
                data,
                table=table,
                query=query,
                id_column=id_column,
                n_init=n_init or DEFAULT_SEEDS,
                spark=spark,
                progress=callback,
                **options,
            )
            written = write_spark_outputs(
                seg,
                out_dir,
                force=force,
                assignments=output,
                step=output_steps(callback, 4),
            )
        finally:
            if seg is not None:
                seg.close()
            if already is None:
                spark.stop()
    return seg, written


def _print_segments(seg) -> None:
    for note in seg.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    out.print(f"[bold]{seg.k_choice.reason}[/]", highlight=False)
    table = RichTable(title=f"{seg.k} segments of {seg.n_used} customers")
    for col in ("id", "name", "size", "share", *seg.plan.numeric):
        table.add_column(col, justify="left" if col == "name" else "right")
    for p in seg.profiles:
        table.add_row(
            str(p.id),
            p.name,
            str(p.size),
            f"{p.share:.1%}",
            *(f"{p.means[c]:,.1f}" if p.means[c] is not None else "" for c in seg.plan.numeric),
        )
    out.print(table)


@app.command()
def explore(
    data: Annotated[
        str | None, typer.Argument(help="Customer table to describe (file, or database URL).")
    ] = None,
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    db_table: TableOpt = None,
    query: QueryOpt = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write an interactive overview page (HTML) here."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --html.")] = False,
) -> None:
    """Describe a customer table: columns, recognised roles, missing values, statistics."""
    from custseg.outputs.export import check_free
    from custseg.read import numeric_view

    with errors():
        if data is None and db_table is None and query is None:
            raise ConfigError("Name the customer table to describe (a file or a database URL)")
        if html is not None:
            check_free([html], force, elsewhere="another --html path")
        table = _load(data, id_column, sheet, db_table, query)
        frame = table.frame
        out.print(f"[bold]{table.source}[/]: {len(frame)} rows, {frame.shape[1]} columns")
        for note in table.notes:
            out.print(f"[dim]note: {note}[/]", highlight=False)
        rt = RichTable(title="Columns")
        for col in ("column", "role", "missing", "distinct", "mean", "min", "max"):
            rt.add_column(col, justify="left" if col in ("column", "role") else "right")
        for col, role in table.roles.items():
            series = frame[col]
            numeric = role in ("age", "income", "spending", "numeric")
            numbers = numeric_view(series) if numeric else None
            stats = (
                [f"{numbers.mean():,.2f}", f"{numbers.min():,.2f}", f"{numbers.max():,.2f}"]
                if numbers is not None and numbers.notna().any()
                else ["", "", ""]
            )
            rt.add_row(str(col), role, str(int(series.isna().sum())), str(series.nunique()), *stats)
        out.print(rt)
        if html is not None:
            from custseg.outputs.report.overview import render_overview

            render_overview(table, html)
            out.print(f"  wrote [cyan]{html}[/]  (overview)", highlight=False)


@app.command("choose-k")
def choose_k_command(
    data: DataArg = None,
    features: FeaturesOpt = None,
    k_range: KRangeOpt = "2..10",
    scale: ScaleOpt = "standard",
    log: LogOpt = None,
    missing: MissingOpt = "impute",
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    db_table: TableOpt = None,
    query: QueryOpt = None,
    seed: SeedOpt = 0,
    n_init: NInitOpt = 10,
    quiet: QuietOpt = False,
) -> None:
    """Compare numbers of segments (WCSS/elbow, silhouette, Calinski-Harabasz, Davies-Bouldin)."""
    from custseg.segmentation import segment

    with errors():
        table = _load(data, id_column, sheet, db_table, query)
        with progress_bar(quiet) as callback:
            seg = segment(
                table,
                features=_split(features),
                k_range=k_range,
                scale=scale,
                log=log,
                missing=missing,
                n_init=n_init,
                seed=seed,
                progress=callback,
            )
        choice = seg.k_choice
        rt = RichTable(title=f"Choosing k on {', '.join(seg.features)}")
        for col in ("k", "WCSS", "silhouette", "Calinski-Harabasz", "Davies-Bouldin"):
            rt.add_column(col, justify="right")
        for m in choice.metrics:
            mark = " *" if m["k"] == choice.recommended else ""
            rt.add_row(
                f"{m['k']}{mark}",
                f"{m['inertia']:,.2f}",
                *(
                    "" if m[n] is None else f"{m[n]:.3f}"
                    for n in ("silhouette", "calinski_harabasz", "davies_bouldin")
                ),
            )
        out.print(rt)
        if choice.silhouette_sample:
            out.print(f"silhouette computed on a sample of {choice.silhouette_sample:,} rows")
        out.print(f"[bold]Recommended: {choice.reason}[/]", highlight=False)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: staged outputs are removed, nothing half-written


def main() -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    # OpenMP threads that sleep rather than spin while waiting: on a shared machine a spinning
    # K-Means thread starves its partner (measured 15x slower under load); must precede sklearn.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app(prog_name="custseg")


# Subcommands that live in their own modules register themselves on import.
from custseg.cli import dashboard, predict, rfm, serve  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
