"""Versions of custseg and the libraries that shape its results, recorded with every run."""

from __future__ import annotations

import platform
from importlib.metadata import version

from custseg import __version__


def versions() -> dict[str, str]:
    """custseg, Python, NumPy, pandas and scikit-learn versions."""
    return {
        "custseg": __version__,
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "pandas": version("pandas"),
        "scikit-learn": version("scikit-learn"),
    }
