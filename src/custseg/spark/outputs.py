"""A Spark run's output folder: the single-machine ``summary.json``, model and report, and every
row's segment as Parquet, written by the executors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from custseg.exceptions import ConfigError
from custseg.outputs.export import check_free, publish, staging, write_run_files
from custseg.outputs.model_file import MODEL_FILENAME
from custseg.spark.failures import stage
from custseg.spark.session import is_local

if TYPE_CHECKING:
    from custseg.spark.run import SparkSegmentation


def write_spark_outputs(
    seg: SparkSegmentation,
    out_dir: str | Path = "out",
    *,
    force: bool = False,
    assignments: str | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, str | Path]:
    """Write ``summary.json``, the model and ``report.html`` into ``out_dir`` (atomically, as
    :func:`custseg.outputs.export.write_outputs`), and the assignments as Parquet: by default
    the folder ``out_dir/segments.parquet``, or ``assignments`` (any URI executors can reach)."""
    out_dir = Path(out_dir)
    say = step or (lambda _name: None)
    files = ("summary.json", MODEL_FILENAME, "report.html")
    local_parquet = assignments is None
    targets = [out_dir / f for f in files]
    if local_parquet:
        targets.append(out_dir / "segments.parquet")
        master = seg.spark_frame.sparkSession.sparkContext.master
        if not is_local(master):
            raise ConfigError(
                f"Spark runs on {master!r}: executors cannot write into the local folder "
                f"'{out_dir}'; pass --spark-output with a shared location (hdfs://..., s3a://...)"
            )
    check_free(targets, force)
    placed: dict[str, str | Path] = {}
    spark = seg.spark_frame.sparkSession
    with stage("writing", spark), staging(out_dir) as tmp:
        write_run_files(seg, tmp, say)
        say("segments.parquet")
        if local_parquet:
            seg.write_assignments(str((tmp / "segments.parquet").resolve()))
        else:
            placed["segments.parquet"] = seg.write_assignments(
                assignments, mode="overwrite" if force else "errorifexists"
            )
        # The local Parquet folder is published with the rest, so the manifest lists its parts.
        published = (*files, "segments.parquet") if local_parquet else files
        placed |= publish({f: tmp / f for f in published}, out_dir)
    return placed
