"""The dashboard through Streamlit's AppTest: each flow a user takes, run in-process."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("streamlit", reason="the dashboard needs the 'app' extra")

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from custseg import sample_customers  # noqa: E402
from custseg.app import APP_FILE, access, state, views  # noqa: E402
from custseg.cli import app as cli_app  # noqa: E402
from custseg.exceptions import ConfigError, SourceError  # noqa: E402

TIMEOUT = 120
INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"
TOKEN = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def no_access_settings(monkeypatch):
    """The page as ``custseg app`` starts it on loopback: no token, no data folder."""
    monkeypatch.delenv(access.TOKEN_ENV, raising=False)
    monkeypatch.delenv(access.DATA_DIR_ENV, raising=False)


@pytest.fixture(autouse=True)
def fresh_caches():
    """AppTest runs in this process: start each test with empty caches."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def calls(monkeypatch):
    """Counts of the expensive library calls the dashboard makes."""
    import custseg.pipeline.search as search

    counts = {"load": 0, "choose_k": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            if name == "choose_k":  # the page's progress bar is driven by the library
                assert callable(kwargs["progress"])
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(state, "load", counting("load", state.load))
    monkeypatch.setattr(search, "choose_k", counting("choose_k", search.choose_k))
    return counts


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """A data folder with tables, a secrets file, and a link out; a table outside it."""
    root = tmp_path / "data"
    (root / "nested").mkdir(parents=True)
    (root / "parts").mkdir()
    sample_customers(150, seed=2).to_parquet(root / "customers.parquet")
    sample_customers(90, seed=6).to_csv(root / "nested" / "more.csv", index=False)
    parts = sample_customers(80, seed=8)
    for i in range(2):
        parts.iloc[40 * i : 40 * (i + 1)].to_parquet(root / "parts" / f"part-{i}.parquet")
    for secret in (".env", "secrets.env"):
        (root / secret).write_text("DB_PASSWORD=hunter2\n")
    (root / "notes.md").write_text("# notes\n")
    sample_customers(60, seed=7).to_csv(tmp_path / "outside.csv", index=False)
    (root / "escape.csv").symlink_to(tmp_path / "outside.csv")
    monkeypatch.setenv(access.DATA_DIR_ENV, str(root))
    return root


def start() -> AppTest:
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT)
    at.run()
    return at


