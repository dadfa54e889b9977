"""custseg: customer segmentation with K-Means that you can trust, explain and act on.

The public names load on first use (PEP 562), so ``custseg --help`` starts without importing
scikit-learn, pandas or plotly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "ConfigError": "custseg.exceptions",
    "CustsegError": "custseg.exceptions",
    "DataError": "custseg.exceptions",
    "ModelFileError": "custseg.exceptions",
    "SourceError": "custseg.exceptions",
    "KChoice": "custseg.pipeline.search",
    "SegmentModel": "custseg.scoring.scorer",
    "Segmentation": "custseg.segmentation",
    "SegmentOptions": "custseg.pipeline.options",
    "Segmenter": "custseg.model",
    "Table": "custseg.read",
    "choose_k": "custseg.pipeline.search",
    "load": "custseg.read",
    "load_model": "custseg.outputs.model_file",
    "sample_customers": "custseg.datasets",
    "segment": "custseg.segmentation",
}

__all__ = [
    "__version__",
    "ConfigError",
    "CustsegError",
    "DataError",
    "KChoice",
    "ModelFileError",
    "SegmentModel",
    "SegmentOptions",
    "Segmentation",
    "Segmenter",
    "SourceError",
    "Table",
    "choose_k",
    "load",
    "load_model",
    "sample_customers",
    "segment",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load lazily below
    from custseg.datasets import sample_customers
    from custseg.exceptions import ConfigError, CustsegError, DataError, ModelFileError, SourceError
    from custseg.model import Segmenter
    from custseg.outputs.model_file import load_model
    from custseg.pipeline.options import SegmentOptions
    from custseg.pipeline.search import KChoice, choose_k
    from custseg.read import Table, load
    from custseg.scoring.scorer import SegmentModel
    from custseg.segmentation import Segmentation, segment


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'custseg' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
