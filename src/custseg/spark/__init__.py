"""The Spark engine: segment customers that do not fit on one machine.

:func:`segment_spark` runs the whole segmentation in Spark (reading, features, the k search, the
fit and the profile statistics; the k search on a sample runs on the driver with the
single-machine code) and returns a :class:`SparkSegmentation`, a
:class:`~custseg.Segmentation` whose preprocessor and ``Segmenter`` are the scikit-learn ones
carrying Spark's learned statistics and centres: the summary, the report and the model file are
the single-machine ones, and ``custseg predict`` scores with a model fitted on Spark.
:func:`write_spark_outputs` writes its output folder.

Rooms: ``session`` (PySpark and the session), ``source`` (reading), ``features`` (the Spark ML
feature pipeline and its scikit-learn twin), ``engine`` (Spark KMeans; the ``spark`` engine of
``Segmenter``), ``checks`` (values over every row), ``search`` (the k search on the driver),
``lloyd`` (the final fit on every row), ``failures`` (what a failed stage tells the user),
``profile`` (segment statistics), ``run`` (the whole run) and ``outputs``.
"""

from custseg.pipeline.options import SegmentOptions
from custseg.spark.engine import fit
from custseg.spark.failures import SparkFailure
from custseg.spark.outputs import write_spark_outputs
from custseg.spark.run import SparkSegmentation, segment_spark
from custseg.spark.session import active_session, quiet_pandas, spark_session, stop_session

# K-Means restarts per k of a Spark run's k search: the single-machine default, since that
# search now runs on the driver with the single-machine code.
DEFAULT_SEEDS = SegmentOptions.n_init

__all__ = [
    "DEFAULT_SEEDS",
    "SparkFailure",
    "SparkSegmentation",
    "active_session",
    "fit",
    "quiet_pandas",
    "segment_spark",
    "spark_session",
    "stop_session",
    "write_spark_outputs",
]