def unmd(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def cards(at: AppTest) -> list[str]:
    """Segment names on the cards, in order."""
    titles = [m.value for m in at.markdown if "&#9679;" in m.value]
    return [unmd(re.search(r"\*\*(.+)\*\*", t).group(1)) for t in titles]


def widget(widgets, label: str):
    return next(w for w in widgets if unmd(w.label) == label)


def shown(at: AppTest):
    return at.session_state["last_good"].seg


def no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.radio(key="source").set_value("Upload a file").run()
    at.file_uploader(key="upload").set_value((name, content, "application/octet-stream"))
    return at.run()


def sign_in(at: AppTest, token: str) -> AppTest:
    at.text_input[0].input(token)
    at.button[0].click()
    return at.run()


def signed_out_page(at: AppTest) -> None:
    """Only the title and the sign-in form: no data, no sample, no source or path field."""
    assert [w.label for w in at.text_input] == ["Access token"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.children
    for kind in ("radio", "selectbox", "file_uploader", "dataframe", "plotly_chart"):
        assert not at.get(kind), kind
    assert "last_good" not in at.session_state
    assert "Sample customers" not in str(at)


@pytest.fixture
def upload_limit_1mb():
    """``custseg app --max-upload-mb 1``, as Streamlit's own server option."""
    from streamlit import config

    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    yield
    config.set_option("server.maxUploadSize", before)


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    buffer = io.BytesIO()
    if suffix == "csv":
        frame.to_csv(buffer, index=False)
    elif suffix == "tsv":
        frame.to_csv(buffer, index=False, sep="\t")
    elif suffix == "parquet":
        frame.to_parquet(buffer, index=False)
    elif suffix == "xlsx":
        frame.to_excel(buffer, index=False)
    return buffer.getvalue()


# ---------------------------------------------------------------- flows


def test_sample_data_shows_cards_charts_and_downloads():
    at = start()
    no_failure(at)
    seg = shown(at)
    assert seg.k == seg.k_choice.recommended
    assert cards(at) == [p.name for p in seg.profiles]
    assert seg.features == ["Age", INCOME, SPENDING]
    assert at.subheader[0].value == f"{seg.k} segments of 200 customers"
    assert at.success[0].value.startswith("Recommended k=")
    # recognised roles are shown and correctable
    assert widget(at.selectbox, "CustomerID").value == "id"
    assert widget(at.selectbox, "Gender").value == "gender"
    assert widget(at.selectbox, INCOME).value == "income"
    labels = [b.label for b in at.get("download_button")]
    files = ("segments.csv", "report.html", "model.skops", "rules.sql")
    assert labels == [f"Download {n}" for n in files]
    guidance = [c.value for c in at.caption if c.value.startswith("Feature guidance: ")]
    assert len(guidance) == 1 and "age: use" in guidance[0]
    rules = [m.value for m in at.markdown if m.value.startswith("**Rule:**")]
    assert len(rules) == seg.k and "fits" in rules[0]
    assert [t.label for t in at.tabs] == list(views.VIEWS)
    assert len(at.get("plotly_chart")) == 2  # 2D and sizes; the other views are drawn when open


@pytest.mark.parametrize(
    ("view", "charts", "text"),
    [
        ("3D view", 1, "Drag to rotate"),
        ("Profiles", 1, "Mean of each feature per segment"),
        ("Choosing k", 4, "Orange rings mark the k each criterion prefers"),
        ("Data", 3, "built-in sample customers: 200 rows, 5 columns"),
    ],
)
def test_each_view_draws_when_opened(view, charts, text):
    at = start()
    at.session_state["view"] = view
    at.run()
    no_failure(at)
    assert len(at.get("plotly_chart")) == charts
    assert any(text in unmd(m.value) for m in [*at.markdown, *at.caption])
    if view in ("Profiles", "Data"):
        assert len(at.dataframe) == 2


def test_cards_and_headline_show_stability_and_confidence():
    at = start()
    no_failure(at)
    seg = shown(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Confidence in k"] == seg.k_choice.confidence == "strong"
    captions = [unmd(c.value) for c in at.caption if c.value.startswith("Segment ")]
    assert len(captions) == seg.k
    for p, caption in zip(seg.profiles, captions, strict=True):
        label = seg.stability.labels[p.id]
        assert caption.endswith(f"stability {seg.stability.segments[p.id]:.2f} ({label})")
    assert not at.warning  # clear groups: no "no natural segments"
    at.session_state["view"] = "Choosing k"
    at.run()
    assert any("Each bar is one segment's stability" in unmd(m.value) for m in at.markdown)


def test_one_continuous_population_says_no_natural_segments():
    rng = np.random.default_rng(0)
    blob = pd.DataFrame(rng.normal(50, 10, (300, 2)), columns=["Recency", "Monetary"])
    at = start()
    upload(at, "blob.csv", blob.to_csv(index=False).encode())
    no_failure(at)
    assert shown(at).k_choice.confidence == "none"
    assert {m.label: m.value for m in at.metric}["Confidence in k"] == "none"
    assert any("No natural segments" in w.value for w in at.warning)


def test_k_change_reuses_the_data_and_the_k_search(calls):
    at = start()
    assert calls == {"load": 1, "choose_k": 1}
    at.radio(key="k_mode").set_value("Choose").run()
    assert at.slider[0].value == shown(at).k_choice.recommended
    for k in (3, 7, 4):
        at.slider[0].set_value(k).run()
        no_failure(at)
        assert len(cards(at)) == k == shown(at).k
        assert at.info[0].value.startswith(f"You chose k = {k}.")
    assert calls == {"load": 1, "choose_k": 1}
    at.radio(key="k_mode").set_value("Recommended").run()
    assert shown(at).k == shown(at).k_choice.recommended


def test_feature_presets_and_custom_features(calls):
    at = start()
    preset = widget(at.selectbox, "Feature set")
    assert preset.options == [
        "All numeric columns",
        "Income × spending (2D)",
        "Age × income × spending (3D)",
        "Custom",
    ]
    preset.set_value("Income × spending (2D)").run()
    no_failure(at)
    assert shown(at).features == [INCOME, SPENDING]
    assert calls["choose_k"] == 2  # new features: a new k search
    at.session_state["view"] = "3D view"
    at.run()
    assert at.info[0].value == "The 3D view needs at least three numeric features."

    widget(at.selectbox, "Feature set").set_value("Custom").run()
    at.multiselect(key=next(m.key for m in at.multiselect)).set_value(["Age", SPENDING]).run()
    no_failure(at)
    assert shown(at).features == ["Age", SPENDING]

    widget(at.selectbox, "Scaling").set_value("minmax").run()
    assert shown(at).plan.scale == "minmax"


def test_log_and_one_hot_options_reach_the_segmentation_and_survive_a_k_change():
    from custseg import segment

    frame = sample_customers(300, seed=4)
    frame["Total Spend"] = np.random.default_rng(4).lognormal(5, 1.2, len(frame)).round(2)
    at = start()
    upload(at, "shop.csv", table_bytes(frame, "csv"))
    no_failure(at)
    assert not shown(at).plan.log and not shown(at).plan.categorical

    widget(at.checkbox, "Log-transform skewed columns").check().run()
    widget(at.multiselect, "Also segment on categories (one-hot)").set_value(["Gender"]).run()
    no_failure(at)
    seg = shown(at)
    same = segment(frame, log="auto", one_hot=["Gender"])
    assert "Total Spend" in seg.plan.log
    assert seg.plan == same.plan
    assert seg.k == same.k and np.array_equal(seg.labels, same.labels)
    assert seg.model.n_features_in_ == len(seg.plan.numeric) + frame["Gender"].nunique()

    at.radio(key="k_mode").set_value("Choose").run()
    at.slider[0].set_value(3 if seg.k != 3 else 4).run()
    no_failure(at)
    other = shown(at)
    assert other.k != seg.k
    assert other.plan == seg.plan  # the options are kept when only k changes


def test_role_correction_changes_the_features():
    at = start()
    widget(at.selectbox, "Age").set_value("categorical").run()
    no_failure(at)
    assert shown(at).features == [INCOME, SPENDING]
    # the same option as the command line's --role Age=categorical
    assert shown(at).options.roles == (("Age", "categorical"),)
    assert "Age × income × spending (3D)" not in widget(at.selectbox, "Feature set").options


@pytest.mark.parametrize("suffix", ["csv", "tsv", "parquet", "xlsx"])
def test_upload(suffix):
    frame = sample_customers(120, seed=3).rename(columns={"Gender": "Genre"})
    at = start()
    upload(at, f"shop.{suffix}", table_bytes(frame, suffix))
    no_failure(at)
    seg = shown(at)
    assert seg.table.source == f"shop.{suffix} (uploaded)"
    assert len(seg.table.frame) == 120
    assert seg.table.roles["Genre"] == "gender"
    assert cards(at) == [p.name for p in seg.profiles]
    assert not at.info  # fresh results, not the previous ones


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", b"\x00\x01\x02 not a table", "'bad.csv' is not a text table"),
        ("bad.parquet", b"PAR1 not really parquet", "Could not read 'bad.parquet'"),
        ("empty.csv", b"", "'empty.csv' is empty"),
        ("words.csv", b"name,city\nann,rome\nbob,oslo\ncid,lima\n", "no numeric columns"),
    ],
)
def test_bad_file_shows_the_message_and_keeps_the_previous_results(name, content, message):
    at = start()
    before = cards(at)
    upload(at, name, content)
    assert not at.exception
    problems = [unmd(e.value) for e in at.error] + [unmd(w.value) for w in at.warning]
    assert any(message in p for p in problems), problems
    assert "/tmp" not in " ".join(problems)  # the user's file name, not our temporary copy
    assert cards(at) == before
    assert shown(at).table.source == "built-in sample customers"
    assert at.info[0].value.startswith("Showing the previous results")


def test_settings_survive_a_bad_upload():
    at = start()
    widget(at.selectbox, "Scaling").set_value("robust").run()
    at.radio(key="k_mode").set_value("Choose").run()
    upload(at, "bad.csv", b"\x00\x00")
    assert at.error and shown(at).plan.scale == "robust"
    at.radio(key="source").set_value("Sample customers").run()
    no_failure(at)
    assert widget(at.selectbox, "Scaling").value == "robust"
    assert at.radio(key="k_mode").value == "Choose"
    assert shown(at).plan.scale == "robust"


def test_data_problem_after_a_good_upload_keeps_it_on_screen():
    frame = sample_customers(100, seed=1)
    frame.loc[[3, 50], "Age"] = np.nan
    at = start()
    upload(at, "gaps.csv", table_bytes(frame, "csv"))
    no_failure(at)
    assert shown(at).table.source == "gaps.csv (uploaded)"
    widget(at.selectbox, "Missing values").set_value("error").run()
    assert not at.exception
    assert "has 2 missing values (first on line 5)" in unmd(at.error[0].value)
    assert shown(at).table.source == "gaps.csv (uploaded)"
    widget(at.selectbox, "Missing values").set_value("drop").run()
    no_failure(at)
    assert int(shown(at).used.sum()) == 98


def test_server_path_reads_tables_inside_the_data_folder(data_folder):
    at = start()
    at.radio(key="source").set_value("Path on the server").run()
    assert at.selectbox(key="server_pick").options == [
        "customers.parquet",
        "nested/more.csv",
        "parts",
        views.TYPE_PATH,
    ]
    at.selectbox(key="server_pick").set_value("customers.parquet").run()
    no_failure(at)
    assert shown(at).table.source == "customers.parquet (data folder)"
    assert len(shown(at).table.frame) == 150
    at.selectbox(key="server_pick").set_value("parts").run()
    no_failure(at)
    assert len(shown(at).table.frame) == 80  # a Parquet folder is one table

    at.selectbox(key="server_pick").set_value(views.TYPE_PATH).run()
    at.text_input(key="server_path").input(str(data_folder / "nested" / "more.csv")).run()
    no_failure(at)
    assert shown(at).table.source == "nested/more.csv (data folder)"
    at.text_input(key="server_path").input("nope.csv").run()
    assert "No table 'nope.csv' in the data folder" in unmd(at.error[0].value)
    assert shown(at).table.source == "nested/more.csv (data folder)"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("../outside.csv", "goes up a folder with '..'"),
        ("nested/../../outside.csv", "goes up a folder with '..'"),
        ("{outside}", "is outside the data folder"),
        ("/etc/passwd", "is outside the data folder"),
        ("escape.csv", "is a link to a file outside the data folder"),
        (".env", "is hidden"),
        ("secrets.env", "is not a table"),
    ],
)
def test_server_path_refuses_anything_but_tables_in_the_data_folder(
    data_folder, calls, typed, message
):
    outside = data_folder.parent / "outside.csv"
    at = start()
    loads = calls["load"]
    at.radio(key="source").set_value("Path on the server").run()
    at.selectbox(key="server_pick").set_value(views.TYPE_PATH).run()
    at.text_input(key="server_path").input(typed.format(outside=outside)).run()
    assert not at.exception
    assert message in unmd(at.error[0].value)
    assert calls["load"] == loads  # refused before anything is read
    assert "hunter2" not in str(at)
    assert shown(at).table.source == "built-in sample customers"


