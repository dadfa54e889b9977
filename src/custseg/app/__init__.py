"""The Streamlit dashboard (extra ``app``): ``custseg app`` runs :data:`APP_FILE`.

UI only: the page lays out widgets and results, and every computation is a cached call into
the library (:mod:`custseg.app.state`).
"""

from __future__ import annotations

from pathlib import Path

APP_FILE = Path(__file__).with_name("dashboard.py")

__all__ = ["APP_FILE"]
