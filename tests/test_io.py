import numpy as np
import pandas as pd
import pytest

from custseg import load, sample_customers
from custseg.exceptions import ConfigError, DataError, SourceError
from custseg.read import auto_features, has_duplicates, normalise_name, resolve_columns, validate

MALL_VARIANTS = [
    ["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"],
    ["CustomerID", "Genre", "Age", "AnnualIncome", "SpendingScore"],
    ["customer_id", "sex", "age", "annual_income_thousands", "spending_score"],
    ["id", "GENDER", "Age", "Income", "Spending Score"],
]


@pytest.mark.parametrize("names", MALL_VARIANTS)
def test_exports_with_different_names_map_to_the_same_roles(names, tmp_path):
    frame = sample_customers(50)
    frame.columns = names
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    table = load(path)
    assert list(table.roles.values()) == ["id", "gender", "age", "income", "spending"]


def test_ids_like_0001_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "c.csv"
    sample_customers(20).to_csv(path, index=False)
    table = load(path)
    assert table.frame["CustomerID"].iloc[0] == "0001"


def test_unnamed_code_column_is_recognised_as_id(tmp_path):
    frame = sample_customers(30).rename(columns={"CustomerID": "ref"})
    table = load(frame)
    assert table.roles["ref"] == "id"
    assert any("ref" in n for n in table.notes)


def test_id_override_and_none(sample):
    table = load(sample, id_column="none")
    assert "id" not in table.roles.values()
    with pytest.raises(ConfigError, match="no column 'Customer'"):
        load(sample, id_column="Customer")


@pytest.mark.parametrize(
    "sep,encoding,newline",
    [
        (",", "utf-8", "\n"),
        (";", "utf-8-sig", "\r\n"),
        ("\t", "latin-1", "\r\n"),
        ("|", "utf-16", "\n"),
    ],
)
def test_csv_dialects_are_sniffed(tmp_path, sep, encoding, newline):
    frame = sample_customers(40)
    frame["City"] = ['Zürich, "Old" town'] * 20 + ["Köln"] * 20
    path = tmp_path / "c.txt"
    frame.to_csv(path, sep=sep, index=False, encoding=encoding, lineterminator=newline)
    table = load(path)
    assert table.frame.shape == frame.shape
    assert table.frame["City"].iloc[0] == 'Zürich, "Old" town'
    assert table.roles["Annual Income (k$)"] == "income"


def test_other_formats(tmp_path):
    frame = sample_customers(30)
    frame.to_parquet(tmp_path / "c.parquet")
    frame.to_json(tmp_path / "c.jsonl", orient="records", lines=True)
    with pd.ExcelWriter(tmp_path / "c.xlsx") as writer:
        frame.to_excel(writer, sheet_name="customers", index=False)
        frame.head(5).to_excel(writer, sheet_name="other", index=False)
    for name in ("c.parquet", "c.jsonl", "c.xlsx"):
        table = load(tmp_path / name)
        assert len(table.frame) == 30, name
        assert table.roles["Spending Score (1-100)"] == "spending"
    assert any("2 sheets" in n for n in load(tmp_path / "c.xlsx").notes)
    assert len(load(tmp_path / "c.xlsx", sheet="other").frame) == 5
    with pytest.raises(SourceError, match="Sheet 'nope'"):
        load(tmp_path / "c.xlsx", sheet="nope")


def test_dataframe_input_is_not_modified(sample):
    before = sample.copy()
    load(sample)
    pd.testing.assert_frame_equal(sample, before)


