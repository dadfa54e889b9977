"""A fitted model applied to new customers: assignments (``SegmentModel``) and drift checks."""

from custseg.scoring.scorer import Prediction, SegmentModel

__all__ = ["Prediction", "SegmentModel"]