def test_without_a_data_folder_the_page_offers_upload_and_sample_only(monkeypatch):
    monkeypatch.delenv(access.DATA_DIR_ENV, raising=False)
    at = start()
    assert at.radio(key="source").options == ["Sample customers", "Upload a file"]


# ---------------------------------------------------------------- sign-in and upload limits


def test_with_a_token_the_page_shows_only_the_sign_in_field(monkeypatch, calls):
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    at = start()
    no_failure(at)
    signed_out_page(at)
    assert calls == {"load": 0, "choose_k": 0}


def test_a_wrong_token_shows_an_error_and_nothing_else(monkeypatch, data_folder, calls):
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    monkeypatch.setattr(views, "WRONG_TOKEN_DELAY", 0)
    at = start()
    for wrong in ("", "guess", TOKEN[:-1], TOKEN + "x"):
        sign_in(at, wrong)
        assert not at.exception
        assert [e.value for e in at.error] == [
            "That is not the access token. Ask whoever runs this dashboard for it."
        ]
        signed_out_page(at)
    assert calls == {"load": 0, "choose_k": 0}


def test_the_right_token_opens_the_page_for_the_session(monkeypatch, data_folder):
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    at = start()
    sign_in(at, f"  {TOKEN} ")  # pasted with spaces
    no_failure(at)
    assert not [w for w in at.text_input if w.label == "Access token"]
    assert shown(at).table.source == "built-in sample customers"
    assert cards(at) == [p.name for p in shown(at).profiles]
    at.radio(key="source").set_value("Path on the server").run()  # still signed in
    assert "customers.parquet" in at.selectbox(key="server_pick").options


