"""MkDocs hook: the command-line reference, generated from the Typer app when the site is built.

The page holds a marker; it is replaced by Typer's own Markdown docs (what ``typer ... utils docs``
prints) for the app ``custseg`` runs, so every command and option appears with its help text and
the page cannot drift from the code. A command that fails to import fails the build.
"""

from __future__ import annotations

import typer
from typer.cli import get_docs_for_click

MARKER = "<!-- custseg-cli-reference -->"


def cli_markdown() -> str:
    """Markdown for ``custseg`` and each of its commands, one section per command."""
    from custseg.cli import app  # the app the ``custseg`` console script runs

    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    docs = get_docs_for_click(obj=group, ctx=ctx, name="custseg")
    # The page has its own title: drop the generated one, keep each command as a section.
    docs = docs.split("\n", 1)[1]
    # The summary list: each command's whole first line of help (Typer cuts it at 45 characters),
    # linked to its section.
    head, listed, rest = docs.partition("**Commands**:\n\n")
    rest = rest.partition("\n\n")[2]
    summary = ""
    for name in group.list_commands(ctx):
        first_line = (group.get_command(ctx, name).help or "").strip().splitlines()[0]
        summary += f"* [`{name}`](#custseg-{name}): {first_line}\n"
    return f"{head}{listed}{summary}\n{rest}"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_markdown())
