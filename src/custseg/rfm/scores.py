"""Classic RFM scores (quintiles 1..5, the R x F segment grid) and the RFM naming rules file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

# R x F score grid of the classic RFM segments (rows: R 1..5, columns: F 1..5).
_HIB, _RISK, _LOSE = "Hibernating", "At risk", "Can't lose them"
_SLEEP, _ATTN, _LOYAL = "About to sleep", "Need attention", "Loyal"
_PROM, _POT, _NEW, _CHAMP = "Promising", "Potential loyalists", "New", "Champions"
RF_GRID = (
    (_HIB, _HIB, _RISK, _RISK, _LOSE),
    (_HIB, _HIB, _RISK, _RISK, _LOSE),
    (_SLEEP, _SLEEP, _ATTN, _LOYAL, _LOYAL),
    (_PROM, _POT, _POT, _LOYAL, _LOYAL),
    (_NEW, _POT, _POT, _CHAMP, _CHAMP),
)


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by population quintile; tied values share the score of their lowest rank."""
    ranks = (values if higher_is_better else -values).rank(method="min")
    n = len(values)
    return (1 + np.floor(5 * (ranks - 1) / max(n, 1))).astype("int64").rename(values.name)


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Classic RFM scores: R, F, M from 1 to 5 (R higher = more recent), the ``RFM`` code and the
    classic segment of the R x F grid (Champions, Loyal, At risk, Hibernating, ...)."""
    r = quintile_scores(features["recency"], higher_is_better=False)
    f = quintile_scores(features["frequency"])
    m = quintile_scores(features["monetary"])
    grid = np.asarray(RF_GRID, dtype=object)
    return pd.DataFrame(
        {
            "R": r.to_numpy(),
            "F": f.to_numpy(),
            "M": m.to_numpy(),
            "RFM": (r.astype(str) + f.astype(str) + m.astype(str)).to_numpy(),
            "rfm_segment": grid[r.to_numpy() - 1, f.to_numpy() - 1],
        },
        index=features.index,
    )


def rfm_rules_path() -> Path:
    """The shipped RFM naming rules (``custseg/data/rfm_rules.toml``)."""
    return Path(str(resources.files("custseg").joinpath("data/rfm_rules.toml")))
