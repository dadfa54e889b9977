"""Segment identity across runs (``previous``) and customer migration (issue #15)."""

import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from typer.testing import CliRunner

from custseg import load, load_model, segment
from custseg.cli import app
from custseg.exceptions import ConfigError, DataError
from custseg.outputs.export import write_outputs
from custseg.outputs.model_file import model_state
from custseg.pipeline.identity import _numbering
from custseg.pipeline.migration import migrate

from ._changes import changed_table

FEATURES = "income,spending"
runner = CliRunner()


@pytest.fixture(scope="module")
def mall(tmp_path_factory):
    """The mall data, its first run (income and spending) and that run's output folder."""
    from tests.conftest import shared_file

    frame = load(shared_file("mall_customers.csv")).frame
    first = segment(frame, features=FEATURES)
    folder = tmp_path_factory.mktemp("first")
    write_outputs(first, folder)
    return frame, first, folder


def _by_customer(seg):
    return seg.assignments().set_index("CustomerID")[["segment", "segment_name"]]


def test_shuffled_rows_keep_every_id_and_name(mall):
    frame, first, folder = mall
    for previous in (folder / "model.skops", load_model(folder / "model.skops"), folder):
        again = segment(frame.sample(frac=1, random_state=5), features=FEATURES, previous=previous)
        assert [m.status for m in again.identity.segments] == ["carried"] * first.k
        pd.testing.assert_frame_equal(
            _by_customer(again).loc[_by_customer(first).index], _by_customer(first)
        )


def test_changed_table_unchanged_customers_keep_their_segment(mall):
    frame, first, folder = mall
    changed, truth = changed_table(frame, first.labels, seed=0)
    second = segment(changed, features=FEATURES, previous=folder)
    customers = second.migration.customers.set_index("CustomerID")
    # every customer of both runs is accounted for, once
    assert set(customers.index) == set(frame["CustomerID"]) | set(changed["CustomerID"])
    assert customers.index.is_unique
    status = customers["status"]
    assert set(status[status == "new"].index) == truth["added"]
    assert set(status[status == "gone"].index) == truth["dropped"]
    both = status[status.isin(["stayed", "moved"])]
    unchanged = both.loc[~both.index.isin(truth["moved"])]
    assert (unchanged == "stayed").mean() >= 0.97
    assert (both.loc[both.index.isin(truth["moved"])] == "moved").mean() >= 0.8
    # the transition matrix counts the customers of both runs, and its rows add up to one
    summary = second.summary()["migration"]
    assert np.sum(summary["matrix"]["counts"]) == len(both) == summary["in_both_runs"]
    np.testing.assert_allclose(np.sum(summary["matrix"]["row_shares"], axis=1), 1.0)
    assert summary["customers"] == {
        "stayed": int((both == "stayed").sum()),
        "moved": int((both == "moved").sum()),
        "new": 20,
        "gone": 20,
    }
    assert any("customers (" in s and " moved from " in s for s in summary["sentences"])
    # each carried segment says how its feature means changed
    before = {p.id: p.means for p in first.profiles}
    now = {p.id: p.means for p in second.profiles}
    for m in second.identity.segments:
        assert m.status == "carried"
        assert m.shift == pytest.approx(
            {c: now[m.id][c] - before[m.previous_id][c] for c in first.plan.numeric}
        )


def test_a_segment_that_moved_too_far_vanishes_and_a_new_one_appears():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    frame = pd.DataFrame(
        np.repeat(centres, 60, axis=0) + rng.normal(0, 1, (180, 2)), columns=["a", "b"]
    )
    first = segment(frame, k=3, id_column="none")
    moved = frame.copy()
    far = first.labels == first.labels[-1]  # the blob around (0, 10) moves to (10, 10)
    moved.loc[far, "a"] += 10
    second = segment(moved, k=3, id_column="none", previous=load_model(_saved(first)))
    status = {m.status for m in second.identity.segments}
    assert status == {"carried", "appeared", "vanished"}
    vanished = next(m for m in second.identity.segments if m.status == "vanished")
    assert vanished.previous_id == first.labels[-1]
    carried = [m for m in second.identity.segments if m.status == "carried"]
    assert all(m.moved_share <= 0.5 for m in carried) and len(carried) == 2
    # a fourth segment that appears gets the next id after the previous ones
    extra = pd.concat([frame, pd.DataFrame(rng.normal(30, 1, (60, 2)), columns=["a", "b"])])
    third = segment(extra, k=4, id_column="none", previous=load_model(_saved(first)))
    appeared = [m for m in third.identity.segments if m.status == "appeared"]
    assert [m.id for m in appeared] == [3]
    assert third.names == {**first.names, 3: appeared[0].name}


def _saved(seg, name="m.skops"):
    import tempfile
    from pathlib import Path

    return seg.save(Path(tempfile.mkdtemp()) / name)


def test_previous_model_with_other_features_is_refused(mall):
    frame, _, folder = mall
    with pytest.raises(ConfigError, match=r"features .*Age.*summary\.json"):
        segment(frame, features="age,income,spending", previous=folder)
    with pytest.raises(ConfigError, match="scaling 'standard', this run 'minmax'"):
        segment(frame, features=FEATURES, scale="minmax", previous=folder)


def test_format_1_model_works_as_previous(mall, tmp_path):
    frame, first, _ = mall
    state = model_state(first)
    state.pop("selfcheck")
    for key in ("bins", "categories"):
        state["training"].pop(key)
    state["format_version"] = 1
    sio.dump(state, tmp_path / "v1.skops")  # written as format 1 was: plain skops
    again = segment(frame.iloc[::-1], features=FEATURES, previous=tmp_path / "v1.skops")
    assert again.migration is None  # a bare model file: no customers to compare
    assert any("give the previous run's output folder" in n for n in again.notes)
    pd.testing.assert_frame_equal(
        _by_customer(again).loc[_by_customer(first).index], _by_customer(first)
    )


