"""The Spark engine in local mode: the same answers as scikit-learn on the same scaled data, a
scikit-learn twin that transforms rows exactly as Spark does (so ``custseg predict`` scores a
Spark model), assignments that round-trip through Parquet, and the single-machine summary schema.

One Spark session (``local[1]``, UI off, small driver memory) serves the module; without Java or
PySpark the tests skip, and under CI they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import Segmenter, sample_customers, segment
from custseg.exceptions import DataError, MissingDependencyError, OptionError
from custseg.features import FeaturePlan, feature_frame
from custseg.outputs.export import MANIFEST, check_manifest
from custseg.outputs.model_file import load_model, save_model

from .conftest import need, shared_file

REL = 1e-3  # "within 0.1%"


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and Path(home, "bin", "java").exists()) or shutil.which("java") is not None


@pytest.fixture(scope="module")
def spark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        need("PySpark (pip install 'custseg[spark]')", False)
    need("Java 17+ for Spark (apt-get install openjdk-17-jre-headless)", _java())
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from custseg.spark import spark_session

    session = spark_session(
        "local[1]",
        {
            "spark.ui.enabled": "false",
            "spark.driver.memory": "512m",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def mall_seg(spark, tmp_path_factory):
    """The mall data segmented by Spark (k=5 among 4..5), its model file and Parquet output."""
    from custseg.spark import segment_spark

    path = shared_file("mall_customers.csv")
    seg = segment_spark(path, k=5, k_range="4..5", n_init=2, spark=spark)
    out = tmp_path_factory.mktemp("spark")
    seg.write_assignments(out / "segments.parquet")
    save_model(seg, out / "model.skops")
    yield seg, path, out
    seg.close()


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


# ---------------------------------------------------------------- the same answers


def test_engine_matches_sklearn_on_the_same_scaled_data(spark):
    """UCI wine (178 x 13, three cultivars), standardised: one array, both engines."""
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(np.loadtxt(shared_file("benchmarks/wine.data.gz")))
    on_spark = Segmenter(3, engine="spark", n_init=3, random_state=0).fit(X)
    reference = Segmenter(3, engine="lloyd", n_init=10, random_state=0).fit(X)
    assert abs(on_spark.inertia_ - reference.inertia_) <= REL * reference.inertia_
    assert _rel(on_spark.cluster_centers_, reference.cluster_centers_) <= REL
    assert (on_spark.labels_ == reference.labels_).all()


def test_pipeline_cost_and_centres_match_sklearn(mall_seg):
    from sklearn.cluster import KMeans

    seg, _, _ = mall_seg
    Z = seg.model_space()  # the same rows, scaled by the scikit-learn twin of Spark's pipeline
    reference = Segmenter(5, n_init=10, random_state=0).fit(Z)
    assert abs(seg.model.inertia_ - reference.inertia_) <= REL * reference.inertia_
    assert _rel(seg.model.cluster_centers_, reference.cluster_centers_) <= REL
    # Spark's cost is the within-cluster sum of squares of those very rows and centres.
    wcss = -KMeans(5, init=seg.model.cluster_centers_, n_init=1, max_iter=1).fit(Z).score(Z)
    assert seg.model.inertia_ == pytest.approx(wcss, rel=1e-6)
    # The criteria computed in Spark agree with scikit-learn's on the same partition.
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    chosen = next(m for m in seg.k_choice.metrics if m["k"] == 5)
    labels = seg.model.predict(Z)
    ch, db = calinski_harabasz_score(Z, labels), davies_bouldin_score(Z, labels)
    assert chosen["calinski_harabasz"] == pytest.approx(ch, rel=1e-4)
    assert chosen["davies_bouldin"] == pytest.approx(db, rel=1e-4)
    assert [m["k"] for m in seg.k_choice.metrics] == [4, 5]


def test_the_same_segments_as_the_single_machine(mall_seg, mall_path):
    seg, _, _ = mall_seg
    local = segment(mall_path, k=5, k_range="4..5")
    assert [p.size for p in seg.profiles] == [p.size for p in local.profiles]
    assert [p.name for p in seg.profiles] == [p.name for p in local.profiles]
    assert np.allclose(seg.centers.to_numpy(), local.centers.to_numpy(), rtol=1e-6)
    for ours, theirs in zip(seg.profiles, local.profiles, strict=True):
        assert ours.means == pytest.approx(theirs.means)
        assert ours.gender == pytest.approx(theirs.gender)


def test_k_search_on_the_driver_is_the_single_machine_one(spark):
    """k compared on a seeded sample of the same rows: the same k, metrics and reason as
    ``segment()``; the final fit on every row lands on the same centres."""
    from custseg.spark import segment_spark

    frame = sample_customers(2_400, seed=3)
    settings = {"k_range": "2..6", "k_search_rows": 2_000, "n_init": 4}
    seg = segment_spark(frame, spark=spark, **settings)
    local = segment(frame, **settings)
    try:
        assert seg.k == local.k and seg.k_choice.reason == local.k_choice.reason
        assert seg.k_choice.votes == local.k_choice.votes
        assert seg.params["k_search_rows"] == 2_000
        # Spark's StandardScaler divides by the sample standard deviation, scikit-learn's by
        # the population one: the same shape, scaled by sqrt(n / (n - 1)).
        shrink = (2_400 - 1) / 2_400
        for ours, theirs in zip(seg.k_choice.metrics, local.k_choice.metrics, strict=True):
            assert ours["k"] == theirs["k"]
            assert ours["inertia"] == pytest.approx(theirs["inertia"] * shrink, rel=1e-6)
            for name in ("silhouette", "calinski_harabasz", "davies_bouldin"):
                assert ours[name] == pytest.approx(theirs[name], rel=1e-6)
        assert seg.model.inertia_ == pytest.approx(local.model.inertia_ * shrink, rel=1e-6)
        assert [p.size for p in seg.profiles] == [p.size for p in local.profiles]
        assert any("compared k on a seeded sample of 2,000 of 2,400" in n for n in seg.notes)
    finally:
        seg.close()


def test_final_fit_is_lloyd_as_in_scikit_learn(spark):
    """The warm-started fit over Spark rows equals scikit-learn's Lloyd from the same start."""
    from sklearn.cluster import KMeans

    from custseg.spark import quiet_pandas
    from custseg.spark.lloyd import lloyd

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1.0, size=(700, 3)) for c in ([0, 0, 0], [4, 1, 0], [0, 5, 3])])
    start = X[rng.choice(len(X), 3, replace=False)]
    names = ["a", "b", "c"]
    with quiet_pandas():
        frame = spark.createDataFrame(pd.DataFrame(X, columns=names))
    variance = float(np.mean(np.var(X, axis=0)))
    ours = lloyd(frame, names, start, max_iter=300, tol=1e-4, variance=variance)
    theirs = KMeans(3, init=start, n_init=1, algorithm="lloyd", tol=1e-4).fit(X)
    assert np.allclose(ours.centers, theirs.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-9)
    assert list(ours.sizes) == list(np.bincount(theirs.labels_, minlength=3))
    assert abs(ours.n_iter - theirs.n_iter_) <= 1
    capped = lloyd(frame, names, start, max_iter=1, tol=1e-4, variance=variance)
    assert capped.n_iter == 1 and capped.inertia >= ours.inertia


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "none"])
def test_sklearn_twin_transforms_exactly_like_spark(spark, scale):
    from custseg.spark import quiet_pandas
    from custseg.spark.features import FEATURES, SparkFeatures

    frame = sample_customers(300, seed=1)
    frame.loc[[3, 50, 51], "Annual Income (k$)"] = np.nan
    frame.loc[[7, 8], "Gender"] = None
    plan = FeaturePlan(
        ("Age", "Annual Income (k$)", "Spending Score (1-100)"),
        ("Gender",),
        ("Annual Income (k$)",),
        scale,
    )
    with quiet_pandas():
        source = spark.createDataFrame(frame.astype({"Annual Income (k$)": float}))
    sf = SparkFeatures.for_plan(plan)
    prepared = sf.learn_modes(sf.prepare(source)).prepare(source)
    sf.fit(prepared)
    on_spark = np.array([r[0].toArray() for r in sf.transform(prepared).select(FEATURES).collect()])
    twin = sf.to_sklearn().transform(feature_frame(frame, plan))
    assert twin.shape == on_spark.shape == (300, 5)
    np.testing.assert_allclose(twin, on_spark, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- outputs


def test_assignments_round_trip_through_parquet(mall_seg):
    seg, path, out = mall_seg
    back = pd.read_parquet(out / "segments.parquet")
    source = pd.read_csv(path, dtype={"CustomerID": str})
    assert list(back.columns) == [*source.columns, "segment", "segment_name"]
    assert len(back) == 200 and back["CustomerID"].is_unique
    sizes = back["segment"].value_counts().sort_index()
    assert sizes.tolist() == [p.size for p in seg.profiles]
    assert dict(zip(back["segment"], back["segment_name"], strict=True)) == seg.names
    merged = back.merge(seg.assignments(), on="CustomerID", suffixes=("", "_driver"))
    assert (merged["segment"] == merged["segment_driver"]).all()


def test_a_spark_model_scores_with_predict(mall_seg):
    seg, path, out = mall_seg
    model = load_model(out / "model.skops")
    assert model.metadata["params"]["engine"] == "spark"
    assert model.metadata["n_rows"] == 200
    scored = model.assign(path).sort_values("CustomerID")
    back = pd.read_parquet(out / "segments.parquet").sort_values("CustomerID")
    assert scored["segment"].tolist() == back["segment"].tolist()


def test_summary_has_the_single_machine_schema(mall_seg, mall_path):
    seg, _, _ = mall_seg
    ours = json.loads(json.dumps(seg.summary()))
    theirs = json.loads(json.dumps(segment(mall_path, k=5, k_range="4..5").summary()))
    assert set(ours) == set(theirs)
    for key in ("params", "missing", "k_votes"):
        assert set(ours[key]) == set(theirs[key])
    assert [set(m) for m in ours["metrics"]] == [set(m) for m in theirs["metrics"]]
    assert [set(s) for s in ours["segments"]] == [set(s) for s in theirs["segments"]]
    assert ours["n_rows"] == ours["n_rows_used"] == 200
    assert ours["params"]["engine"] == "spark"
    assert any("compared k on every row (on one machine)" in n for n in ours["notes"])


def test_report_renders_from_a_spark_run(mall_seg, tmp_path):
    seg, _, _ = mall_seg
    try:
        html = seg.report(tmp_path / "report.html")
    except NotImplementedError:
        pytest.skip("the HTML report (issue 2) has not landed yet")
    assert (tmp_path / "report.html").exists() and "<html" in html.lower()


def test_missing_values_dropped_rows_and_sampling(spark):
    from custseg.spark import segment_spark

    frame = sample_customers(400, seed=2)
    frame.loc[[0, 10, 20], "Age"] = np.nan
    seg = segment_spark(
        frame, k=5, k_range="5..5", n_init=1, missing="drop", spark=spark, sample_rows=150,
        k_search_rows=200,
    )  # fmt: skip
    try:
        assert seg.n_rows == 400 and seg.n_used == 397
        # k compared on a sample, the final model fitted on every used row.
        assert 100 < seg.params["k_search_rows"] < 300
        assert any("compared k on a seeded sample" in note for note in seg.notes)
        used = frame.dropna(subset=["Age"])
        Z = seg.preprocessor.transform(feature_frame(used, seg.plan))
        assert seg.model.inertia_ == pytest.approx(-seg.model.score(Z), rel=1e-6)
        assert seg.missing == {"Age": 3, "Annual Income (k$)": 0, "Spending Score (1-100)": 0}
        assert seg.sampled and 80 < len(seg.table.frame) < 240
        assert sum(p.size for p in seg.profiles) == 397
        rows = seg.spark_frame.toPandas()
        assert rows["segment"].isna().sum() == 3
        assert rows.loc[rows["Age"].isna(), "segment"].isna().all()
        assert any("random sample" in note for note in seg.notes)
        assert seg.summary()["n_rows"] == 400
        assert seg.options.k == 5 and seg.options.n_init == 1 and seg.options.engine == "spark"
    finally:
        seg.close()


def test_bad_values_are_reported_over_all_rows(spark):
    from custseg.spark import segment_spark

    frame = sample_customers(300).astype({"Age": object})
    frame.loc[299, "Age"] = "forty"  # outside the driver sample
    with pytest.raises(DataError, match=r"'Age' has 1 non-numeric value \(e.g. 'forty'\)"):
        segment_spark(frame, k=3, spark=spark, sample_rows=50)


def test_roles_set_by_hand_apply_in_spark(spark):
    from custseg.spark import segment_spark

    seg = segment_spark(sample_customers(200), k=3, n_init=1, roles={"Age": "ignore"}, spark=spark)
    try:
        assert "Age" not in seg.features and seg.table.roles["Age"] == "ignore"
    finally:
        seg.close()
    with pytest.raises(OptionError, match=r"^tenure is not available with the Spark engine"):
        segment_spark(sample_customers(50), tenure="Joined", spark=spark)


def test_options_are_the_pipelines_own(monkeypatch):
    """One SegmentOptions, validated before Spark starts, with the single-machine defaults."""
    from custseg.pipeline.options import SegmentOptions
    from custseg.spark import DEFAULT_SEEDS, segment_spark
    from custseg.spark.run import _spark_options

    monkeypatch.setitem(sys.modules, "pyspark", None)  # any Spark work would fail loudly
    frame = sample_customers(50)
    with pytest.raises(OptionError, match=r"^k must be 'auto' or a whole number, not 'five'$"):
        segment_spark(frame, k="five")
    with pytest.raises(OptionError, match=r"^k_range must look like 2\.\.10"):
        segment_spark(frame, k_range="two to ten")
    with pytest.raises(OptionError, match=r"did you mean 'n_init'\?"):
        segment_spark(frame, n_inits=2)
    with pytest.raises(OptionError, match=r"^engine of a Spark run is 'spark', not 'lloyd'"):
        segment_spark(frame, engine="lloyd")
    assert _spark_options(None, {}) == SegmentOptions(n_init=DEFAULT_SEEDS, engine="spark")
    assert _spark_options(None, {"n_init": 5, "k": "4"}).n_init == 5
    given = SegmentOptions(k=4, seed=7)  # an options object keeps its own n_init
    assert _spark_options(given, {"scale": "robust"}) == given.replace(
        scale="robust", engine="spark"
    )


def test_missing_pyspark_says_which_extra(monkeypatch):
    import custseg.spark as engine

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'custseg\[spark\]'"):
        engine.spark_session()


def test_cli_run_with_spark(spark, mall_path, tmp_path, monkeypatch):
    import custseg.outputs.report as report
    from custseg.cli import app

    try:
        report.render_html(None)
    except NotImplementedError:  # until the HTML report lands, a stub keeps the run going
        monkeypatch.setattr(
            report, "render_html", lambda seg, path=None, **_: Path(path).write_text("<html/>")
        )
    except Exception:
        pass
    folder = tmp_path / "lake"
    folder.mkdir()
    mall = pd.read_csv(mall_path)
    mall.iloc[:120].to_parquet(folder / "part-0.parquet")
    mall.iloc[120:].to_parquet(folder / "part-1.parquet")
    out = tmp_path / "out"
    args = ["run", str(folder), "--engine", "spark", "--spark-master", "local[1]",
            "--k", "5", "--k-range", "5..5", "--n-init", "1", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} >= {
        "summary.json", "model.skops", "report.html", "segments.parquet"
    }  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_rows"] == 200 and summary["k"] == 5
    assert len(pd.read_parquet(out / "segments.parquet")) == 200
    # The Parquet parts are in the manifest too: a mixed set is caught there as well.
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert any(name.startswith("segments.parquet/part-") for name in listed)
    assert check_manifest(out)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.output
    forced = CliRunner().invoke(app, [*args, "--force"])  # the Parquet folder replaced whole
    assert forced.exit_code == 0, forced.output
    assert check_manifest(out) and len(pd.read_parquet(out / "segments.parquet")) == 200
    assert not list(out.glob(".custseg-*"))
    refused = CliRunner().invoke(app, [*args, "--write-table", "t"])
    assert refused.exit_code == 2 and "not available with --engine spark" in refused.output
