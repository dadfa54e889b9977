"""K-Means engines, looked up by name; each has ``fit(X, n_clusters, ...) -> KMeansResult``.

``auto`` is full Lloyd (scikit-learn); on large tables ``segment()`` compares candidate k on a
sample and warm-starts the final full-data Lloyd fit from the sample's solution.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from ..exceptions import ConfigError

# name -> module under custseg.engines
ENGINES = {
    "auto": "sklearn",
    "lloyd": "sklearn",
    "elkan": "sklearn",
    "minibatch": "minibatch",
    "spark": "spark",  # in-memory arrays; segment_spark runs the whole segmentation in Spark
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
        raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}")
    return importlib.import_module(f"{__name__}.{ENGINES[name]}")
