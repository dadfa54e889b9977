"""``python -m custseg`` runs the CLI."""

from .cli import main

main()
