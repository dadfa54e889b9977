"""CLI subcommands beyond run/explore/choose-k, one module each; importing registers them."""

from . import app, rfm  # noqa: F401
from .predict import predict  # noqa: F401
from .serve import serve  # noqa: F401

__all__: list[str] = []  # cli.py star-imports this package for the side effect only
