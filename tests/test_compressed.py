"""Compressed inputs (.csv.gz, .tsv.gz, .csv.zst, .csv.bz2, .csv.xz, a .zip holding one table):
read by run, explore, predict, rfm and the dashboard upload as the uncompressed file is."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from custseg import load, sample_customers
from custseg.cli import app
from custseg.exceptions import SourceError

runner = CliRunner()
KINDS = ["csv.gz", "tsv.gz", "csv.zst", "csv.bz2", "csv.xz", "zip"]


def compress(plain: Path, kind: str) -> Path:
    """``plain`` compressed as ``kind`` (the .tsv kinds take a .tsv file)."""
    data = plain.read_bytes()
    target = plain.with_name(f"{plain.stem}.{kind}")
    if kind.endswith(".gz"):
        target.write_bytes(gzip.compress(data))
    elif kind.endswith(".bz2"):
        target.write_bytes(bz2.compress(data))
    elif kind.endswith(".xz"):
        target.write_bytes(lzma.compress(data))
    elif kind.endswith(".zst"):
        with pa.CompressedOutputStream(str(target), "zstd") as out:
            out.write(data)
    else:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(plain.name, data)
            archive.writestr("__MACOSX/._" + plain.name, b"resource fork")  # ignored
    return target


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    frame = sample_customers(400, seed=5)
    frame.loc[3, "Annual Income (k$)"] = np.nan
    paths = {"csv": folder / "customers.csv", "tsv": folder / "customers.tsv"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], index=False, sep="\t")
    for kind in KINDS:
        paths[kind] = compress(paths["tsv" if kind.startswith("tsv") else "csv"], kind)
    return paths


def run(source: Path, out: Path) -> bytes:
    args = ["run", str(source), "--out", str(out), "--k", "4", "--k-range", "4", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return (out / "segments.csv").read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_load_reads_the_same_table(tables, kind):
    plain = load(tables["tsv" if kind.startswith("tsv") else "csv"])
    packed = load(tables[kind])
    pd.testing.assert_frame_equal(packed.frame, plain.frame)
    assert packed.roles == plain.roles and packed.first_line == plain.first_line
    assert packed.source == str(tables[kind])


@pytest.fixture(scope="module")
def plain_segments(tables, tmp_path_factory) -> bytes:
    return run(tables["csv"], tmp_path_factory.mktemp("plain"))


@pytest.mark.parametrize("kind", ["csv.gz", "csv.zst", "zip"])
def test_run_gives_byte_identical_segments(tables, plain_segments, kind, tmp_path):
    assert run(tables[kind], tmp_path / "out") == plain_segments


def test_explore_predict_and_rfm_read_compressed_files(tables, tmp_path):
    result = runner.invoke(app, ["explore", str(tables["csv.bz2"])])
    assert result.exit_code == 0, result.output
    assert "400" in result.output
    run(tables["csv"], tmp_path / "o")
    out = tmp_path / "p.csv"
    args = ["predict", str(tmp_path / "o" / "model.skops"), str(tables["csv.xz"]), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    plain = pd.read_csv(tmp_path / "o" / "segments.csv")
    assert (pd.read_csv(out)["segment"] == plain["segment"]).all()
    days = pd.date_range("2024-01-01", periods=90, freq="D")
    rng = np.random.default_rng(0)
    tx = pd.DataFrame(
        {
            "customer": [f"c{i % 60}" for i in range(600)],
            "date": rng.choice(days, 600).astype("datetime64[ns]").astype(str),
            "amount": np.round(rng.uniform(5, 200, 600), 2),
        }
    )
    tx_csv = tmp_path / "tx.csv"
    tx.to_csv(tx_csv, index=False)
    outs = []
    for source in (tx_csv, compress(tx_csv, "csv.gz")):
        out = tmp_path / f"rfm-{source.name}"
        args = ["rfm", str(source), "--out", str(out), "--k", "3", "--k-range", "3", "-q"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outs.append((out / "rfm_features.csv").read_bytes())
    assert outs[0] == outs[1]


def test_dashboard_upload_reads_a_compressed_file(tables):
    pytest.importorskip("streamlit", reason="the dashboard needs the 'app' extra")
    from custseg.app import access, state

    assert {"gz", "zst", "bz2", "xz", "zip"} <= set(state.UPLOAD_TYPES)
    loaded = state.load_upload("customers.csv.gz", tables["csv.gz"].read_bytes())
    assert len(loaded.table.frame) == 400 and loaded.table.source == "customers.csv.gz (uploaded)"
    assert access.is_table_name("customers.csv.zst") and access.is_table_name("export.zip")
    assert not access.is_table_name("notes.gz") and not access.is_table_name("secrets.env.gz")


def test_damaged_or_ambiguous_archives_are_clear_errors(tables, tmp_path):
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(tables["csv.gz"].read_bytes()[:200])
    with pytest.raises(SourceError, match=r"Could not unpack '.*cut.csv.gz'.*looks damaged"):
        load(cut)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "x\n2\n")
    with pytest.raises(SourceError, match=r"holds 2 files \('a.csv', 'b.csv'\).*one table"):
        load(two)
    empty = tmp_path / "empty.csv.gz"
    empty.write_bytes(gzip.compress(b""))
    with pytest.raises(SourceError, match=r"'.*empty.csv.gz' is empty") as info:
        load(empty)
    assert "custseg-unpacked" not in str(info.value)  # names the user's file, not the temp copy
    result = runner.invoke(app, ["run", str(cut), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "Traceback" not in result.output
