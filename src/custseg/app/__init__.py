"""The Streamlit dashboard (extra ``app``): ``custseg app`` runs :data:`APP_FILE`.

UI only: the page lays out widgets and results, and every computation is a cached call into
the library (:mod:`custseg.app.state`).
"""

from __future__ import annotations

from pathlib import Path

APP_FILE = Path(__file__).with_name("dashboard.py")
# Settings the `custseg app` command shows in its help, here so `custseg --help` stays light.
TOKEN_ENV = "CUSTSEG_APP_TOKEN"
DEFAULT_MAX_UPLOAD_MB = 200  # Streamlit's own default

__all__ = ["APP_FILE", "DEFAULT_MAX_UPLOAD_MB", "TOKEN_ENV"]
