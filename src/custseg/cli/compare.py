"""``custseg compare``: who moved between the segments of two finished runs.

Also holds what ``custseg run --previous`` prints about the previous run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from custseg.cli.common import ForceOpt, QuietOpt, RawCsvOpt, errors, lazy, out, print_written

if TYPE_CHECKING:
    from custseg.outputs import export, runs, summary
    from custseg.pipeline.migration import Migration
else:
    export, runs = lazy("custseg.outputs.export"), lazy("custseg.outputs.runs")
    summary = lazy("custseg.outputs.summary")

PreviousOpt = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        help="A previous run's --out folder or model.skops: keep its segment ids and names, "
        "and say who moved.",
    ),
]

app = typer.Typer()


@app.command()
def compare(
    previous_run: Annotated[Path, typer.Argument(help="The older run's --out folder.")],
    current_run: Annotated[Path, typer.Argument(help="The newer run's --out folder.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write migration.csv and migration.json here."),
    ] = None,
    raw_csv: RawCsvOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Who moved between the segments of two finished runs (segments.csv + summary.json)."""
    with errors():
        migration, notes = runs.compare_runs(previous_run, current_run)
        written = {}
        if out_dir is not None:
            written = write_migration(migration, out_dir, force=force, raw_csv=raw_csv)
        if not quiet:
            for note in notes:
                out.print(f"[dim]note: {note}[/]", highlight=False)
            print_migration(migration.summary())
            print_written(written)


def write_migration(
    migration: Migration, out_dir: Path, *, force: bool = False, raw_csv: bool = False
) -> dict[str, Path]:
    """``migration.csv`` and ``migration.json`` into ``out_dir``, staged, with a manifest."""
    names = ("migration.csv", "migration.json")
    export.check_free([out_dir / name for name in names], force)
    with export.staging(out_dir) as tmp:
        export.write_csv(migration.customers, tmp / "migration.csv", raw=raw_csv)
        section = summary.json_ready(migration.summary())
        (tmp / "migration.json").write_text(json.dumps(section, indent=2), encoding="utf-8")
        return export.publish({name: tmp / name for name in names}, out_dir)


def print_identity(identity: dict) -> None:
    """Which segments were carried over from the previous run, and how far each moved."""
    table = RichTable(title="Segments compared with the previous run")
    for col in ("id", "was", "name", "status", "centre moved"):
        table.add_column(col, justify="left" if col in ("name", "status") else "right")
    for s in identity["segments"]:
        share = s.get("moved_share")
        table.add_row(
            "" if s["id"] is None else str(s["id"]),
            "" if s["previous_id"] is None else str(s["previous_id"]),
            s["name"],
            {"carried": "carried over", "appeared": "new", "vanished": "vanished"}[s["status"]],
            "" if share is None else f"{share:.0%} of the gap",
        )
    out.print(table)
    out.print(f"[dim]{identity['rule']}[/]", highlight=False)


def print_migration(migration: dict) -> None:
    """The transition matrix (counts) and the plain-words summary."""
    matrix = migration["matrix"]
    table = RichTable(title="Customers by previous segment (rows) and new segment (columns)")
    table.add_column("previous segment")
    for sid in matrix["segments"]:  # names are in the rows; ids keep the columns narrow
        table.add_column(str(sid), justify="right")
    for sid, name, row in zip(
        matrix["previous_segments"], matrix["previous_names"], matrix["counts"], strict=True
    ):
        table.add_row(f"{sid} {name}", *(f"{n:,}" for n in row))
    out.print(table)
    for line in migration["sentences"]:
        out.print(line, highlight=False)


def print_changes(summary: dict) -> None:
    """What ``run --previous`` adds to the terminal output."""
    if "identity" in summary:
        print_identity(summary["identity"])
    if "migration" in summary:
        print_migration(summary["migration"])
