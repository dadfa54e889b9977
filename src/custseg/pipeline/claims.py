"""Check that what a segment's name, persona and actions say agrees with its numbers.

A claim holds only by the rules' own documented margins (``[levels]`` in the rules file):

- "high X" in a name or persona (or the role's word, e.g. "older"): the segment's z-score on X
  is at least ``high`` (0.5 standard deviations above the population) or its index is at least
  ``index_high`` (200);
- "low X" ("young"): z at most ``low`` (-0.5) or index at most ``index_low`` (50);
- "average X": neither;
- a rule's ``when`` (e.g. income high and spending low): each role's level, as above;
- "Average customers" / "close to the average on every feature": every feature average;
- a superlative ("the most", "oldest", "the best", ...): the segment is the extreme one among
  all segments on every feature it claims.

:func:`contradictions` reads the texts as a person does (it does not reuse how they were made)
and lists every claim the numbers do not support.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from custseg.pipeline.explain import ACTION_KINDS, SegmentProfile, label_of, level_of

SUPERLATIVES = ("the most", "the least", "oldest", "youngest", "most valuable", "highest",
                "lowest", "your best")  # fmt: skip
ALL_AVERAGE = ("average customers", "close to the average on every feature")


def contradictions(
    profiles: Sequence[SegmentProfile], roles: Mapping[str, str], rules: dict
) -> list[str]:
    """Every claim in the segments' names, personas and actions that their numbers contradict.

    Parameters
    ----------
    profiles : list of SegmentProfile
        The run's segments (``seg.profiles``).
    roles : mapping
        Column -> role (``seg.table.roles``).
    rules : dict
        The naming rules the run used (:func:`custseg.pipeline.explain.load_rules`).

    Returns
    -------
    list of str
        One plain sentence per contradiction; empty when every claim holds.
    """
    found: list[str] = []
    for p in profiles:
        texts = [p.name, p.persona, *p.actions.values()]
        claims = _claims(p, texts, roles, rules)
        for col, level, where in claims:
            if col not in p.levels:
                continue
            actual = _level(p, col, rules)
            if actual != level:
                found.append(
                    f"segment {p.id} ({p.name!r}): {where} says {level} "
                    f"{label_of(col, rules)}, but it is {actual} (z {p.zscores[col]:+.2f}, "
                    f"index {_fmt(p.index.get(col))})"
                )
        lowered = " ".join(texts).lower()
        if any(phrase in lowered for phrase in ALL_AVERAGE):
            for col in p.levels:
                if _level(p, col, rules) != "average":
                    found.append(
                        f"segment {p.id} ({p.name!r}) is called average, but it is "
                        f"{_level(p, col, rules)} on {label_of(col, rules)}"
                    )
        for phrase in SUPERLATIVES:
            if re.search(rf"\b{phrase}\b", lowered):
                for col, level, _ in claims:
                    means = [q.means.get(col) for q in profiles if q.means.get(col) is not None]
                    mine = p.means.get(col)
                    extreme = max(means) if level == "high" else min(means)
                    if level != "average" and mine != extreme:
                        found.append(
                            f"segment {p.id} ({p.name!r}) says {phrase!r}, but another "
                            f"segment has a {'higher' if level == 'high' else 'lower'} "
                            f"{label_of(col, rules)}"
                        )
    return found


def _level(p: SegmentProfile, col: str, rules: dict) -> str:
    return level_of(p.zscores.get(col) or 0.0, p.index.get(col), rules["levels"])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _claims(
    p: SegmentProfile, texts: list[str], roles: Mapping[str, str], rules: dict
) -> list[tuple[str, str, str]]:
    """(column, level, where) for each claim the texts make about one feature."""
    claims: list[tuple[str, str, str]] = []
    # Level words are read in the name and persona, which describe customers; actions speak of
    # offers ("occasional broad promotions"), so only their feature lists are read.
    phrases = []
    for col in p.levels:
        words = rules["words"].get(roles.get(col, ""), rules["words"]["default"])
        for level in ("high", "low", "average"):
            phrases.append((words[level].format(feature=label_of(col, rules)).lower(), col, level))
    # Longest first, each match blanked out: "high cash advance frequency" is not also a claim
    # about "cash advance".
    phrases.sort(key=lambda item: -len(item[0]))
    for where, text in zip(("name", "persona"), texts, strict=False):
        lowered = text.lower()
        for phrase, col, level in phrases:
            pattern = rf"(?<![\w-]){re.escape(phrase)}(?![\w-])"
            if re.search(pattern, lowered):
                claims.append((col, level, where))
                lowered = re.sub(pattern, "#", lowered)
    # The rule whose text this is: its `when` and its {high} / {low} lists are claims too.
    for rule in rules["rule"]:
        if not _matches(rule, p):
            continue
        for role, level in rule.get("when", {}).items():
            for col in (c for c, r in roles.items() if r == role and c in p.levels):
                claims.append((col, level, "the rule behind the persona"))
        for kind in ("persona", *ACTION_KINDS):
            listed = _listed(rule.get(kind, ""), p.persona if kind == "persona" else
                             p.actions.get(kind, ""))  # fmt: skip
            for level, names in listed.items():
                for col in p.levels:
                    if label_of(col, rules) in names:
                        claims.append((col, level, kind))
        break
    return claims


def _matches(rule: dict, p: SegmentProfile) -> bool:
    """Whether ``rule`` wrote this persona (its fixed words are in it, in order)."""
    template = rule.get("persona", "")
    if not template:
        return False
    pattern = re.escape(template).replace(r"\{high\}", ".+?").replace(r"\{low\}", ".+?")
    return re.search(pattern + "$", p.persona) is not None


def _listed(template: str, text: str) -> dict[str, list[str]]:
    """The feature names a ``{high}`` / ``{low}`` placeholder was filled with in ``text``."""
    if "{high}" not in template and "{low}" not in template:
        return {}
    pattern = re.escape(template)
    pattern = pattern.replace(r"\{high\}", "(?P<high>.+?)").replace(r"\{low\}", "(?P<low>.+?)")
    match = re.search(pattern + "$", text)
    if not match:
        return {}
    return {k: v.split(", ") for k, v in match.groupdict().items() if v and v != "none"}
