"""The ``custseg`` command: one sub-app per command, composed here.

Each command module parses its options, calls the library and prints with Rich; what they share
(errors, option types, progress) is in :mod:`custseg.cli.common`. Library errors become one red
line and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from custseg import __version__
from custseg.cli import choose_k, dashboard, explore, predict, rfm, run, serve

app = typer.Typer(
    name="custseg",
    help="Customer segmentation with K-Means: segments you can trust, explain and act on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custseg {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Customer segmentation with K-Means: segments you can trust, explain and act on."""


# Added without a name, a sub-app's command joins this group directly: ``custseg run``.
app.add_typer(run.app)
app.add_typer(explore.app)
app.add_typer(choose_k.app)
app.add_typer(dashboard.app)
app.add_typer(predict.app)
app.add_typer(rfm.app)
app.add_typer(serve.app)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: staged outputs are removed, nothing half-written


def main() -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    # OpenMP threads that sleep rather than spin while waiting: on a shared machine a spinning
    # K-Means thread starves its partner (measured 15x slower under load); must precede sklearn.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app(prog_name="custseg")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
