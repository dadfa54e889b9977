"""custseg: customer segmentation with K-Means that you can trust, explain and act on."""

__version__ = "0.1.0"

from .datasets import sample_customers  # noqa: E402
from .exceptions import (  # noqa: E402
    ConfigError,
    CustsegError,
    DataError,
    ModelFileError,
    SourceError,
)
from .io import Table, load  # noqa: E402
from .model import Segmenter  # noqa: E402
from .persist import load_model  # noqa: E402
from .scoring import SegmentModel  # noqa: E402
from .segmentation import Segmentation, segment  # noqa: E402
from .select import KChoice, choose_k  # noqa: E402

__all__ = [
    "ConfigError",
    "CustsegError",
    "DataError",
    "KChoice",
    "ModelFileError",
    "SegmentModel",
    "Segmentation",
    "Segmenter",
    "SourceError",
    "Table",
    "__version__",
    "choose_k",
    "load",
    "load_model",
    "sample_customers",
    "segment",
]
