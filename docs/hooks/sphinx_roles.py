"""Griffe extension: Sphinx roles in custseg's docstrings become links in the API reference.

The docstrings are numpydoc, whose cross-references are Sphinx roles (:func:`custseg.load`),
which mkdocstrings does not read. Each role is resolved in the scope of the docstring's object:

- a name that resolves becomes a link when the site documents it, and code when it does not
  (an internal helper mentioned in passing);
- a name that does not resolve stays a link that cannot be found, so ``mkdocs build --strict``
  fails on it, as it does on a broken link.
"""

from __future__ import annotations

import html
import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|data|attr|exc|obj|const):`(~?)([\w.]+)`")


def _scopes(obj: griffe.Object):
    while obj is not None:
        yield obj
        obj = obj.parent


def _lookup(path: str, collection) -> griffe.Object | None:
    try:
        found = collection[path]
        return found.final_target if found.is_alias else found
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def resolve(name: str, obj: griffe.Object, collection) -> griffe.Object | None:
    """The object ``name`` means in the docstring of ``obj``, or None."""
    if found := _lookup(name, collection):
        return found
    head, _, rest = name.partition(".")
    for scope in _scopes(obj):
        try:
            base = scope.resolve(head)
        except (griffe.NameResolutionError, griffe.AliasResolutionError):
            continue
        if found := _lookup(f"{base}.{rest}" if rest else base, collection):
            return found
    return None


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles as mkdocs-autorefs cross-references."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        collection = loader.modules_collection
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            stack.extend(m for m in obj.members.values() if not m.is_alias)
            if obj.docstring and ":" in obj.docstring.value:
                docstring = obj.docstring
                docstring.value = ROLE.sub(
                    lambda m, o=obj: _link(m, o, collection), docstring.value
                )


def _link(match: re.Match, obj: griffe.Object, collection) -> str:
    short, name = match.groups()
    title = f"<code>{html.escape(name.rsplit('.', 1)[-1] if short else name)}</code>"
    target = resolve(name, obj, collection)
    if target is None:  # unknown: a required reference, so the strict build names it
        return f'<autoref identifier="{html.escape(name)}">{title}</autoref>'
    return f'<autoref identifier="{target.path}" optional>{title}</autoref>'
