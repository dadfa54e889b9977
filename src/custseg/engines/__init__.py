"""K-Means engines, looked up by name; each has ``fit(X, n_clusters, ...) -> KMeansResult``.

``auto`` is full Lloyd (scikit-learn); on large tables ``segment()`` compares candidate k on a
sample and warm-starts the final full-data Lloyd fit from the sample's solution.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from custseg.exceptions import OptionError

# name -> the module whose ``fit`` does the work
ENGINES = {
    "auto": "custseg.engines.sklearn",
    "lloyd": "custseg.engines.sklearn",
    "elkan": "custseg.engines.sklearn",
    "minibatch": "custseg.engines.minibatch",
    # in-memory arrays fitted in Spark; segment_spark runs the whole segmentation in Spark
    "spark": "custseg.spark.engine",
}


@dataclass
class KMeansResult:
    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int


def get_engine(name: str):
    """The engine module for ``name`` (its ``fit`` function does the work)."""
    if name not in ENGINES:
        raise OptionError("engine", f"{{option}} must be one of {', '.join(ENGINES)}, not {name!r}")
    return importlib.import_module(ENGINES[name])
