"""``custseg choose-k``: compare candidate numbers of segments before committing to one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table as RichTable

from custseg.cli.common import (
    DataArg,
    FeaturesOpt,
    HeaderRowOpt,
    IdOpt,
    KRangeOpt,
    LogOpt,
    MissingOpt,
    NInitOpt,
    QueryOpt,
    QuietOpt,
    RoleOpt,
    ScaleOpt,
    SeedOpt,
    SheetOpt,
    TableOpt,
    errors,
    lazy,
    load_table,
    out,
    progress_bar,
    split_list,
)

if TYPE_CHECKING:
    from custseg import segmentation
    from custseg.pipeline import options as pipeline_options
else:
    segmentation = lazy("custseg.segmentation")
    pipeline_options = lazy("custseg.pipeline.options")

app = typer.Typer()


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
    header_row: HeaderRowOpt = None,
    role: RoleOpt = None,
    db_table: TableOpt = None,
    query: QueryOpt = None,
    seed: SeedOpt = 0,
    n_init: NInitOpt = 10,
    quiet: QuietOpt = False,
) -> None:
    """Compare numbers of segments (WCSS/elbow, silhouette, Calinski-Harabasz, Davies-Bouldin)."""
    with errors():
        options = pipeline_options.SegmentOptions(
            features=split_list(features),
            k_range=k_range,
            scale=scale,
            log=log,
            missing=missing,
            id_column=id_column,
            n_init=n_init,
            seed=seed,
            roles=role,
        )
        table = load_table(data, id_column, sheet, db_table, query, header_row=header_row)
        with progress_bar(quiet) as callback:
            seg = segmentation.segment(table, options, progress=callback)
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
