"""``custseg app``: start the Streamlit dashboard (extra ``app``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from custseg import exceptions
from custseg.app import APP_FILE, DEFAULT_MAX_UPLOAD_MB, TOKEN_ENV
from custseg.cli.common import console, errors, lazy
from custseg.cli.serve import is_loopback

if TYPE_CHECKING:
    from custseg.app import access
else:  # reads the table layer (pandas): only when the command runs, not for --help
    access = lazy("custseg.app.access")

app = typer.Typer()


def streamlit_command(
    host: str, port: int, max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
) -> list[str]:
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
        "--server.maxUploadSize",
        str(max_upload_mb),
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
        str,
        typer.Option(
            "--host",
            help=f"Address to listen on (loopback by default); anything else needs ${TOKEN_ENV}.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8501,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder of tables the page may open by path; without it, upload and sample only.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest file a user may upload, in MB.", min=1)
    ] = DEFAULT_MAX_UPLOAD_MB,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="A previous run's --out folder or model.skops: keep its segment ids and names.",
            exists=True,
        ),
    ] = None,
) -> None:
    """Open the interactive dashboard: load a table, try features and k, download segments."""
    with errors():
        exceptions.require("streamlit", "app")
        environ = access.launch_environment(
            host, loopback=is_loopback(host), data_dir=data_dir, previous=previous
        )
        signing = "sign-in required" if access.expected_token(environ) else "no sign-in"
        folder = environ.get(access.DATA_DIR_ENV)
        console.print(
            f"custseg dashboard on http://{escape(host)}:{port} ({signing}; "
            + (f"tables from {escape(folder)}" if folder else "no server paths")
            + "; Ctrl+C to stop)",
            highlight=False,
        )
        command = streamlit_command(host, port, max_upload_mb)
        if os.name == "posix":  # become Streamlit: signals and the exit code go straight to it
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(command[0], command, environ)
        try:
            raise typer.Exit(subprocess.call(command, env=environ))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