def test_the_token_is_compared_in_constant_time(monkeypatch):
    seen = []
    real = access.hmac.compare_digest
    monkeypatch.setattr(access.hmac, "compare_digest", lambda a, b: seen.append(1) or real(a, b))
    assert access.token_matches(TOKEN, TOKEN) and not access.token_matches("x", TOKEN)
    assert seen == [1, 1]


def test_an_oversize_upload_gets_a_message(upload_limit_1mb):
    content = table_bytes(sample_customers(60000, seed=5), "csv")
    size = f"{len(content) / state.MB:.1f} MB"
    assert len(content) > state.MB
    at = start()
    upload(at, "big.csv", content)
    assert not at.exception
    message = unmd(at.error[0].value)
    assert f"'big.csv' is {size}; this dashboard takes files up to 1 MB" in message
    assert "custseg app --max-upload-mb" in message
    assert shown(at).table.source == "built-in sample customers"


def test_data_folder_rules_for_parquet_folders_hidden_folders_and_long_listings(tmp_path):
    root = tmp_path / "data"
    (root / ".private").mkdir(parents=True)
    (root / "leaky").mkdir()
    (root / "empty").mkdir()
    sample_customers(20).to_csv(root / ".private" / "hidden.csv", index=False)
    sample_customers(20).to_parquet(tmp_path / "elsewhere.parquet")
    sample_customers(20).to_parquet(root / "leaky" / "part-0.parquet")
    (root / "leaky" / "part-1.parquet").symlink_to(tmp_path / "elsewhere.parquet")
    for i in range(5):
        sample_customers(20).to_csv(root / f"t{i}.csv", index=False)
    assert access.list_tables(root) == [f"t{i}.csv" for i in range(5)]
    assert access.list_tables(root, limit=2) == ["t0.csv", "t1.csv"]
    with pytest.raises(SourceError, match="holds links to files outside the data folder"):
        access.resolve_table(root, "leaky")
    with pytest.raises(SourceError, match="is a folder without Parquet files"):
        access.resolve_table(root, "empty")
    with pytest.raises(SourceError, match="is hidden"):
        access.resolve_table(root, ".private/hidden.csv")
    assert access.resolve_table(root, f"  '{root / 't1.csv'}' ") == root / "t1.csv"


