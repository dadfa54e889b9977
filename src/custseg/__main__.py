"""``python -m custseg`` runs the CLI."""

from custseg.cli import main

main()
