"""``segment(..., k_choice=)``: trying another k reuses the k search instead of redoing it."""

from __future__ import annotations

import numpy as np
import pytest

from custseg import ConfigError, load, sample_customers, segment
from custseg.pipeline import search as select_module


@pytest.fixture(scope="module")
def searched():
    table = load(sample_customers())
    return table, segment(table)


@pytest.mark.parametrize("k_search_rows", [50_000, 120], ids=["all rows", "sampled search"])
def test_reused_search_gives_the_same_result_as_a_fresh_run(k_search_rows):
    table = load(sample_customers())
    base = segment(table, k_search_rows=k_search_rows)
    reused = segment(table, k=3, k_choice=base.k_choice, k_search_rows=k_search_rows)
    fresh = segment(table, k=3, k_search_rows=k_search_rows)
    assert reused.k == 3
    assert reused.k_choice is base.k_choice
    np.testing.assert_array_equal(reused.labels, fresh.labels)
    assert [p.name for p in reused.profiles] == [p.name for p in fresh.profiles]


def test_reused_search_fits_nothing(searched, monkeypatch):
    table, base = searched

    def no_search(*args, **kwargs):
        raise AssertionError("choose_k must not run when k_choice is given")

    monkeypatch.setattr(select_module, "choose_k", no_search)
    assert segment(table, k=4, k_choice=base.k_choice).k == 4


@pytest.mark.parametrize(
    "other",
    [
        lambda: (load(sample_customers()), {"features": ["income", "spending"]}),
        lambda: (load(sample_customers(seed=5)), {}),
        lambda: (load(sample_customers(150)), {}),
    ],
    ids=["other features", "other rows", "other row count"],
)
def test_a_search_from_other_data_is_refused(searched, other):
    _, base = searched
    table, kwargs = other()
    with pytest.raises(ConfigError, match="k_choice comes from a run on other data"):
        segment(table, k=3, k_choice=base.k_choice, **kwargs)
