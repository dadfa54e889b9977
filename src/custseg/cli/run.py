"""``custseg run``: segment a customer table and write the segments, summary, model and report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from custseg.cli.common import (
    DataArg,
    EngineOpt,
    FeaturesOpt,
    ForceOpt,
    HeaderRowOpt,
    IdOpt,
    IfExistsOpt,
    KOpt,
    KRangeOpt,
    LogOpt,
    MissingOpt,
    NInitOpt,
    OneHotOpt,
    OutDirOpt,
    PngOpt,
    QueryOpt,
    QuietOpt,
    RawCsvOpt,
    RoleOpt,
    ScaleOpt,
    SeedOpt,
    SheetOpt,
    TableOpt,
    TenureOpt,
    WriteTableOpt,
    WriteUrlOpt,
    errors,
    lazy,
    load_table,
    output_steps,
    print_segments,
    print_written,
    progress_bar,
    split_list,
)
from custseg.cli.compare import PreviousOpt, print_changes
from custseg.cli.rules_block import print_rules
from custseg.exceptions import ConfigError

if TYPE_CHECKING:
    from custseg import segmentation, spark
    from custseg.outputs import export, writeback
    from custseg.pipeline import options as pipeline_options
else:
    segmentation, spark = lazy("custseg.segmentation"), lazy("custseg.spark")
    export, writeback = lazy("custseg.outputs.export"), lazy("custseg.outputs.writeback")
    pipeline_options = lazy("custseg.pipeline.options")

app = typer.Typer()


@app.command()
def run(
    data: DataArg = None,
    features: FeaturesOpt = None,
    k: KOpt = "auto",
    k_range: KRangeOpt = "2..10",
    scale: ScaleOpt = "standard",
    log: LogOpt = None,
    one_hot: OneHotOpt = None,
    missing: MissingOpt = "impute",
    id_column: IdOpt = None,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    role: RoleOpt = None,
    tenure: TenureOpt = None,
    out_dir: OutDirOpt = Path("out"),
    seed: SeedOpt = 0,
    n_init: NInitOpt = 10,
    engine: EngineOpt = "auto",
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Segment naming/actions rules (TOML).")
    ] = None,
    rule_depth: Annotated[
        int,
        typer.Option(
            "--rule-depth", help="Most conditions in a segment's rule (3); more is more faithful."
        ),
    ] = 3,
    png: PngOpt = None,
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
    previous: PreviousOpt = None,
) -> None:
    """Segment a customer table: segments.csv, summary.json, model and report.html in --out."""
    with errors():
        # Every flag is checked here, before any data is read or output touched.
        options = pipeline_options.SegmentOptions(
            features=split_list(features),
            k=k,
            k_range=k_range,
            scale=scale,
            log=log,
            one_hot=split_list(one_hot),
            missing=missing,
            id_column=id_column,
            n_init=n_init,
            seed=seed,
            engine=engine,
            rules=rules,
            roles=role,
            tenure=split_list(tenure),
            rule_depth=rule_depth,
        )
        target = writeback.write_target(
            data, table=table, query=query, write_table=write_table, if_exists=if_exists,
            write_url=write_url, spark=engine == "spark",
        )  # fmt: skip
        if engine == "spark" and previous is not None:
            raise ConfigError("--previous does not work with --engine spark yet; run without it")
        if engine == "spark":
            seg, written = _run_spark(
                data, table, query, options, out_dir, force, quiet,
                spark_master, spark_conf, spark_output,
            )  # fmt: skip
        else:
            export.check_free(
                [out_dir / name for name in (*export.OUTPUTS, export.RULES_SQL)], force
            )
            with progress_bar(quiet) as callback:
                callback("load data", 0, 1)
                loaded = load_table(data, id_column, sheet, table, query, header_row=header_row)
                callback("load data", 1, 1)
                if target is not None and loaded.id_column is None:
                    raise ConfigError(
                        "--write-table needs a customer id column to write; name it with "
                        "--id-column"
                    )
                seg = segmentation.segment(loaded, options, progress=callback, previous=previous)
                written = export.write_outputs(
                    seg,
                    out_dir,
                    force=force,
                    png=png,
                    raw_csv=raw_csv,
                    step=output_steps(  # rules.sql and migration.csv too
                        callback, 5 + (png is not None) + (seg.migration is not None)
                    ),
                )
        if target is not None:
            written[f"table {write_table}"] = writeback.write_back(
                seg.assignments(),
                target,
                write_table,
                id_column=seg.table.id_column,
                created=seg.created,
                if_exists=if_exists,
                source_table=table,
            )
        if not quiet:
            print_segments(seg)
            print_rules(seg)
            if previous is not None:
                print_changes(seg.summary())
            print_written(written)


def _run_spark(
    data: str | None,
    table: str | None,
    query: str | None,
    options: pipeline_options.SegmentOptions,
    out_dir: Path,
    force: bool,
    quiet: bool,
    master: str | None,
    conf: list[str] | None,
    output: str | None,
) -> tuple[spark.SparkSegmentation, dict[str, object]]:
    """``run --engine spark``: segment in Spark, write the outputs, stop Spark."""
    settings = {}
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--spark-conf must look like key=value, not {item!r}")
        settings[key.strip()] = value.strip()
    already = spark.active_session()  # e.g. under spark-submit: not ours to stop
    with progress_bar(quiet) as callback:
        callback("start Spark", 0, 1)
        session = spark.spark_session(master, settings)
        callback("start Spark", 1, 1)
        seg = None
        try:
            seg = spark.segment_spark(
                data, options, table=table, query=query, spark=session, progress=callback
            )
            written = spark.write_spark_outputs(
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
                spark.stop_session(session)  # quiet when the JVM already died
    return seg, written
