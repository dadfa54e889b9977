"""Names people understand: column names in words everywhere a person reads them, and names,
personas and actions that agree with the numbers (checked by ``pipeline.claims``)."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from custseg import segment
from custseg.pipeline.claims import contradictions
from custseg.pipeline.explain import load_rules
from custseg.rfm import segment_rfm
from custseg.text import humanise

HUMANISE_CASES = [
    ("cash_advance_frequency", "cash advance frequency"),
    ("CASH_ADVANCE", "cash advance"),
    ("PURCHASES_TRX", "purchases trx"),
    ("MntWines", "mnt wines"),
    ("NumWebVisitsMonth", "num web visits month"),
    ("NumCatalogPurchases", "num catalog purchases"),
    ("AcceptedCmp3", "accepted cmp 3"),
    ("Annual Income (k$)", "annual income (k$)"),
    ("Spending Score (1-100)", "spending score (1-100)"),
    ("Detergents_Paper", "detergents paper"),
    ("TotalUSDSpend", "total USD spend"),
    ("customerID", "customer ID"),
    ("avg-order.value", "avg order value"),
    ("Age", "age"),
    ("income", "income"),
    ("spend [EUR]", "spend [EUR]"),
]


@pytest.mark.parametrize(("column", "words"), HUMANISE_CASES)
def test_humanise(column, words):
    assert humanise(column) == words


def test_a_display_name_wins():
    assert humanise("MntWines", {"MntWines": "wine spend"}) == "wine spend"


# ---------------------------------------------------------------- generated customer tables


def _groups(rng, n, k):
    return rng.integers(0, k, n)


def credit_card(seed: int, n: int = 600) -> pd.DataFrame:
    """snake_case money columns, a frequency share, skewed with many zeros and missing values."""
    rng = np.random.default_rng(seed)
    g = _groups(rng, n, 4)
    scale = np.array([[1, 0.1, 2], [3, 2, 0.5], [0.3, 4, 1], [2, 0.01, 0.2]])[g]
    frame = pd.DataFrame(
        {
            "cust_id": [f"C{i:05d}" for i in range(n)],
            "balance": rng.lognormal(7, 0.6, n) * scale[:, 0],
            "cash_advance": np.where(rng.random(n) < 0.4, 0, rng.lognormal(6, 1, n)) * scale[:, 1],
            "cash_advance_frequency": np.clip(scale[:, 1] / 4 + rng.normal(0, 0.05, n), 0, 1),
            "oneoff_purchases_frequency": np.clip(scale[:, 2] / 2 + rng.normal(0, 0.1, n), 0, 1),
            "purchases_trx": rng.poisson(10 * scale[:, 2]),
            "credit_limit": rng.lognormal(8, 0.4, n) * (1 + scale[:, 0] / 3),
        }
    )
    frame.loc[rng.choice(n, 15, replace=False), "credit_limit"] = np.nan
    return frame


def marketing(seed: int, n: int = 600) -> pd.DataFrame:
    """CamelCase MntX / NumXPurchases columns, 0/1 campaign flags, missing incomes."""
    rng = np.random.default_rng(seed)
    g = _groups(rng, n, 3)
    wealth = np.array([0.4, 1.0, 2.0])[g]
    frame = pd.DataFrame(
        {
            "ID": np.arange(n),
            "Income": rng.normal(30_000, 5_000, n) * wealth,
            "Kidhome": rng.binomial(2, np.array([0.6, 0.3, 0.05])[g]),
            "MntWines": rng.gamma(2, 100, n) * wealth**2,
            "MntMeatProducts": rng.gamma(2, 60, n) * wealth**2,
            "NumWebPurchases": rng.poisson(3 * wealth),
            "NumCatalogPurchases": rng.poisson(2 * wealth**1.5),
            "NumWebVisitsMonth": rng.poisson(8 / wealth),
            "AcceptedCmp1": (rng.random(n) < 0.05 * wealth).astype(int),
            "Response": (rng.random(n) < 0.1 * wealth).astype(int),
        }
    )
    frame.loc[rng.choice(n, 20, replace=False), "Income"] = np.nan
    return frame


def _texts(seg) -> list[str]:
    summary = seg.summary()
    out = []
    for s in summary["segments"]:
        out += [s["name"], s["persona"], *s["actions"].values(), s.get("rule") or ""]
    return out


def _raw_looking(column: str) -> bool:
    return "_" in column or re.search(r"[a-z][A-Z]", column) is not None


TABLES = [(credit_card, seed, k) for seed, k in ((0, 4), (1, 5), (2, 3), (3, 6))] + [
    (marketing, seed, k) for seed, k in ((0, 3), (1, 4), (2, 5), (3, 6))
]


@pytest.mark.parametrize(("make", "seed", "k"), TABLES)
def test_names_personas_and_actions_agree_with_the_numbers(make, seed, k):
    frame = make(seed)
    seg = segment(frame, k=k)
    assert contradictions(seg.profiles, seg.table.roles, load_rules(seg.options.rules)) == []
    # No raw snake_case or run-together CamelCase column name reaches a person.
    texts = " | ".join(_texts(seg))
    for column in filter(_raw_looking, frame.columns):
        assert column not in texts, (column, texts)
    # segments.csv keeps the original column names.
    assert list(seg.assignments().columns[: frame.shape[1]]) == list(frame.columns)


def test_the_checker_finds_a_planted_contradiction():
    seg = segment(marketing(0), k=3)
    rules = load_rules()
    p = seg.profiles[0]
    low = next(c for c, lvl in p.levels.items() if lvl != "high")
    wrong = [
        dataclasses.replace(p, persona=f"Customers who stand out by high {humanise(low)}."),
        dataclasses.replace(p, name=f"High {humanise(low)}"),
        dataclasses.replace(p, name="Average customers") if p.name != "Average customers" else p,
    ]
    for bad in wrong[:2]:
        assert contradictions([bad, *seg.profiles[1:]], seg.table.roles, rules), bad
    if wrong[2] is not p:
        assert contradictions([wrong[2], *seg.profiles[1:]], seg.table.roles, rules)


def test_a_superlative_must_belong_to_the_extreme_segment(mall_path):
    seg = segment(mall_path, features="Annual Income (k$),Spending Score (1-100)", k=5)
    rules = load_rules()
    high = next(p for p in seg.profiles if p.levels["Annual Income (k$)"] == "high")
    richest = max(seg.profiles, key=lambda p: p.means["Annual Income (k$)"])
    other = next(
        p for p in seg.profiles if p.levels["Annual Income (k$)"] == "high" and p is not richest
    )
    bragging = dataclasses.replace(other, persona=other.persona + " They earn the most.")
    profiles = [bragging if p is other else p for p in seg.profiles]
    assert high is not None
    assert contradictions(profiles, seg.table.roles, rules)


def test_the_rules_file_names_a_column(tmp_path):
    shipped = resources.files("custseg").joinpath("data/segment_rules.toml").read_text()
    path = tmp_path / "rules.toml"
    path.write_text(shipped + '\n[display]\nMntWines = "wine spend"\n', encoding="utf-8")
    frame = marketing(1)
    seg = segment(frame, k=3, features="MntWines,Income", rules=path)
    texts = " | ".join(_texts(seg))
    assert "wine spend" in texts and "mnt wines" not in texts.lower()
    assert seg.summary()["display_names"]["MntWines"] == "wine spend"
    assert "MntWines" in seg.assignments().columns


# ---------------------------------------------------------------- real tables


@pytest.mark.parametrize("features", [None, "Annual Income (k$),Spending Score (1-100)"])
def test_mall_claims_hold(mall_path, features):
    seg = segment(mall_path, features=features)
    assert contradictions(seg.profiles, seg.table.roles, load_rules()) == []


def test_wholesale_claims_hold(wholesale_path):
    for log in (None, "auto"):
        seg = segment(wholesale_path, log=log)
        assert contradictions(seg.profiles, seg.table.roles, load_rules()) == []


def test_cdnow_rfm_claims_hold(cdnow_path):
    seg = segment_rfm(cdnow_path)
    assert contradictions(seg.profiles, seg.table.roles, load_rules(seg.options.rules)) == []