def test_launch_environment_needs_a_long_token_off_loopback(tmp_path):
    with pytest.raises(ConfigError, match="Refusing to listen on '10.0.0.5' without a token"):
        access.launch_environment("10.0.0.5", loopback=False, environ={})
    with pytest.raises(ConfigError, match="is 15 characters long; use at least 16"):
        access.launch_environment("127.0.0.1", loopback=True, environ={access.TOKEN_ENV: "x" * 15})
    env = access.launch_environment(
        "10.0.0.5", loopback=False, data_dir=tmp_path, environ={access.TOKEN_ENV: TOKEN}
    )
    assert env[access.TOKEN_ENV] == TOKEN and env[access.DATA_DIR_ENV] == str(tmp_path)
    assert access.launch_environment("::1", loopback=True, environ={}) == {}


# ---------------------------------------------------------------- downloads and helpers


def test_downloads_hold_the_segments_the_report_and_a_loadable_model(tmp_path):
    from custseg import load, segment
    from custseg.outputs.model_file import load_model

    seg = segment(load(sample_customers()), k=4)
    csv = pd.read_csv(io.BytesIO(state.segments_csv(seg)), dtype={"CustomerID": str})
    assert list(csv.columns[-2:]) == ["segment", "segment_name"]
    assert csv["segment"].tolist() == seg.labels.tolist()

    (tmp_path / "model.skops").write_bytes(state.model_bytes(seg))
    model = load_model(tmp_path / "model.skops")
    assert model.metadata["k"] == 4

    html = state.report_html(seg).decode("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert all(p.name in html for p in seg.profiles)


def test_markdown_escaping_shows_user_text_literally():
    assert views.md("Income (k$) * 2 _x_ <b>") == r"Income (k\$) \* 2 \_x\_ \<b\>"


def test_app_command_runs_streamlit_on_loopback(monkeypatch):
    import custseg.cli.dashboard as command

    seen = {}

    def fake_exec(path, argv):
        seen["argv"] = argv
        raise SystemExit(0)

    monkeypatch.setattr(command.os, "execve", lambda path, argv, env: fake_exec(path, argv))
    monkeypatch.setattr(command.subprocess, "call", lambda argv, env: fake_exec(argv[0], argv))
    result = CliRunner().invoke(cli_app, ["app", "--port", "8765"])
    assert result.exit_code == 0, result.output
    argv = seen["argv"]
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4] == str(APP_FILE)
    options = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8765"
    assert options["--server.headless"] == "true"
    assert options["--server.maxUploadSize"] == "200"
    assert options["--browser.gatherUsageStats"] == "false"


