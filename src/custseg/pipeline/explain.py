"""Segment profiles: size, statistics in original units, an index against the population,
gender mix, and a readable name, persona and suggested actions from editable rules."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError
from custseg.text import capitalise, humanise

ROLE_ORDER = ("age", "income", "spending")
ACTION_KINDS = ("promotions", "campaigns", "resources")


@dataclass
class SegmentProfile:
    """Who one segment is, in numbers and in words."""

    id: int
    name: str
    size: int
    share: float
    means: dict[str, float]
    medians: dict[str, float]
    mins: dict[str, float]
    maxs: dict[str, float]
    index: dict[str, float]  # segment mean / population mean x 100
    zscores: dict[str, float]
    levels: dict[str, str]
    persona: str
    actions: dict[str, str]
    gender: dict[str, float] = field(default_factory=dict)
    named: list[str] = field(default_factory=list)  # the features its name and persona speak of

    def to_dict(self) -> dict:
        return asdict(self)


def load_rules(path: str | Path | None = None) -> dict:
    """The naming and action rules: the shipped ``segment_rules.toml`` or a user's file."""
    try:
        if path is None:
            text = resources.files("custseg").joinpath("data/segment_rules.toml").read_text()
        else:
            text = Path(path).read_text(encoding="utf-8")
        rules = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Could not read the rules file {str(path)!r}: {exc}") from exc
    for key in ("levels", "words", "rule"):
        if key not in rules:
            raise ConfigError(
                f"The rules file {str(path)!r} has no [{key}] section; start "
                "from the shipped custseg/data/segment_rules.toml"
            )
    return rules


def describe(
    values: pd.DataFrame,
    labels: np.ndarray,
    roles: Mapping[str, str],
    *,
    gender: pd.Series | None = None,
    rules: dict | None = None,
) -> list[SegmentProfile]:
    """Profile each segment.

    Parameters
    ----------
    values : DataFrame
        Numeric feature values in original units, one row per customer (NaN allowed).
    labels : array of int
        Segment of each row (``-1`` for rows left out, e.g. dropped for missing values).
    roles : mapping
        Column -> role, used to name segments (income, spending, age).
    gender : Series, optional
        Gender of each row, for the gender mix.
    """
    rules = rules or load_rules()
    labels = np.asarray(labels)
    used = labels >= 0
    if not used.all():
        values = values.loc[used]
        labels = labels[used]
    grouped = values.groupby(labels)
    zscores = None
    if level_basis(rules) == "rank":  # z-scores of mean percentile ranks: robust to skewed features
        ranks = values.rank(pct=True)
        rank_means = ranks.groupby(labels).mean()
        rank_pop, rank_std = ranks.mean(), ranks.std(ddof=0).replace(0, np.nan)
        zscores = ((rank_means - rank_pop) / rank_std).fillna(0.0)
    stats = {s: grouped.agg(s) for s in ("mean", "median", "min", "max")}
    gender_mix = None
    if gender is not None:
        g = gender.loc[used].astype("string").fillna("unknown")
        gender_mix = pd.crosstab(labels, g, normalize="index")
    return profiles_from_stats(
        stats,
        np.bincount(labels),
        values.mean(),
        # Column by column: a whole-frame std holds two full-size temporaries (1 GB at 10M rows).
        pd.Series({c: values[c].std(ddof=0) for c in values.columns}, dtype=float),
        roles,
        gender_mix=gender_mix,
        zscores=zscores,
        rules=rules,
    )


def level_basis(rules: dict) -> str:
    """How the rules level a segment: ``"mean"`` (z-score of its mean) or ``"rank"``."""
    basis = rules["levels"].get("basis", "mean")
    if basis not in ("mean", "rank"):
        raise ConfigError(f"The rules' [levels] basis must be 'mean' or 'rank', not {basis!r}")
    return basis


