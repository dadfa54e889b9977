"""``custseg explore``: describe a customer table before segmenting it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from custseg.cli.common import (
    HeaderRowOpt,
    IdOpt,
    QueryOpt,
    RoleOpt,
    SheetOpt,
    TableOpt,
    errors,
    lazy,
    load_table,
    out,
)
from custseg.exceptions import ConfigError
from custseg.text import plural

if TYPE_CHECKING:
    from custseg import read, text
    from custseg.outputs import export
    from custseg.outputs.report import overview
    from custseg.pipeline import guidance
    from custseg.pipeline import options as pipeline_options
else:
    pipeline_options = lazy("custseg.pipeline.options")
    read, export = lazy("custseg.read"), lazy("custseg.outputs.export")
    guidance, text = lazy("custseg.pipeline.guidance"), lazy("custseg.text")
    overview = lazy("custseg.outputs.report.overview")

app = typer.Typer()


@app.command()
def explore(
    data: Annotated[
        str | None, typer.Argument(help="Customer table to describe (file, or database URL).")
    ] = None,
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    role: RoleOpt = None,
    db_table: TableOpt = None,
    query: QueryOpt = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write an interactive overview page (HTML) here."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --html.")] = False,
) -> None:
    """Describe a customer table: columns, recognised roles, missing values, statistics."""
    with errors():
        if data is None and db_table is None and query is None:
            raise ConfigError("Name the customer table to describe (a file or a database URL)")
        if html is not None:
            export.check_free([html], force, elsewhere="another --html path")
        roles = pipeline_options.SegmentOptions(roles=role).roles
        table = load_table(
            data, id_column, sheet, db_table, query, header_row=header_row, roles=roles
        )
        frame = table.frame
        out.print(
            f"[bold]{table.source}[/]: {plural(len(frame), 'row')}, "
            f"{plural(frame.shape[1], 'column')}"
        )
        for note in table.notes:
            out.print(f"[dim]note: {note}[/]", highlight=False)
        rt = RichTable(title="Columns")
        for col in ("column", "role", "missing", "distinct", "mean", "min", "max"):
            rt.add_column(col, justify="left" if col in ("column", "role") else "right")
        for col, role in table.roles.items():
            series = frame[col]
            numeric = role in ("age", "income", "spending", "numeric")
            numbers = read.numeric_view(series) if numeric else None
            stats = (
                [f"{numbers.mean():,.2f}", f"{numbers.min():,.2f}", f"{numbers.max():,.2f}"]
                if numbers is not None and numbers.notna().any()
                else ["", "", ""]
            )
            rt.add_row(str(col), role, str(int(series.isna().sum())), str(series.nunique()), *stats)
        out.print(rt)
        print_guidance(table)
        if html is not None:
            overview.render_overview(table, html)
            out.print(f"  wrote [cyan]{html}[/]  (overview)", highlight=False)


def print_guidance(table: read.Table) -> None:
    """Which numeric columns help a segmentation, and why the others do not."""
    numeric = table.columns_with(*read.NUMERIC_ROLES)
    if len(numeric) < 2:
        return
    rt = RichTable(title="Which columns help (feature guidance)")
    for col in ("column", "verdict", "separation", "why"):
        rt.add_column(col, justify="right" if col == "separation" else "left")
    for a in guidance.advise(table.frame, numeric, label=text.humanise):
        sep = "" if a.separation is None else f"{a.separation:.0%}"
        rt.add_row(text.humanise(a.column), a.verdict, sep, a.reason)
    out.print(rt)
    out.print("[dim]--features auto keeps the columns marked 'use'.[/]", highlight=False)
