"""``custseg --help`` loads no scientific library; they load when a command runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "pandas", "numpy", "scipy", "plotly", "pyarrow")

# Runs the console entry point with ``argv`` in a fresh interpreter, then reports what it loaded.
PROBE = """
import json, sys
{before}
from custseg.cli import main
sys.argv = ["custseg", *{argv!r}]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"code": code, "loaded": loaded}}))
"""


def probe(argv: list[str], before: str = "") -> tuple[dict, str]:
    code = PROBE.format(before=before, argv=argv, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["explore", "--help"],
        ["choose-k", "--help"],
        ["predict", "--help"],
        ["rfm", "--help"],
        ["serve", "--help"],
        ["app", "--help"],
    ],
)
def test_help_loads_no_scientific_library(argv):
    result, output = probe(argv)
    assert result["code"] == 0
    assert "Usage" in output
    assert result["loaded"] == [], f"custseg {' '.join(argv)} imported {result['loaded']}"


def test_the_probe_sees_a_heavy_import():
    result, _ = probe(["--help"], before="import pandas")
    assert "pandas" in result["loaded"]
