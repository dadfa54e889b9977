"""``custseg rfm``: segment customers from raw transactions (recency, frequency, monetary)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from custseg.cli.common import (
    EngineOpt,
    ForceOpt,
    KOpt,
    KRangeOpt,
    NInitOpt,
    OutDirOpt,
    QuietOpt,
    ScaleOpt,
    SeedOpt,
    errors,
    lazy,
    out,
    output_steps,
    print_segments,
    print_written,
    progress_bar,
    split_list,
)

if TYPE_CHECKING:
    from custseg import rfm as rfm_pipeline
    from custseg.outputs import export
    from custseg.rfm import RFMSegmentation
else:
    rfm_pipeline, export = lazy("custseg.rfm"), lazy("custseg.outputs.export")

FeaturesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        "-f",
        help="Features among recency, frequency, monetary, tenure, avg_order_value "
        "(comma-separated; default recency,frequency,monetary).",
    ),
]
LogOpt = Annotated[
    str | None,
    typer.Option(
        "--log",
        help="Log-transformed features (default frequency, monetary, avg_order_value), "
        "'auto' or 'none'.",
    ),
]

app = typer.Typer()


@app.command()
def rfm(
    transactions: Annotated[
        str,
        typer.Argument(
            help="Transactions: CSV/TSV/TXT (also headerless, whitespace-separated), Parquet, "
            "Excel or JSON lines; one row per order or order line."
        ),
    ],
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer id column (name or position).")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Purchase date column.")] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Amount spent per row (line total).")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="Quantity column (negative = return).")
    ] = None,
    price: Annotated[
        str | None,
        typer.Option("--price", help="Unit price column: amount = quantity x price."),
    ] = None,
    invoice: Annotated[
        str | None,
        typer.Option("--invoice", help="Invoice/order number column ('C...' = cancellation)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Measure recency to this date (default: day after the last)."),
    ] = None,
    dayfirst: Annotated[
        bool, typer.Option("--dayfirst", help="Read 01/02/1997 as 1 February (dd/mm/yyyy).")
    ] = False,
    returns: Annotated[
        str, typer.Option("--returns", help="Returns/cancellations: net (subtract) or exclude.")
    ] = "net",
    features: FeaturesOpt = None,
    k: KOpt = "auto",
    k_range: KRangeOpt = "2..10",
    scale: ScaleOpt = "standard",
    log: LogOpt = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Segment naming rules (TOML); default RFM ones.")
    ] = None,
    out_dir: OutDirOpt = Path("out"),
    seed: SeedOpt = 0,
    n_init: NInitOpt = 10,
    engine: EngineOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Segment customers from transactions: RFM features, K-Means segments, classic RFM scores.

    Writes segments.csv, summary.json, model.skops, report.html and rfm_features.csv in --out.
    """
    with errors():
        rfm_file = rfm_pipeline.RFM_FILENAME
        export.check_free(
            [out_dir / name for name in (*export.OUTPUTS, export.RULES_SQL, rfm_file)], force
        )
        with progress_bar(quiet) as callback:
            seg = rfm_pipeline.segment_rfm(
                transactions,
                rfm=rfm_pipeline.RFMOptions(
                    customer=customer, date=date, amount=amount, quantity=quantity, price=price,
                    invoice=invoice, as_of=as_of, dayfirst=dayfirst, returns=returns,
                ),  # fmt: skip
                progress=callback,
                # RFM supplies its own default features, log and rules where these are None.
                features=split_list(features), k=k, k_range=k_range, log=log, scale=scale,
                rules=rules, n_init=n_init, seed=seed, engine=engine,
            )  # fmt: skip
            written = export.write_outputs(
                seg,
                out_dir,
                force=force,
                step=output_steps(callback, 6),  # rules.sql too
                extra={rfm_file: lambda path: export.write_csv(seg.rfm_table, path)},
            )
        if not quiet:
            _print_rfm(seg)
            print_written(written)


def _print_rfm(seg: RFMSegmentation) -> None:
    report = seg.rfm_report
    print_segments(seg)
    out.print(
        f"total spend {report['total_spend']:,.2f}; frequency counts "
        f"{report['frequency_counts']}; returns {report['returns']['rule']}",
        highlight=False,
    )
    crosstab = seg.comparison()
    table = RichTable(title="K-Means segments against classic RFM scores (quintiles, 5 = best)")
    for col in ("segment", "size", "R", "F", "M", "most common RFM segment"):
        table.add_column(col, justify="left" if col != "size" and len(col) > 1 else "right")
    for seg_id, row in seg.score_means().iterrows():
        counts = crosstab.loc[row["name"]]
        top = counts.idxmax()
        size = int(counts.sum())
        table.add_row(
            f"{seg_id} {row['name']}",
            f"{size:,}",
            f"{row['R']:.1f}",
            f"{row['F']:.1f}",
            f"{row['M']:.1f}",
            f"{top} ({counts[top] / size:.0%})",
        )
    out.print(table)