def test_app_command_refuses_a_network_address_without_a_token(monkeypatch):
    import custseg.cli.dashboard as command

    monkeypatch.setattr(command.os, "execve", lambda *a: pytest.fail("Streamlit started"))
    result = CliRunner().invoke(cli_app, ["app", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "Refusing to listen on '0.0.0.0' without a token" in result.output
    assert f"Set {access.TOKEN_ENV} to a secret of at least 16 characters" in result.output
    monkeypatch.setenv(access.TOKEN_ENV, "too-short")
    result = CliRunner().invoke(cli_app, ["app"])
    assert result.exit_code == 2
    assert f"{access.TOKEN_ENV} is 9 characters long; use at least 16" in result.output


def test_app_command_passes_the_token_data_folder_and_upload_limit(monkeypatch, tmp_path):
    import custseg.cli.dashboard as command

    seen = {}

    def fake_exec(path, argv, env):
        seen.update(argv=argv, env=env)
        raise SystemExit(0)

    monkeypatch.setattr(command.os, "execve", fake_exec)
    monkeypatch.setenv(access.TOKEN_ENV, TOKEN)
    args = ["app", "--host", "0.0.0.0", "--data-dir", str(tmp_path), "--max-upload-mb", "5"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert "sign-in required" in result.output
    options = dict(zip(seen["argv"][5::2], seen["argv"][6::2], strict=True))
    assert options["--server.address"] == "0.0.0.0"
    assert options["--server.maxUploadSize"] == "5"
    assert seen["env"][access.TOKEN_ENV] == TOKEN
    assert seen["env"][access.DATA_DIR_ENV] == str(tmp_path.resolve())


def test_app_command_opens_server_paths_only_with_a_data_folder(monkeypatch, tmp_path):
    import custseg.cli.dashboard as command

    seen = {}
    monkeypatch.setattr(
        command.os, "execve", lambda path, argv, env: seen.update(env=env) or sys.exit(0)
    )
    monkeypatch.setenv(access.DATA_DIR_ENV, str(tmp_path))  # left over: not an opt-in
    result = CliRunner().invoke(cli_app, ["app"])
    assert result.exit_code == 0, result.output
    assert access.DATA_DIR_ENV not in seen["env"]
    result = CliRunner().invoke(cli_app, ["app", "--data-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2


def test_app_on_a_network_address_without_a_token_exits_and_leaves_no_listener(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != access.TOKEN_ENV}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "custseg", "app", "--host", "0.0.0.0", "--port", str(port)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"Set {access.TOKEN_ENV}" in done.stderr
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.settimeout(2)
        s.connect(("127.0.0.1", port))


def test_app_command_without_streamlit_names_the_extra(monkeypatch):
    from custseg.exceptions import MissingDependencyError

    def missing(module, extra):
        raise MissingDependencyError(module, extra)

    monkeypatch.setattr("custseg.exceptions.require", missing)
    result = CliRunner().invoke(cli_app, ["app"])
    assert result.exit_code == 2
    assert "pip install 'custseg[app]'" in result.output


def test_app_command_rejects_a_bad_port():
    result = CliRunner().invoke(cli_app, ["app", "--port", "0"])
    assert result.exit_code == 2
