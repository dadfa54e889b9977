import numpy as np
import pandas as pd
import pytest

from custseg import segment
from custseg.exceptions import ConfigError
from custseg.pipeline.explain import describe, load_rules

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def test_mall_segments_get_the_classic_names(mall_path):
    seg = segment(mall_path, features="income,spending")
    names = sorted(p.name for p in seg.profiles)
    assert names == sorted(
        [
            "Average customers",
            "High income, high spending",
            "High income, low spending",
            "Low income, high spending",
            "Low income, low spending",
        ]
    )
    for p in seg.profiles:
        assert p.persona and set(p.actions) == {"promotions", "campaigns", "resources"}
        assert set(p.gender) == {"Female", "Male"}
        assert sum(p.gender.values()) == pytest.approx(1.0)


def test_profile_statistics_in_original_units():
    values = pd.DataFrame({"Income": [10.0, 20, 30, 100, 110, 120]})
    labels = np.array([0, 0, 0, 1, 1, 1])
    profiles = describe(values, labels, {"Income": "income"})
    low, high = profiles
    assert low.size == 3 and low.share == 0.5
    assert low.means["Income"] == 20 and low.medians["Income"] == 20
    assert low.mins["Income"] == 10 and high.maxs["Income"] == 120
    assert high.index["Income"] == pytest.approx(110 / 65 * 100)
    assert low.name == "Low income" and high.name == "High income"


def test_rows_left_out_are_not_profiled():
    values = pd.DataFrame({"x": [1.0, 2, 50, 51, 1000]})
    profiles = describe(values, np.array([0, 0, 1, 1, -1]), {"x": "numeric"})
    assert [p.size for p in profiles] == [2, 2]


def test_duplicate_names_are_made_unique(mall_path):
    seg = segment(mall_path, features="age,income,spending", k=8)
    names = [p.name for p in seg.profiles]
    assert len(set(names)) == len(names)


def test_rules_file_can_be_replaced(tmp_path, sample):
    text = (
        load_rules.__globals__["resources"]
        .files("custseg")
        .joinpath("data/segment_rules.toml")
        .read_text()
    )
    custom = tmp_path / "rules.toml"
    custom.write_text(text.replace('high = "High income"', 'high = "Wealthy"'))
    seg = segment(sample, features="income,spending", rules=custom)
    assert any(p.name.startswith("Wealthy") for p in seg.profiles)
    broken = tmp_path / "broken.toml"
    broken.write_text("[levels]\nhigh = 1\n")
    with pytest.raises(ConfigError, match="no \\[words\\] section"):
        load_rules(broken)


def test_a_name_reads_as_one_phrase(sample):
    """ "Young, low income, high spending", not "Young, Low income, ..." (the rules' words are
    capitalised for names that start with them)."""
    seg = segment(sample)
    assert any(", " in p.name for p in seg.profiles)
    for p in seg.profiles:
        for part in p.name.split(", ")[1:]:
            assert not part[:1].isupper() or part[:2].isupper(), p.name
