"""Model files: round trips, refusal of anything that is not a custseg model, format versions."""

import copy
import io
import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import custseg
from custseg import ModelFileError, segment
from custseg.outputs.model_file import FORMAT_VERSION, load_model, model_state, write_state


def test_round_trip_reproduces_training_labels(tmp_path, sample):
    seg = segment(sample)
    path = seg.save(tmp_path / "model.skops")
    model = load_model(path)
    scored = model.assign(sample)
    np.testing.assert_array_equal(scored["segment"].to_numpy(), seg.labels)
    assert model.metadata["n_rows"] == 200 and len(model.metadata["input_sha256"]) == 64


def test_load_model_is_public():
    assert custseg.load_model is load_model
    assert "load_model" in custseg.__all__ and "SegmentModel" in custseg.__all__


@pytest.fixture(scope="module")
def mall_seg():
    from tests.conftest import shared_file

    return segment(shared_file("mall_customers.csv"), seed=0)


def test_mall_round_trip_labels_and_distances(mall_seg, mall_path, tmp_path):
    model = load_model(mall_seg.save(tmp_path / "model.skops"))
    assert model.notes == [] and model.format_version == FORMAT_VERSION
    scored = model.assign(mall_path)
    np.testing.assert_array_equal(scored["segment"].to_numpy(), mall_seg.labels)
    np.testing.assert_allclose(scored["distance"].to_numpy(), mall_seg.distances, rtol=1e-12)
    assert scored["segment_name"].tolist() == [mall_seg.names[i] for i in mall_seg.labels]
    # the service's NumPy path and its plain-Python path agree with the pipeline
    values = pd.read_csv(mall_path)[mall_seg.features].to_numpy(float)
    assert model.scorer.exact
    labels, dist = model.scorer.score(values)
    np.testing.assert_array_equal(labels, mall_seg.labels)
    np.testing.assert_allclose(dist, mall_seg.distances, rtol=1e-12)
    labels, dist = model.scorer.score_rows(values.tolist())
    np.testing.assert_array_equal(labels, mall_seg.labels)
    np.testing.assert_allclose(dist, mall_seg.distances, rtol=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {"log": "auto", "scale": "minmax"},
        {"one_hot": "Channel", "scale": "robust"},
        {"scale": "none", "features": "Fresh,Milk,Grocery"},
        {"missing": "drop", "scale": "standard"},
    ],
    ids=["log-minmax", "onehot-robust", "unscaled", "missing-drop"],
)
def test_round_trip_variants(wholesale_path, tmp_path, options):
    frame = pd.read_csv(wholesale_path)
    if options.get("missing") == "drop":
        frame.loc[[3, 50, 77], "Milk"] = np.nan
    seg = segment(frame, k=4, k_range="3..4", seed=0, **options)
    model = load_model(seg.save(tmp_path / "model.skops"))
    scored = model.assign(frame)
    used = seg.used
    np.testing.assert_array_equal(scored["segment"].to_numpy()[used], seg.labels[used])
    assert model.scorer.exact, "the NumPy scorer should reproduce every shipped pipeline"
    num = frame[list(model.plan.numeric)].to_numpy(float)
    cats = frame[list(model.plan.categorical)].astype(str).values.tolist() or None
    labels, dist = model.scorer.score(num, cats)
    np.testing.assert_array_equal(labels, scored["segment"].to_numpy())
    np.testing.assert_allclose(dist, scored["distance"].to_numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- refusing files


class Marker:
    """Unpickling this creates a file: the stand-in for arbitrary code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class Booby:
    """Building this from a skops file (``__setstate__``) creates a file."""

    def __init__(self, path):
        self.path = str(path)

    def __setstate__(self, state):
        open(state["path"], "w").close()
        self.__dict__.update(state)


def test_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "model.skops"
    bad.write_bytes(pickle.dumps({"model": Marker(marker)}))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(bad)
    assert not marker.exists()
    pickle.loads(bad.read_bytes())  # the file really is malicious: a pickle loader runs it
    assert marker.exists()


def test_protocol_0_pickle_is_refused(tmp_path):
    bad = tmp_path / "model.skops"
    bad.write_bytes(pickle.dumps({"x": Marker(tmp_path / "m")}, protocol=0))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(bad)
    assert not (tmp_path / "m").exists()


def test_untrusted_class_is_refused_before_it_is_built(mall_seg, tmp_path):
    marker = tmp_path / "pwned"
    state = model_state(mall_seg) | {"extra": Booby(marker)}
    bad = write_state(state, tmp_path / "model.skops")
    with pytest.raises(ModelFileError, match=r"does not trust \(.*Booby"):
        load_model(bad)
    assert not marker.exists()
    # the file really is malicious: trusting the type builds the object and runs its code
    sio.load(bad, trusted=sio.get_untrusted_types(file=bad))
    assert marker.exists()


def test_function_like_os_system_is_refused(mall_seg, tmp_path):
    import os

    from sklearn.preprocessing import FunctionTransformer

    state = model_state(mall_seg) | {"hook": FunctionTransformer(func=os.system)}
    bad = write_state(state, tmp_path / "model.skops")
    with pytest.raises(ModelFileError, match=r"does not trust .*system"):
        load_model(bad)


def test_sklearn_class_outside_the_list_is_refused(mall_seg, tmp_path):
    """skops itself trusts KMeans; custseg's list is stricter: only what custseg writes."""
    from sklearn.cluster import KMeans

    km = KMeans(2, n_init=1, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 2)))
    bad = write_state(model_state(mall_seg) | {"model": km}, tmp_path / "model.skops")
    assert "sklearn.cluster._kmeans.KMeans" not in sio.get_untrusted_types(file=bad)
    with pytest.raises(ModelFileError, match="KMeans"):
        load_model(bad)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a custseg model file"),
        (b"CustomerID,Age\n1,20\n", "not a custseg model file"),
        (b"\x00\x01garbage" * 100, "not a custseg model file"),
    ],
    ids=["empty", "csv", "garbage"],
)
def test_garbage_is_refused(tmp_path, content, message):
    bad = tmp_path / "model.skops"
    bad.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(bad)


