"""``custseg serve MODEL``: the REST scoring service (FastAPI + uvicorn, extra ``api``).

Security rule: it listens on 127.0.0.1 by default. Bound to any other address it requires a
bearer token from the environment variable ``CUSTSEG_API_TOKEN`` and refuses to start without
one. A token set in the environment is enforced on loopback too.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from custseg import api, exceptions
from custseg.api import TOKEN_ENV
from custseg.cli.common import console, errors, lazy
from custseg.exceptions import ConfigError

if TYPE_CHECKING:
    from custseg.outputs import model_file
else:
    model_file = lazy("custseg.outputs.model_file")

MIN_TOKEN_LENGTH = 16
_MAKE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def token_for(host: str, environ: dict[str, str] | None = None) -> str | None:
    """The bearer token to enforce for ``host``, or ``None``; raise when the rule is broken."""
    environ = os.environ if environ is None else environ
    token = (environ.get(TOKEN_ENV) or "").strip() or None
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"Refusing to listen on {host!r} without a token: anyone who can reach it could use "
            f"the service. Set {TOKEN_ENV} to a secret of at least {MIN_TOKEN_LENGTH} characters "
            f"(e.g. export {TOKEN_ENV}=$({_MAKE_TOKEN})) or keep the default --host 127.0.0.1"
        )
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"{TOKEN_ENV} is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} "
            f"(e.g. export {TOKEN_ENV}=$({_MAKE_TOKEN}))"
        )
    return token


app = typer.Typer()


@app.command()
def serve(
    model: Annotated[
        Path, typer.Argument(help="Model file written by custseg run (out/model.skops).")
    ],
    host: Annotated[
        str,
        typer.Option(
            "--host", help=f"Address to listen on; anything but loopback needs ${TOKEN_ENV}."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8000,
    max_batch: Annotated[
        int, typer.Option("--max-batch", help="Most customers in one request.", min=1)
    ] = 10_000,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Largest request body in bytes.", min=1)
    ] = 4 * 1024 * 1024,
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (each loads the model).", min=1)
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (costs throughput).")
    ] = False,
) -> None:
    """Serve the model over HTTP: POST /v1/assign, GET /v1/model, GET /healthz, docs at /docs."""
    with errors():
        token = token_for(host)
        uvicorn = exceptions.require("uvicorn", "api")
        segment_model = model_file.load_model(model)
        service = api.create_app(
            segment_model, token=token, max_batch=max_batch, max_body_bytes=max_body_bytes
        )
        for note in segment_model.notes:
            console.print(f"[dim]note: model: {note}[/]", highlight=False)
        shown = f"[{host}]" if ":" in host else host
        console.print(
            f"Serving {segment_model.k} segments of [cyan]{model}[/] on "
            f"http://{shown}:{port} (docs at /docs); bearer token "
            + ("[green]required[/]" if token else "not required (loopback only)"),
            highlight=False,
        )
    options = dict(
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        server_header=False,
        proxy_headers=False,
    )
    if workers == 1:
        api.freeze_heap()
        uvicorn.run(service, **options)
        return
    # Several processes: uvicorn imports the app factory in each; it reads these variables.
    os.environ[api.MODEL_ENV] = str(model.resolve())
    os.environ[api.LIMITS_ENV] = f"{max_batch},{max_body_bytes}"
    uvicorn.run("custseg.api:from_environment", factory=True, workers=workers, **options)
