"""CLI subcommands beyond run/explore/choose-k, one module each; importing registers them."""

from . import rfm  # noqa: F401