def test_truncated_and_foreign_archives_are_refused(mall_seg, tmp_path):
    good = mall_seg.save(tmp_path / "good.skops").read_bytes()
    cut = tmp_path / "cut.skops"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError, match="not a custseg model file"):
        load_model(cut)
    other = tmp_path / "other.skops"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="not a skops file"):
        load_model(other)
    foreign = tmp_path / "foreign.skops"
    sio.dump({"a": 1}, foreign)
    with pytest.raises(ModelFileError, match="not a custseg model"):
        load_model(foreign)
    with pytest.raises(ModelFileError, match="No model file"):
        load_model(tmp_path / "absent.skops")
    with pytest.raises(ModelFileError, match="No model file"):
        load_model(tmp_path)


def _rewrite(src, dst, edit_schema, keep_comment=True):
    """Copy a skops archive, editing its schema.json."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "schema.json":
                data = json.dumps(edit_schema(json.loads(data))).encode()
            zout.writestr(item, data)
        if keep_comment:
            zout.comment = zin.comment
    return dst


def _rename_segment(schema):
    text = json.dumps(schema)
    return json.loads(text.replace('"Older"', '"Tampered"', 1))


def test_tampered_file_is_refused(mall_seg, tmp_path):
    good = mall_seg.save(tmp_path / "good.skops")
    assert "Older" in {p.name for p in mall_seg.profiles}
    edited = _rewrite(good, tmp_path / "edited.skops", _rename_segment)
    with pytest.raises(ModelFileError, match="checksum does not match"):
        load_model(edited)
    stripped = _rewrite(good, tmp_path / "stripped.skops", _rename_segment, keep_comment=False)
    with pytest.raises(ModelFileError, match="must carry a checksum"):
        load_model(stripped)


def test_forged_centres_fail_the_probe_check(mall_seg, tmp_path):
    """A file rewritten with a valid checksum but different scoring is caught by its probes."""
    state = model_state(mall_seg)
    state["model"].cluster_centers_ = state["model"].cluster_centers_[::-1].copy()
    try:
        forged = write_state(state, tmp_path / "forged.skops")
    finally:
        state["model"].cluster_centers_ = state["model"].cluster_centers_[::-1].copy()
    with pytest.raises(ModelFileError, match="no longer scores its probe points"):
        load_model(forged)


def test_newer_and_ancient_versions_say_why(mall_seg, tmp_path):
    newer = write_state(model_state(mall_seg) | {"format_version": 99}, tmp_path / "n.skops")
    with pytest.raises(ModelFileError, match="format 99, newer .* upgrade custseg"):
        load_model(newer)
    ancient = write_state(model_state(mall_seg) | {"format_version": 0}, tmp_path / "a.skops")
    with pytest.raises(ModelFileError, match="format 0, older than any .* re-fit"):
        load_model(ancient)


def test_format_1_file_loads_with_a_note(mall_seg, mall_path, tmp_path):
    """Format 1 (custseg 0.1.0 before scoring): no checksum, probes or drift bins."""
    state = model_state(mall_seg)
    for key in ("selfcheck",):
        state.pop(key)
    for key in ("bins", "categories"):
        state["training"].pop(key)
    state["format_version"] = 1
    old = tmp_path / "v1.skops"
    sio.dump(state, old)  # written as format 1 was: plain skops, no checksum
    model = load_model(old)
    assert any("model format 1" in n for n in model.notes)
    np.testing.assert_array_equal(model.assign(mall_path)["segment"], mall_seg.labels)
    # drift bins are rebuilt from the stored deciles: training data against itself is stable
    drift = model.predict(mall_path).drift
    assert {f.feature: f.status for f in drift.features} == dict.fromkeys(
        mall_seg.features, "stable"
    )


def test_format_2_file_loads_as_it_is(mall_seg, mall_path, tmp_path):
    """Format 2 stored scikit-learn's built-in median imputer; nothing else differs."""
    from sklearn.impute import SimpleImputer

    state = model_state(mall_seg)
    state["format_version"] = 2
    state["preprocessor"] = copy.deepcopy(state["preprocessor"])
    imputer = state["preprocessor"].named_transformers_["num"].named_steps["impute"]
    median = SimpleImputer(strategy="median").fit(mall_seg.values()[list(mall_seg.plan.numeric)])
    imputer.set_params(strategy="median")
    np.testing.assert_array_equal(imputer.statistics_, median.statistics_)
    model = load_model(write_state(state, tmp_path / "v2.skops"))
    assert model.notes == [] and model.format_version == FORMAT_VERSION == 3
    np.testing.assert_array_equal(model.assign(mall_path)["segment"], mall_seg.labels)


def test_different_sklearn_version_is_noted(mall_seg, tmp_path):
    state = model_state(mall_seg)
    state["metadata"]["versions"]["scikit-learn"] = "0.0.1"
    model = load_model(write_state(state, tmp_path / "m.skops"))
    assert any("saved with scikit-learn 0.0.1" in n and "probe" in n for n in model.notes)


def test_file_is_written_atomically(mall_seg, tmp_path):
    path = mall_seg.save(tmp_path / "sub" / "model.skops")
    assert [p.name for p in path.parent.iterdir()] == ["model.skops"]
    comment = zipfile.ZipFile(io.BytesIO(path.read_bytes())).comment
    assert comment.startswith(b"custseg-sha256:")