def profiles_from_stats(
    stats: Mapping[str, pd.DataFrame],
    sizes: np.ndarray,
    pop_mean: pd.Series,
    pop_std: pd.Series,
    roles: Mapping[str, str],
    *,
    gender_mix: pd.DataFrame | None = None,
    zscores: pd.DataFrame | None = None,
    rules: dict | None = None,
) -> list[SegmentProfile]:
    """Profiles from per-segment statistics computed elsewhere (by :func:`describe` or Spark).

    ``stats`` maps ``mean``, ``median``, ``min`` and ``max`` to frames indexed by segment id with
    one column per feature; ``sizes[i]`` is segment i's row count; ``pop_mean`` and ``pop_std``
    (ddof=0) describe all segmented rows; ``gender_mix`` has one row of shares per segment;
    ``zscores`` (one row per segment), when given, replaces the mean-based z-scores (the rules'
    rank basis needs it).
    """
    rules = rules or load_rules()
    if level_basis(rules) == "rank" and zscores is None:
        raise ConfigError(
            "These rules level segments by rank ([levels] basis = 'rank'); pass "
            "rank z-scores or use rules with the mean basis"
        )
    pop_std = pop_std.replace(0, np.nan)
    sizes = np.asarray(sizes)
    profiles = []
    for seg in range(len(sizes)):
        if sizes[seg] == 0:
            continue
        means = stats["mean"].loc[seg]
        z = ((means - pop_mean) / pop_std).fillna(0.0) if zscores is None else zscores.loc[seg]
        index = means / pop_mean.where(pop_mean > 0) * 100
        levels = {c: level_of(z[c], index[c], rules["levels"]) for c in stats["mean"].columns}
        named = named_features(z, levels, roles, rules)
        persona, actions, ruled_name = _persona(levels, named, roles, rules)
        name = ruled_name or _name(named, levels, roles, rules)
        profiles.append(
            SegmentProfile(
                id=int(seg),
                name=name,
                size=int(sizes[seg]),
                share=float(sizes[seg] / sizes.sum()),
                means=_floats(means),
                medians=_floats(stats["median"].loc[seg]),
                mins=_floats(stats["min"].loc[seg]),
                maxs=_floats(stats["max"].loc[seg]),
                index=_floats(means / pop_mean.replace(0, np.nan) * 100),
                named=named,
                zscores=_floats(z),
                levels=levels,
                persona=persona,
                actions=actions,
                gender=_floats(gender_mix.loc[seg]) if gender_mix is not None else {},
            )
        )
    _make_unique(profiles, roles, rules)
    return profiles


def _floats(series: pd.Series) -> dict[str, float]:
    return {str(k): (None if pd.isna(v) else float(v)) for k, v in series.items()}


def level_of(z: float, index: float | None, levels: Mapping) -> str:
    """ "high", "low" or "average": by the z-score, or by the index (segment mean / population
    mean x 100) when the rules set ``index_high`` / ``index_low`` (e.g. 200 / 50: twice or half
    the average is never "average", however skewed the feature)."""
    index = None if index is None or pd.isna(index) else float(index)
    if z >= levels["high"] or (index is not None and index >= levels.get("index_high", np.inf)):
        return "high"
    if z <= levels["low"] or (index is not None and index <= levels.get("index_low", -np.inf)):
        return "low"
    return "average"


def label_of(col: str, rules: dict) -> str:
    """The column as a person reads it: the rules' ``[display]`` name or the name in words."""
    return humanise(col, rules.get("display"))


def _word(col: str, level: str, roles: Mapping[str, str], rules: dict) -> str:
    words = rules["words"].get(roles.get(col, ""), rules["words"]["default"])
    return words[level].format(feature=label_of(col, rules))


def named_features(z: pd.Series, levels: dict, roles: Mapping[str, str], rules: dict) -> list[str]:
    """The facts a segment is named by: its (up to ``name_features``) most distinctive
    non-average features, plus the other of income/spending when one of them is chosen."""
    n = int(rules["levels"].get("name_features", 2))
    distinctive = [c for c in z.abs().sort_values(ascending=False).index if levels[c] != "average"]
    chosen = distinctive[:n]
    # Income and spending read as a pair: when one names the segment, name the other too.
    pair = [c for c in z.index if roles.get(c) in ("income", "spending")]
    if len(pair) == 2 and any(c in chosen for c in pair):
        chosen = list(dict.fromkeys([*chosen, *pair]))
    rank = {r: i for i, r in enumerate(ROLE_ORDER)}
    chosen.sort(key=lambda c: rank.get(roles.get(c, ""), len(rank)))
    return chosen


