"""The k search of a Spark run, on the driver: a seeded sample of the feature vectors comes to the
driver and the single-machine search (:func:`custseg.pipeline.search.search_k`) compares k on
it, so both engines give the same k, metrics and reasons on the same rows.

The sample is small by the sampling rule (``options.k_search_rows``, 25,000 rows): scikit-learn
compares k on it in seconds, where Spark jobs over so few rows spend their time scheduling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from custseg.pipeline.options import SegmentOptions
from custseg.pipeline.search import KChoice, Search, search_k
from custseg.segmentation import Progress

# The Bernoulli sample brought to the driver is this much larger than k_search_rows, so it holds
# at least that many rows (the search then takes exactly k_search_rows of them, seeded).
OVERSAMPLE = 1.2
# The engine the driver compares k with: the single-machine default.
DRIVER_ENGINE = SegmentOptions.engine


@dataclass
class SparkSearch:
    """The k search of a Spark run: the evidence, the k used, and the rows it compared k on."""

    choice: KChoice
    k: int
    n_rows: int  # rows the candidates were compared on
    sampled: bool  # those rows are a seeded sample of the used rows
    rows: np.ndarray  # those rows' scaled features (the final fit's start, when no k fitted)
    variance: float  # the features' mean variance on those rows (the fit's stopping rule)


def search_on_driver(
    features: Any,
    names: Sequence[str],
    n_used: int,
    options: SegmentOptions,
    columns: Sequence[str],
    progress: Progress,
) -> SparkSearch:
    """Bring a seeded sample of ``features`` (``n_used`` rows; the scaled features as the double
    columns ``names``) to the driver and compare k there with the single-machine search
    (``columns`` name the features in messages)."""
    size = options.k_search_rows
    frame = features
    if n_used > size:
        frame = features.sample(False, min(1.0, OVERSAMPLE * size / n_used), options.seed)
    collected = frame.select(*names).collect()
    Z = np.array([tuple(r) for r in collected], dtype=np.float64).reshape(-1, len(names))
    driver_options = options.replace(engine=DRIVER_ENGINE)
    found: Search = search_k(Z, driver_options, features=columns, progress=progress)
    rows = Z if found.sample is None else Z[found.sample]
    variance = float(np.mean(np.var(rows, axis=0))) if len(rows) else 1.0
    return SparkSearch(found.choice, found.k, len(rows), len(rows) < n_used, rows, variance)
