"""The Spark engine: segment customers that do not fit on one machine.

:func:`segment_spark` runs the whole segmentation in Spark (reading, features, the k search, the
fit and the profile statistics) and returns a :class:`SparkSegmentation`, a
:class:`~custseg.Segmentation` whose preprocessor and ``Segmenter`` are the scikit-learn ones
carrying Spark's learned statistics and centres: the summary, the report and the model file are
the single-machine ones, and ``custseg predict`` scores with a model fitted on Spark.
:func:`write_spark_outputs` writes its output folder.

Rooms: ``session`` (PySpark and the session), ``source`` (reading), ``features`` (the Spark ML
feature pipeline and its scikit-learn twin), ``engine`` (Spark KMeans; the ``spark`` engine of
``Segmenter``), ``checks`` (values over every row), ``search`` (the k search at scale),
``profile`` (segment statistics), ``run`` (the whole run) and ``outputs``.
"""

from custseg.spark.engine import DEFAULT_SEEDS, fit
from custseg.spark.outputs import write_spark_outputs
from custseg.spark.run import SparkSegmentation, segment_spark
from custseg.spark.session import active_session, quiet_pandas, spark_session

__all__ = [
    "DEFAULT_SEEDS",
    "SparkSegmentation",
    "active_session",
    "fit",
    "quiet_pandas",
    "segment_spark",
    "spark_session",
    "write_spark_outputs",
]
