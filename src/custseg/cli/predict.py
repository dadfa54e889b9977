"""``custseg predict MODEL DATA``: assign new customers to a model's segments, report drift."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from custseg.atomic import temp_sibling
from custseg.cli.common import (
    ForceOpt,
    IdOpt,
    IfExistsOpt,
    QueryOpt,
    QuietOpt,
    RawCsvOpt,
    SheetOpt,
    TableOpt,
    WriteTableOpt,
    WriteUrlOpt,
    errors,
    lazy,
    load_table,
    out,
)
from custseg.exceptions import ConfigError, OutputExistsError
from custseg.text import plural

if TYPE_CHECKING:
    import pandas as pd

    from custseg.outputs import export, model_file, writeback
else:
    pd, writeback = lazy("pandas"), lazy("custseg.outputs.writeback")
    export, model_file = lazy("custseg.outputs.export"), lazy("custseg.outputs.model_file")

DRIFT_EXIT = 3
STATUS_STYLE = {"stable": "green", "watch": "yellow", "moved": "bold red", "inconclusive": "dim"}

app = typer.Typer()


@app.command()
def predict(
    model: Annotated[
        Path, typer.Argument(help="Model file written by custseg run (out/model.skops).")
    ],
    data: Annotated[
        str,
        typer.Argument(
            help="New customers (CSV/TSV, Parquet, Excel, JSON lines), or a database URL or "
            ".db/.sqlite/.duckdb file with --table/--query."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--out", "-o", help="Predictions CSV: the input rows plus segment columns."),
    ] = Path("predictions.csv"),
    drift_path: Annotated[
        Path | None,
        typer.Option(
            "--drift", help="Drift report JSON (default: named after --out, NAME.drift.json)."
        ),
    ] = None,
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    raw_csv: RawCsvOpt = False,
    force: ForceOpt = False,
    fail_on_drift: Annotated[
        bool,
        typer.Option("--fail-on-drift", help=f"Exit with code {DRIFT_EXIT} when anything moved."),
    ] = False,
    quiet: QuietOpt = False,
    table: TableOpt = None,
    query: QueryOpt = None,
    write_table: WriteTableOpt = None,
    if_exists: IfExistsOpt = "fail",
    write_url: WriteUrlOpt = None,
) -> None:
    """Assign new customers to the segments of a saved model and report drift.

    Writes the input rows untouched plus segment, segment_name and distance (to the segment
    centre, in model units) to --out, and the drift report (segment shares, per-feature PSI and
    median shifts against training) to NAME.drift.json beside --out. With --write-table, also
    writes each customer's id, segment id and name, run id and time into a database table, in
    one transaction.
    """
    # Named after --out, so a second day's predictions do not collide with the first's report.
    drift_path = drift_path or output.with_name(f"{output.stem}.drift.json")
    with errors():
        # Checked before any work: a refused or unreachable target fails in a second.
        target = writeback.write_target(
            data, table=table, query=query, write_table=write_table, if_exists=if_exists,
            write_url=write_url,
        )  # fmt: skip
        # The inputs first: a mistyped input should say so, not that an output exists.
        segment_model = model_file.load_model(model)
        loaded = load_table(data, id_column, sheet, table, query)
        existing = [str(p) for p in (output, drift_path) if p.exists()]
        if existing and not force:
            raise OutputExistsError(
                f"Output already exists: {', '.join(existing)}; pass --force to overwrite, or "
                "choose other paths with --out and --drift"
            )
        if target is not None and loaded.id_column is None:
            raise ConfigError(
                "--write-table needs a customer id column to write; name it with --id-column"
            )
        result = segment_model.predict(loaded)
        _write(result, output, drift_path, raw_csv)
        written = None
        if target is not None:
            written = _write_back(result, loaded.id_column, target, write_table, if_exists, table)
        if not quiet:
            from_db = table is not None or query is not None
            _print(segment_model, result, loaded.source if from_db else Path(loaded.source).name)
            out.print(f"  wrote [cyan]{output}[/]  (predictions)", highlight=False)
            out.print(f"  wrote [cyan]{drift_path}[/]  (drift report)", highlight=False)
            if written is not None:
                out.print(f"  wrote [cyan]{written}[/]  (table {write_table})", highlight=False)
    if fail_on_drift and result.drift.moved:
        raise typer.Exit(DRIFT_EXIT)


def _write(result, output: Path, drift_path: Path, raw_csv: bool) -> None:
    """Write both files into a staging folder beside --out, then move them into place.

    The staging folder is locked while this run lives, so a run killed mid-write leaves a folder
    the next run into the same place removes (as ``custseg run`` does), never a stray file.
    """
    folder = output.parent
    with ExitStack() as cleanup:
        tmp = cleanup.enter_context(export.staging(folder))
        staged_out = tmp / "predictions"
        if drift_path.parent.resolve() == folder.resolve():
            staged_drift = tmp / "drift"
        else:  # another folder: staged beside its target, so the move stays atomic
            staged_drift = temp_sibling(drift_path)
            cleanup.callback(staged_drift.unlink, missing_ok=True)
        export.write_csv(result.assignments, staged_out, raw=raw_csv)
        staged_drift.write_text(json.dumps(result.drift.to_dict(), indent=2), encoding="utf-8")
        with export.folder_lock(folder):
            os.replace(staged_out, output)
            os.replace(staged_drift, drift_path)


def _write_back(result, id_column, url, write_table, if_exists, source_table) -> str:
    """Each customer's id, segment id and name, run id and time into ``write_table`` (one
    transaction, as ``run --write-table``); the segment columns are the ones predict added, even
    when the input had its own ``segment`` column (then ``segment_custseg``, ...)."""
    assigned = result.assignments
    segment, name = assigned.columns[-3], assigned.columns[-2]  # before distance: see _assign
    rows = pd.DataFrame(
        {
            "customer_id": assigned[id_column].to_numpy(),
            "segment": assigned[segment].to_numpy(),
            "segment_name": assigned[name].to_numpy(),
        }
    )
    return writeback.write_back(
        rows,
        url,
        write_table,
        id_column="customer_id",
        created=datetime.now(UTC),
        if_exists=if_exists,
        source_table=source_table,
    )


def _print(model, result, source: str) -> None:
    for note in model.notes:
        out.print(f"[dim]note: model: {note}[/]", highlight=False)
    for feature, column in result.mapping.items():
        if feature != column:
            out.print(f"[dim]note: used column {column!r} for feature {feature!r}[/]")
    if result.unused:
        out.print(
            f"[dim]note: ignored columns the model does not use: "
            f"{', '.join(map(repr, result.unused))}[/]",
            highlight=False,
        )
    for note in result.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    drift = result.drift
    seg_table = RichTable(
        title=f"{plural(drift.n_rows, 'customer')} from {source} in "
        f"{len(drift.segments)} segments (training: {drift.n_training:,})"
    )
    for col in ("id", "name", "customers", "share now", "at training", "change"):
        seg_table.add_column(col, justify="left" if col == "name" else "right")
    for s in drift.segments:
        seg_table.add_row(
            str(s.id),
            s.name,
            f"{s.count:,}",
            f"{s.now:.1%}",
            f"{s.training:.1%}",
            f"{100 * s.change:+.1f} pts",
        )
    out.print(seg_table)
    feat_table = RichTable(title="Drift against training (PSI over training deciles)")
    columns = ("feature", "PSI", "p-value", "status", "median then", "median now", "change")
    for col in (*columns, "missing now"):
        feat_table.add_column(col, justify="left" if col in ("feature", "status") else "right")
    rows = [
        ("segment shares", drift.segment_psi, drift.segment_p_value, drift.segment_status, None)
    ] + [(f.feature, f.psi, f.p_value, f.status, f) for f in drift.features]
    for name, value, p, state, f in rows:
        feat_table.add_row(
            name,
            f"{value:.3f}",
            "" if p is None else f"{p:.3g}",
            f"[{STATUS_STYLE[state]}]{state}[/]",
            "" if f is None or f.median_training is None else f"{f.median_training:,.2f}",
            "" if f is None or f.median_now is None else f"{f.median_now:,.2f}",
            "" if f is None or f.median_change is None else f"{f.median_change:+.0%}",
            "" if f is None else f"{f.missing_now:.1%}",
        )
    out.print(feat_table)
    if drift.moved:
        out.print(
            f"[bold red]Moved since training: {', '.join(drift.moved)}[/]; the segments may no "
            "longer describe these customers well: consider re-fitting with custseg run",
            highlight=False,
        )
    else:
        out.print(
            "[green]Nothing moved beyond the thresholds[/] (moved: PSI >= 0.2, or a median of "
            "amounts or counts 40% away, with p < 0.05)",
            highlight=False,
        )
