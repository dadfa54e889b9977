"""The dashboard started with ``--previous``: segments keep the previous run's ids and names."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="the dashboard needs the 'app' extra")

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import custseg.cli.dashboard as command  # noqa: E402
from custseg import sample_customers, segment  # noqa: E402
from custseg.app import APP_FILE, access  # noqa: E402
from custseg.cli import app as cli_app  # noqa: E402
from custseg.outputs.export import write_outputs  # noqa: E402


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv(access.TOKEN_ENV, raising=False)
    monkeypatch.delenv(access.DATA_DIR_ENV, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def unescaped(text: str) -> str:
    return text.replace("\\", "")


def test_dashboard_matches_the_sample_to_a_previous_run(tmp_path, monkeypatch):
    previous = segment(sample_customers(), seed=3)
    write_outputs(previous, tmp_path / "previous")
    monkeypatch.setenv(access.PREVIOUS_ENV, str(tmp_path / "previous"))
    at = AppTest.from_file(str(APP_FILE), default_timeout=120)
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    seg = at.session_state["last_good"].seg
    assert [m.status for m in seg.identity.segments] == ["carried"] * previous.k
    assert seg.names == previous.names
    assert seg.migration.status_counts()["stayed"] == 200
    tabs = [t.label for t in at.tabs]
    assert "Since the previous run" in tabs
    at.session_state["view"] = "Since the previous run"  # open the tab (only the open one draws)
    at.run()
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "Who moved" in text and "stayed in their segment" in text
    assert "Where each previous segment" in unescaped(text)


def test_app_command_passes_the_previous_run(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(
        command.os, "execve", lambda path, argv, env: seen.update(env=env) or exit(0)
    )
    result = CliRunner().invoke(cli_app, ["app", "--previous", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen["env"][access.PREVIOUS_ENV] == str(tmp_path.resolve())
    result = CliRunner().invoke(cli_app, ["app", "--previous", str(tmp_path / "nope")])
    assert result.exit_code == 2
