"""``custseg app``: start the Streamlit dashboard (extra ``app``)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer
from rich.markup import escape

from custseg import exceptions
from custseg.app import APP_FILE
from custseg.cli.common import console, errors

LOOPBACK = ("127.0.0.1", "localhost", "::1")

app = typer.Typer()


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the dashboard."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]


@app.command("app")
def app_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8501,
) -> None:
    """Open the interactive dashboard: load a table, try features and k, download segments."""
    with errors():
        exceptions.require("streamlit", "app")
        if host not in LOOPBACK:
            console.print(
                f"[yellow]warning:[/] listening on {escape(host)}: anyone who can reach it can "
                "use the dashboard, including reading tables by server path",
                highlight=False,
            )
        console.print(
            f"custseg dashboard on http://{host}:{port} (Ctrl+C to stop)", highlight=False
        )
        command = streamlit_command(host, port)
        if os.name == "posix":  # become Streamlit: signals and the exit code go straight to it
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(command[0], command)
        try:
            raise typer.Exit(subprocess.call(command))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
