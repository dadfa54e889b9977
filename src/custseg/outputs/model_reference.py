"""What a model file keeps about its training rows (never the rows themselves).

- the drift reference: decile bins of each numeric feature with the share of training rows in
  each, and the share of each category of a one-hot feature (:mod:`custseg.scoring.drift`
  compares new customers with it);
- probe points for the file's self-check: each training decile and each segment centre, with
  their distances to every centre;
- a checksum of the input, to tell later which data the model was fitted on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custseg.features import FeaturePlan, feature_frame
from custseg.scoring.drift import bin_index

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

N_BINS = 10  # drift reference: deciles of each numeric feature
DECILES = [i / N_BINS for i in range(N_BINS + 1)]


def input_checksum(seg: Segmentation) -> str:
    """SHA-256 of the input file, or of the DataFrame's content when there is no file."""
    path = Path(seg.table.source)
    digest = hashlib.sha256()
    if seg.table.source != "DataFrame" and path.is_file():
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    else:
        digest.update(pd.util.hash_pandas_object(seg.table.frame, index=False).to_numpy())
    return digest.hexdigest()


def numeric_reference(values: pd.Series, deciles: list[float] | None = None) -> dict:
    """Decile bin edges of a training feature and the share of training rows in each bin.

    ``deciles`` (the 11 of ``DECILES``), when already computed, saves sorting the column again.
    """
    finite = values.dropna().to_numpy(dtype=float)
    n = len(values)
    if len(finite) == 0:
        return {"edges": [], "shares": [1.0], "missing": 1.0}
    inner = np.quantile(finite, DECILES[1:-1]) if deciles is None else deciles[1:-1]
    edges = sorted({float(e) for e in inner})
    counts = np.bincount(bin_index(finite, edges), minlength=len(edges) + 1)
    return {
        "edges": edges,
        "shares": (counts / len(finite)).tolist(),
        "missing": float((n - len(finite)) / n) if n else 0.0,
    }


def training_reference(seg: Segmentation) -> tuple[dict, dict]:
    """The ``training`` (segment shares, deciles, drift bins, category shares) and
    ``selfcheck`` (probe rows and their distances) parts of a model file."""
    values = seg.values()
    if not seg.used.all():
        values = values.loc[seg.used]
    # One sort per column serves the probes, the stored deciles and the drift bins.
    deciles = values.quantile(DECILES)
    probes = _probes(seg, deciles)
    probe_distances = seg.model.transform(
        seg.preprocessor.transform(feature_frame(probes, seg.plan))
    )
    categories = {}
    for col in seg.plan.categorical:
        text = feature_frame(seg.table.frame.loc[seg.used], FeaturePlan((), (col,)))[col]
        categories[col] = {str(k): float(v) for k, v in text.value_counts(normalize=True).items()}
    training = {
        "shares": {str(p.id): p.share for p in seg.profiles},
        # Deciles of each numeric feature (kept for format 1 readers and the API).
        "quantiles": {c: deciles[c].tolist() for c in seg.plan.numeric},
        # The reference for drift checks: bins and shares as the training rows fill them.
        "bins": {c: numeric_reference(values[c], deciles[c].tolist()) for c in seg.plan.numeric},
        "categories": categories,
    }
    selfcheck = {
        "columns": list(probes.columns),
        "rows": [[_plain(v) for v in row] for row in probes.itertuples(index=False)],
        "distances": probe_distances.tolist(),
    }
    return training, selfcheck


def _probes(seg: Segmentation, deciles: pd.DataFrame) -> pd.DataFrame:
    """Synthetic probe rows: each decile of every numeric feature, then each segment centre."""
    numeric = list(seg.plan.numeric)
    rows = deciles[numeric].reset_index(drop=True)
    rows = pd.concat([rows, seg.centers[numeric].reset_index(drop=True)], ignore_index=True)
    for col in seg.plan.categorical:
        used = seg.table.frame.loc[seg.used, col].dropna().astype(str)
        rows[col] = used.mode().iloc[0] if len(used) else None
    return rows


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