def _name(named: list[str], levels: dict, roles: Mapping[str, str], rules: dict) -> str:
    if not named:
        return "Average customers"
    words = [_word(c, levels[c], roles, rules) for c in named]
    # One phrase: "Young, low income, high spending", whatever case each word has in the rules
    # file (an acronym such as "USD total" keeps its capitals).
    words[1:] = [w if w[:2].isupper() else w[:1].lower() + w[1:] for w in words[1:]]
    return capitalise(", ".join(words))


def _persona(
    levels: dict, named: list[str], roles: Mapping[str, str], rules: dict
) -> tuple[str, dict[str, str], str | None]:
    """Persona, actions and (when the rule gives one) name from the first matching rule.

    The generic texts speak of the same features as the name (``named``), so name, persona and
    actions make the same claims.
    """
    by_role = {roles[c]: lvl for c, lvl in levels.items() if roles.get(c) not in (None, "numeric")}
    high = [c for c in named if levels[c] == "high"]
    low = [c for c in named if levels[c] == "low"]
    facts = {
        "any_high": bool(high),
        "any_low": bool(low),
        "all_average": all(lvl == "average" for lvl in levels.values()),
    }
    fill = {
        "high": ", ".join(label_of(c, rules) for c in high) or "none",
        "low": ", ".join(label_of(c, rules) for c in low) or "none",
    }
    for rule in rules["rule"]:
        when = rule.get("when", {})
        if all(by_role.get(k, facts.get(k)) == v for k, v in when.items()):
            actions = {k: rule.get(k, "").format(**fill) for k in ACTION_KINDS if rule.get(k)}
            name = rule["name"].format(**fill) if rule.get("name") else None
            persona = rule.get("persona", "").format(**fill)
            # A distinctive age the rule does not speak of still belongs in the persona.
            age = by_role.get("age")
            if age in ("high", "low") and "age" not in when and "age" in rules["words"]:
                persona = f"{rules['words']['age'][age].capitalize()} customers. {persona}"
            return persona, actions, name
    return "", {}, None


def _make_unique(profiles: list[SegmentProfile], roles: Mapping[str, str], rules: dict) -> None:
    """Segments that share a name get the next most distinctive feature added, then a number."""
    groups: dict[str, list[SegmentProfile]] = {}
    for p in profiles:
        groups.setdefault(p.name, []).append(p)
    for same in groups.values():
        if len(same) < 2 or _add_relative_words(same, roles, rules):
            continue
        for p in same:
            ranked = sorted(p.zscores, key=lambda c: -abs(p.zscores[c] or 0.0))
            extra = [
                c
                for c in ranked
                if _word(c, p.levels[c], roles, rules).lower() not in p.name.lower()
            ]
            if extra:
                p.name += f", {_word(extra[0], p.levels[extra[0]], roles, rules).lower()}"
    seen: dict[str, int] = {}
    for p in profiles:
        seen[p.name] = seen.get(p.name, 0) + 1
        if seen[p.name] > 1:
            p.name = f"{p.name} ({seen[p.name]})"


def _add_relative_words(same: list[SegmentProfile], roles: Mapping[str, str], rules: dict) -> bool:
    """When the rules give ``more``/``less`` words for a feature, tell same-named segments apart
    by the feature on which they differ most: "Champions, more frequent" / "..., less frequent"."""
    spread = {}
    for col in same[0].zscores:
        words = rules["words"].get(roles.get(col, ""), {})
        z = [p.zscores[col] or 0.0 for p in same]
        if "more" in words and "less" in words:
            spread[col] = max(z) - min(z)
    if not spread or max(spread.values()) < 0.1:
        return False
    col = max(spread, key=spread.get)
    words = rules["words"][roles[col]]
    middle = float(np.mean([p.zscores[col] or 0.0 for p in same]))
    for p in same:
        p.name += f", {words['more' if (p.zscores[col] or 0.0) >= middle else 'less']}"
    return True