@pytest.mark.parametrize(
    "content,match",
    [(b"", "is empty"), (b"a,b,c\n", "header but no rows"), (b"\x00\x01\x02\xff" * 50, "binary")],
)
def test_unreadable_files(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises((SourceError, DataError), match=match):
        load(path)


def test_missing_file():
    with pytest.raises(SourceError, match="No such file"):
        load("/nonexistent/customers.csv")


def test_normalise_name():
    assert normalise_name("Annual Income (k$)") == "annual income k"
    assert normalise_name("AnnualIncome") == "annual income"
    assert normalise_name("CustomerID") == "customer id"


def test_feature_names_resolve_by_format_and_role(sample):
    table = load(sample)
    assert resolve_columns(table, ["income", "spending score (1-100)"]) == [
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    with pytest.raises(DataError, match="Did you mean 'Age'"):
        resolve_columns(table, ["Agee"])


def test_auto_features_leave_out_useless_columns_with_notes(sample):
    frame = sample.assign(
        Empty=np.nan, Const=3, Notes=[f"free text {i}" for i in range(len(sample))]
    )
    table = load(frame)
    features, notes = auto_features(table)
    assert features == ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    text = " ".join(notes)
    for col in ("CustomerID", "Empty", "Const", "Notes", "Gender"):
        assert col in text


def _table(**columns):
    return load(pd.DataFrame(columns))


def test_validation_reports_every_problem_at_once():
    table = _table(
        CustomerID=["1", "2", "2", "4"],
        Age=[20, "forty", 30, 40],
        Income=[1.0, np.inf, 3.0, 4.0],
        Empty=[np.nan] * 4,
        Const=[1, 1, 1, 1],
    )
    with pytest.raises(DataError) as info:
        validate(table, ["Age", "Income", "Empty", "Const"], n_clusters=5)
    problems = info.value.problems
    text = "\n".join(problems)
    assert "'forty' on row 1" in text
    assert "infinite" in text
    assert "no values" in text and "same value" in text
    assert "duplicated id" in text
    assert "fewer than the 5 segments" in text
    assert len(problems) == 6


def test_non_numeric_values_name_file_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,Age,Income\n1,20,10\n2,forty,20\n3,30,30\n4,40,x\n")
    table = load(path)
    with pytest.raises(DataError, match="'forty' on line 3"):
        validate(table, ["Age", "Income"])


def test_naming_an_id_or_text_feature_is_an_error(sample):
    table = load(sample)
    with pytest.raises(DataError, match="customer id"):
        validate(table, ["CustomerID"])
    with pytest.raises(DataError, match="--one-hot"):
        validate(table, ["Gender"])


def test_missing_policy(sample):
    frame = sample.copy()
    frame.loc[[3, 7], "Age"] = np.nan
    table = load(frame)
    assert validate(table, ["Age"])["Age"] == 2
    with pytest.raises(DataError, match="2 missing values"):
        validate(table, ["Age"], missing="error")
    with pytest.raises(ConfigError):
        validate(table, ["Age"], missing="zero")


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1, 2, 3], False),
        ([1, 2, 1], True),
        (["a", None, None], False),  # missing ids are not duplicates
        ([1.0, np.nan, np.nan], False),
        (pd.array(["x", "y", "x"], dtype="string"), True),
        ([1, "a", 1], True),  # mixed objects: the pandas fallback
    ],
)
def test_has_duplicates(values, expected):
    assert has_duplicates(pd.Series(values)) is expected


def test_pyarrow_reader_keeps_quoted_newlines(tmp_path, monkeypatch):
    """Big files go through pyarrow; a note spanning lines must not split or shift rows."""
    import custseg.read.files as io_module

    monkeypatch.setattr(io_module, "PYARROW_BYTES", 0)  # this small file takes the big-file path
    n = 60_000
    frame = pd.DataFrame(
        {
            "CustomerID": [f"{i:06d}" for i in range(n)],
            "Age": np.arange(n) % 50 + 18,
            "Note": [f"first line {i}\nsecond line" for i in range(n)],
        }
    )
    path = tmp_path / "notes.csv"
    frame.to_csv(path, index=False)
    table = load(path)
    assert len(table.frame) == n
    assert table.frame["CustomerID"].tolist() == frame["CustomerID"].tolist()
    assert table.frame["Note"].tolist() == frame["Note"].tolist()


@pytest.mark.parametrize(
    "text",
    [
        "CustomerID, Gender, Age, Income\n0001, Male, 31, 40.5\n0002, Female, 45, 60\n",
        "\ufeffCustomerID,Age,Income\n0001,31,40.5\n0002,,60\n0003,NA,n/a\n",
        'id,Age,Note\n1,31,"a, quoted\nnote"\n2,45,plain\n',
        "CustomerID;Age;Income\n7;31;40.5\n8;45;60.25\n",
    ],
    ids=["spaces-after-commas", "bom-and-missing", "quoted-newline", "semicolons"],
)
def test_pyarrow_path_reads_what_the_c_reader_reads(text, tmp_path, monkeypatch):
    import custseg.read.files as io_module

    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    small = load(path)
    monkeypatch.setattr(io_module, "PYARROW_BYTES", 0)
    big = load(path)
    pd.testing.assert_frame_equal(big.frame, small.frame)
    assert big.roles == small.roles
