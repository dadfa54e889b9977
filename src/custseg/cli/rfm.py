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
    PngOpt,
    QuietOpt,
    RawCsvOpt,
    ScaleOpt,
    SeedOpt,
    SheetOpt,
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
    sheet: SheetOpt = None,
    clv: Annotated[
        bool,
        typer.Option(
            "--clv",
            help="Also estimate each customer's future value: expected purchases, chance of "
            "being active, lifetime value (needs pip install 'custseg[clv]').",
        ),
    ] = False,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Days ahead that --clv covers (at least 30).")
    ] = 365,
    discount_rate: Annotated[
        float,
        typer.Option("--discount-rate", help="Yearly discount rate for --clv (0.1 = 10%)."),
    ] = 0.1,
    clv_method: Annotated[
        str,
        typer.Option(
            "--clv-method", help="map (fast, default) or mcmc (samples the uncertainty; slow)."
        ),
    ] = "map",
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
    png: PngOpt = None,
    raw_csv: RawCsvOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Segment customers from transactions: RFM features, K-Means segments, classic RFM scores.

    Writes segments.csv, summary.json, model.skops, report.html and rfm_features.csv in --out.
    With --clv, rfm_features.csv also holds expected_purchases, p_alive, expected_avg_spend and
    clv, and summary.json a clv section.
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
                    invoice=invoice, as_of=as_of, dayfirst=dayfirst, returns=returns, sheet=sheet,
                    clv=clv, horizon=horizon, discount_rate=discount_rate, clv_method=clv_method,
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
                png=png,
                raw_csv=raw_csv,
                step=output_steps(callback, 6 + (png is not None)),  # rules.sql too
                extra={rfm_file: lambda path: export.write_csv(seg.rfm_table, path)},
            )
        if not quiet:
            _print_rfm(seg)
            if seg.value_report is not None:
                _print_values(seg)
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


def _print_values(seg: RFMSegmentation) -> None:
    report = seg.value_report or {}
    days = report["horizon_days"]
    table = RichTable(title=f"Segments by customer value over the next {days} days")
    for col in ("segment", "customers", "total value", "mean value", "share", "still active"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for seg_id, row in seg.segment_values().iterrows():
        table.add_row(
            f"{seg_id} {row['name']}",
            f"{row['customers']:,}",
            f"{row['total_clv']:,.0f}",
            f"{row['mean_clv']:,.2f}",
            f"{row['share_of_value']:.0%}",
            f"{row['mean_p_alive']:.0%}",
        )
    out.print(table)
    out.print(
        f"[dim]customer value: fitted by {report['method']} ({report['method_note']}); "
        f"discounted at {report['discount_rate']:.0%} a year[/]",
        highlight=False,
    )