def test_migrate_statuses_matrix_and_formula_protection(tmp_path):
    old = pd.DataFrame({"id": ["a", "b", "c", "=cmd()"], "segment": [0, 0, 1, 1]})
    new = pd.DataFrame({"id": ["b", "c", "=cmd()", "d"], "segment": [1, 0, 0, 2]})
    # new segment 0 is the old 1, new 1 the old 0; new 2 appeared
    m = migrate(
        old,
        new,
        id_column="id",
        previous_names={0: "A", 1: "B"},
        names={0: "B", 1: "A", 2: "C"},
        carried={0: 1, 1: 0},
    )
    got = m.customers.set_index("id")["status"].to_dict()
    assert got == {"b": "stayed", "c": "stayed", "=cmd()": "stayed", "d": "new", "a": "gone"}
    assert m.counts.to_numpy().tolist() == [[0, 1, 0], [2, 0, 0]]
    seg = segment(pd.DataFrame({"id": list("abcdefgh"), "x": range(8), "y": [0, 1] * 4}), k=2)
    seg.__dict__["migration"] = m  # frozen dataclass: only this test swaps in a migration
    write_outputs(seg, tmp_path)
    assert "'=cmd()" in (tmp_path / "migration.csv").read_text()
    assert "migration.csv" in json.loads((tmp_path / "manifest.json").read_text())["files"]
    with pytest.raises(DataError, match="duplicate customer ids"):
        migrate(pd.concat([old, old]), new, id_column="id", previous_names={}, names={})


def test_cli_run_previous_and_compare(mall, tmp_path):
    frame, first, folder = mall
    changed, _ = changed_table(frame, first.labels, seed=1)
    changed.to_csv(tmp_path / "changed.csv", index=False)
    new = tmp_path / "new"
    result = runner.invoke(
        app,
        [
            "run",
            str(tmp_path / "changed.csv"),
            "--features",
            FEATURES,
            "-o",
            str(new),
            "--previous",
            str(folder / "model.skops"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "carried over" in result.output
    assert "run: 20 customers; gone: 20 customers" in result.output
    summary = json.loads((new / "summary.json").read_text())
    assert summary["identity"]["carried"] == first.k and "migration" in summary
    report = (new / "report.html").read_text()
    assert 'id="previous-run"' in report and "Where each previous segment" in report
    assert summary["migration"]["sentences"][0] in report
    # compare gives the same from the two folders
    result = runner.invoke(app, ["compare", str(folder), str(new), "-o", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cmp" / "migration.csv").read_bytes() == (new / "migration.csv").read_bytes()
    section = json.loads((tmp_path / "cmp" / "migration.json").read_text())
    assert section == summary["migration"]
    # a run folder whose files no longer match its manifest is refused, without a traceback
    with open(new / "segments.csv", "a") as fh:
        fh.write("999,Male,30,50,50,0,Average customers\n")
    result = runner.invoke(app, ["compare", str(folder), str(new)])
    assert result.exit_code == 2 and "not the set one run wrote" in result.output
    assert "Traceback" not in result.output
    # features that differ from the previous model's: exit 2 naming the problem
    result = runner.invoke(
        app,
        [
            "run",
            str(tmp_path / "changed.csv"),
            "-o",
            str(tmp_path / "x"),
            "--features",
            "age,income",
            "--previous",
            str(folder),
        ],
    )
    assert result.exit_code == 2 and "cannot be compared" in result.output


def test_ids_follow_the_segments_when_their_sizes_change_order():
    """Without ``previous`` ids go by size; with it, each group keeps the id it had."""
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 0], [0, 10]])

    def blobs(sizes):
        points = np.vstack(
            [c + rng.normal(0, 1, (n, 2)) for c, n in zip(centres, sizes, strict=True)]
        )
        return pd.DataFrame(points, columns=["a", "b"])

    first = segment(blobs([100, 60, 30]), k=3, id_column="none")
    later = blobs([30, 60, 100])
    fresh = segment(later, k=3, id_column="none")
    matched = segment(later, k=3, id_column="none", previous=load_model(_saved(first)))
    before, after = np.repeat([0, 1, 2], [100, 60, 30]), np.repeat([0, 1, 2], [30, 60, 100])

    def id_of_each_group(seg, group):
        return [int(np.bincount(seg.labels[group == g]).argmax()) for g in range(3)]

    ids = id_of_each_group(first, before)
    assert id_of_each_group(fresh, after) != ids  # without previous the numbering changes
    assert id_of_each_group(matched, after) == ids
    assert [matched.names[i] for i in ids] == [first.names[i] for i in ids]


def test_numbering_keeps_previous_ids_and_fills_free_ones_when_k_shrinks():
    # fitted 0 was previous 1, fitted 1 was previous 0, fitted 2 appeared: ids after the old ones
    assert _numbering({0: 1, 1: 0}, 3) == {0: 1, 1: 0, 2: 2}
    # k went from 4 to 3: previous 3 cannot keep its id and takes the lowest free one
    assert _numbering({0: 3, 1: 0, 2: 2}, 3) == {1: 0, 2: 2, 0: 1}


def test_compare_without_previous_takes_the_same_id_as_the_same_segment(mall, tmp_path):
    frame, first, folder = mall
    write_outputs(segment(frame.iloc[::-1], features=FEATURES), tmp_path / "again")
    result = runner.invoke(app, ["compare", str(folder), str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "the same segment id is taken as the same segment" in " ".join(result.output.split())
    assert "200 of the 200 customers in both runs (100%) stayed" in result.output
