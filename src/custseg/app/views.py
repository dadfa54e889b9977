"""The dashboard's building blocks: the controls in the sidebar and the result views.

Only layout lives here; the data work is a cached library call in :mod:`custseg.app.state`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from custseg.app import access, changes, charts, state
from custseg.exceptions import CustsegError, DataError
from custseg.outputs.report._common import segment_colors
from custseg.pipeline.options import SegmentOptions
from custseg.read import ROLES, Table
from custseg.segmentation import Segmentation
from custseg.text import humanise, plural

log = logging.getLogger("custseg.app")
T = TypeVar("T")

SOURCES = ("Sample customers", "Upload a file", "Path on the server")
TYPE_PATH = "Type a path ..."
SIGNED_IN = "custseg_signed_in"  # not a widget key, so a browser cannot set it
WRONG_TOKEN_DELAY = 1.0  # s; makes guessing the token slow
SCALES = {
    "standard": "Standardise (mean 0, sd 1)",
    "minmax": "Min-max (0 to 1)",
    "robust": "Robust (median and IQR)",
    "none": "None (raw units)",
}
MISSING = {
    "impute": "Fill with the median",
    "drop": "Leave those customers out",
    "error": "Stop with an error",
}
K_MODES = ("Recommended", "Choose")
PROGRESS_TEXT = {
    "choose k": "Comparing numbers of segments: {done} of {total} tried",
    "fit segments": "Fitting the segments on every customer",
}
# Settings that keep their value while their widgets are hidden (e.g. after a bad upload).
KEPT = ("scale", "log", "missing", "k_mode")
CUSTOM = "Custom"
CARDS_PER_ROW = 3
NO_NATURAL_SEGMENTS = (
    "**No natural segments.** These customers look like one continuous population: no number "
    "of segments finds groups with fewer customers between them. The {k} segments are a "
    "convenient partition for targeting, not natural groups."
)
ACTION_LABELS = {"promotions": "Promotions", "campaigns": "Campaigns", "resources": "Resources"}


@dataclass(frozen=True)
class Result:
    """A segmentation on screen, with the key of the data it came from."""

    data_key: str
    seg: Segmentation
    auto: bool


def md(text: object) -> str:
    """Text shown literally in Streamlit markdown (``$``, ``*``, ``_`` ... are not markup)."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", str(text))


def show_error(exc: BaseException) -> None:
    """The library's message in the page: one line, or a list of every problem."""
    if isinstance(exc, DataError) and len(exc.problems) > 1:
        st.error(
            f"{len(exc.problems)} problems in the data:\n\n"
            + "\n".join(f"* {md(p)}" for p in exc.problems)
        )
    else:
        st.error(md(exc))


def guard(what: str, call: Callable[..., T], *args, **kwargs) -> T | None:
    """Run ``call``; on failure show the message (never a traceback) and return ``None``."""
    try:
        return call(*args, **kwargs)
    except CustsegError as exc:
        show_error(exc)
    except Exception as exc:  # an unexpected failure: a message here, the traceback in the log
        log.exception("unexpected error while %s", what)
        if os.environ.get("CUSTSEG_DEBUG"):
            st.exception(exc)
        else:
            st.error(
                md(
                    f"Unexpected {type(exc).__name__} while {what}: {exc} (set CUSTSEG_DEBUG=1 "
                    "to see the traceback, and please report it)"
                )
            )
    return None


# ---------------------------------------------------------------- sign-in


def signed_in() -> bool:
    """Whether this session may use the page; otherwise draw only the sign-in form.

    With no ``CUSTSEG_APP_TOKEN`` (loopback only) the page is open. Once the right token is
    entered, the session stays signed in.
    """
    expected = access.expected_token()
    if expected is None or st.session_state.get(SIGNED_IN):
        return True
    with st.form("sign_in", clear_on_submit=True, border=False):
        entered = st.text_input("Access token", type="password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        st.caption("Enter the access token you were given to use this dashboard.")
    elif access.token_matches(entered, expected):
        st.session_state[SIGNED_IN] = True
        st.rerun()
    else:
        time.sleep(WRONG_TOKEN_DELAY)
        st.error("That is not the access token. Ask whoever runs this dashboard for it.")
    return False


# ---------------------------------------------------------------- sidebar controls


def keep_settings() -> None:
    """Keep the settings' values across runs that do not draw their widgets.

    Streamlit forgets a widget's value when a run does not draw it; a bad upload hides the
    feature controls, and the user's choices should be there when a good table comes back.
    """
    for key in KEPT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def choose_source() -> Callable[[], state.Loaded] | None:
    """The data source widgets; returns how to load the chosen table (``None``: nothing yet)."""
    root = access.data_folder()
    kind = st.radio("Customer table", SOURCES if root else SOURCES[:2], key="source")
    if kind == SOURCES[0]:
        st.caption(f"{state.SAMPLE_ROWS} generated mall customers with five known groups.")
        return state.load_sample
    if kind == SOURCES[1] or root is None:
        max_mb = int(st.get_option("server.maxUploadSize"))
        upload = st.file_uploader(
            "CSV, TSV, Parquet, Excel or JSON lines, also compressed (.gz, .zst, .bz2, .xz, .zip)",
            type=state.UPLOAD_TYPES,
            key="upload",
        )
        st.caption(f"Files up to {max_mb:,} MB each; a larger one turns red and is not read.")
        if upload is None:
            return None
        return lambda: state.load_upload(upload.name, upload.getvalue(), max_mb)
    return server_table(root)


def server_table(root: Path) -> Callable[[], state.Loaded] | None:
    """A picker over the tables in the data folder, or a path typed inside it."""
    names = state.folder_tables(root)
    picked = st.selectbox(
        "Table in the data folder",
        [*names, TYPE_PATH],
        index=None,
        placeholder="Choose a table" if names else "The data folder holds no tables yet",
        key="server_pick",
    )
    if len(names) >= access.MAX_LISTED:
        st.caption(f"Showing the first {access.MAX_LISTED:,} tables; type a path for others.")
    if picked == TYPE_PATH:
        picked = st.text_input("Path inside the data folder", key="server_path")
    if not picked or not picked.strip():
        return None
    return lambda: state.load_path(picked, root)


def role_editor(loaded: state.Loaded) -> Table:
    """The recognised column roles, each correctable; returns the table with the user's roles."""
    table = loaded.table
    roles = dict(table.roles)
    with st.expander(f"Column roles ({plural(len(roles), 'column')})"):
        st.caption("Recognised from names and contents; correct any that are wrong.")
        for col, role in table.roles.items():
            roles[col] = st.selectbox(
                md(col), ROLES, index=ROLES.index(role), key=f"role|{loaded.key}|{col}"
            )
    return state.with_roles(table, roles)


def feature_controls(loaded: state.Loaded, table: Table) -> SegmentOptions | None:
    """Feature set (with the 2D/3D presets), scaling, log and one-hot options, missing values."""
    named = state.presets(table)
    numeric = state.numeric_columns(table)
    choice = st.selectbox("Feature set", [*named, CUSTOM], key=f"preset|{loaded.key}")
    if choice == CUSTOM:
        key = f"features|{loaded.key}"
        if key in st.session_state:  # drop columns that lost their numeric role
            st.session_state[key] = [c for c in st.session_state[key] if c in numeric]
        features = st.multiselect("Features", numeric, default=numeric, key=key)
    else:
        features = named[choice]
        st.caption(md(", ".join(features)))
    advice = state.feature_advice(loaded.key, tuple(table.roles.items()), table)
    if advice:
        st.caption(
            "Feature guidance: "
            + md("; ".join(f"{humanise(a['column'])}: {a['verdict']}" for a in advice)),
            help="'use' separates the segments; 'noise' has no group structure and blurs them; "
            "'duplicate' moves with a better column; flags, ids and constants do not suit "
            "K-Means.",
        )
    scale = st.selectbox("Scaling", list(SCALES), format_func=SCALES.get, key="scale")
    log = st.checkbox(
        "Log-transform skewed columns",
        key="log",
        help="Money-like columns with a long right tail (e.g. spend) are compared on a log scale.",
    )
    one_hot: list[str] = []
    categories = table.columns_with("gender", "categorical")
    if categories:
        one_hot = st.multiselect(
            "Also segment on categories (one-hot)",
            categories,
            key=f"one_hot|{loaded.key}",
            help="Each category becomes a 0/1 feature, e.g. Gender.",
        )
    missing = st.selectbox("Missing values", list(MISSING), format_func=MISSING.get, key="missing")
    if not features:
        st.warning("Choose at least one feature.")
        return None
    return SegmentOptions(
        features=tuple(features),
        scale=scale,
        missing=missing,
        log="auto" if log else None,
        one_hot=tuple(one_hot),
        roles=state.role_changes(loaded.table, table.roles) or None,
    )


def k_control(key: tuple, base: Segmentation) -> tuple[int, bool]:
    """Recommended k, or a slider over the compared k; returns (k, whether it is automatic)."""
    choice = base.k_choice
    mode = st.radio("Number of segments", K_MODES, key="k_mode", horizontal=True)
    if mode == K_MODES[0] or len(choice.ks) < 2:
        st.caption(f"Recommended: k = {choice.recommended}")
        return choice.recommended, True
    ident = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    k = st.slider("k", min(choice.ks), max(choice.ks), value=choice.recommended, key=f"k|{ident}")
    return int(k), False


# ---------------------------------------------------------------- running


def run_search(key: tuple, table: Table, options: SegmentOptions) -> Segmentation | None:
    """The k search, with a progress bar the first time a key is computed."""
    if state.is_searched(key):
        return guard("segmenting", state.search, key, table, options)
    bar = st.progress(0.0, text="Preparing the features ...")

    def progress(step: str, done: int, total: int) -> None:
        text = PROGRESS_TEXT.get(step, step).format(done=done, total=total)
        bar.progress(done / total if total else 1.0, text=text)

    try:
        return guard("segmenting", state.search, key, table, options, progress)
    finally:
        bar.empty()


# ---------------------------------------------------------------- results


def headline(result: Result) -> None:
    seg = result.seg
    choice = seg.k_choice
    st.subheader(md(f"{seg.k} segments of {plural(int(seg.used.sum()), 'customer')}"))
    st.caption(md(f"{seg.table.source} · features: {', '.join(seg.features)}"))
    chosen = next((m for m in choice.metrics if m["k"] == seg.k), {})
    cols = st.columns(5)
    cols[0].metric("Customers", f"{int(seg.used.sum()):,}")
    cols[1].metric("Segments", seg.k)
    cols[2].metric("Recommended k", choice.recommended)
    sil = chosen.get("silhouette")
    cols[3].metric("Silhouette", "n/a" if sil is None else f"{sil:.2f}")
    cols[4].metric("Confidence in k", choice.confidence)
    if choice.confidence == "none":
        st.warning(NO_NATURAL_SEGMENTS.format(k=seg.k))
    if result.auto:
        st.success(md(f"Recommended {choice.reason}"))
    else:
        st.info(md(f"You chose k = {seg.k}. Recommended {choice.reason}"))


def segment_cards(seg: Segmentation) -> None:
    """One bordered card per segment: name, size, persona, rule and suggested actions."""
    colors = segment_colors(seg)
    profiles = seg.profiles
    for start in range(0, len(profiles), CARDS_PER_ROW):
        row = st.columns(CARDS_PER_ROW)
        for col, p in zip(row, profiles[start : start + CARDS_PER_ROW], strict=False):
            with col.container(border=True, key=f"card-{p.id}"):
                st.markdown(
                    f'<span style="color:{colors[p.id]};font-size:1.4em">&#9679;</span> '
                    f"**{md(p.name)}**",
                    unsafe_allow_html=True,
                )
                caption = f"Segment {p.id} · {plural(p.size, 'customer')} · {p.share:.1%}"
                if seg.stability is not None:
                    j = seg.stability.segments[p.id]
                    caption += f" · stability {j:.2f} ({seg.stability.labels[p.id]})"
                st.caption(caption)
                if p.persona:
                    st.markdown(md(p.persona))
                if seg.rules is not None:
                    st.markdown("**Rule:** " + md(rule_line(seg, p.id)))
                if p.actions:
                    st.markdown(
                        "\n".join(
                            f"* **{ACTION_LABELS.get(kind, kind.title())}**: {md(text)}"
                            for kind, text in p.actions.items()
                        )
                    )


def rule_line(seg: Segmentation, segment: int) -> str:
    """The segment's rule, with the share of its customers it fits."""
    rule = seg.rules.rule(segment, seg.label)
    if rule is None:
        return "none of its own (its customers fall under the rules of other segments)"
    fits = seg.rules.segment_fidelity.get(segment, 0.0)
    return f"{rule[:1].upper() + rule[1:]} (fits {fits:.0%} of its customers)"


def downloads(seg: Segmentation) -> None:
    """``segments.csv``, ``report.html`` and the model, each built when clicked."""
    files = [
        ("segments.csv", state.segments_csv, "text/csv"),
        ("report.html", state.report_html, "text/html"),
        ("model.skops", state.model_bytes, "application/octet-stream"),
    ]
    if seg.rules is not None:
        files.append(("rules.sql", state.rules_sql_file, "text/plain"))
    for col, (name, build, mime) in zip(st.columns(len(files)), files, strict=True):
        col.download_button(
            f"Download {name}",
            state.deferred(build, seg),
            file_name=name,
            mime=mime,
            on_click="ignore",
            key=f"download|{name}",
            width="stretch",
        )


def show_chart(chart: charts.Chart, key: str) -> None:
    """One chart with its title and caption (plain text from the report's builders)."""
    st.markdown(f"**{md(chart.title)}**")
    st.plotly_chart(chart.figure, key=key)
    if chart.caption:
        st.caption(md(chart.caption))


def charts_tab(seg: Segmentation) -> None:
    drawn = charts.scatter_charts(seg, 2)
    if not any(c.key == "scatter2d" for c in drawn):
        st.info("The 2D view needs at least two numeric features.")
    columns = st.columns([3, 2]) if len(drawn) == 2 else [st.container()]
    for column, chart in zip(columns, drawn, strict=False):
        with column:
            show_chart(chart, chart.key)


def view_3d_tab(seg: Segmentation) -> None:
    drawn = charts.scatter_charts(seg, 3)
    if not drawn:
        st.info("The 3D view needs at least three numeric features.")
    for chart in drawn:
        show_chart(chart, chart.key)


def profiles_tab(seg: Segmentation) -> None:
    st.markdown("**Mean of each feature per segment**")
    st.dataframe(seg.profile_table().style.format(precision=1, thousands=","))
    for chart in charts.profile_charts(seg):
        show_chart(chart, chart.key)
    index = pd.DataFrame({p.name: p.index for p in seg.profiles}).T.rename_axis("segment")
    st.markdown("**Index against all customers** (100 = average)")
    st.dataframe(index.style.format(precision=0, na_rep=""))


def choosing_k_tab(seg: Segmentation) -> None:
    choice = seg.k_choice
    st.markdown(md(choice.reason))
    drawn = charts.k_charts(seg)
    if not choice.metrics:
        st.info("Too few customers to compare numbers of segments.")
    for chart in drawn:
        show_chart(chart, chart.key)
    if choice.metrics:
        st.dataframe(pd.DataFrame(choice.metrics).set_index("k"))
    for chart, reading in charts.trust_charts(seg):
        show_chart(chart, chart.key)
        st.markdown(md(reading))


def data_tab(result: Result) -> None:
    table = result.seg.table
    frame = table.frame
    st.markdown(
        md(f"{table.source}: {plural(len(frame), 'row')}, {plural(frame.shape[1], 'column')}")
    )
    for note in result.seg.notes:
        st.caption(md(f"note: {note}"))
    roles = tuple(table.roles.items())
    st.dataframe(state.overview(result.data_key, roles, table), hide_index=True)
    st.markdown("**First rows**")
    st.dataframe(frame.head(100))
    for chart in charts.data_charts(result.seg):
        show_chart(chart, chart.key)


VIEWS = ("Charts", "3D view", "Profiles", "Choosing k", "Data")


def results(result: Result) -> None:
    """Everything about one segmentation: headline, cards, downloads and the detail views.

    Only the open view is drawn (lazy tabs), so a k change re-renders one view, not five.
    """
    headline(result)
    segment_cards(result.seg)
    downloads(result.seg)
    draw = {
        "Charts": charts_tab,
        "3D view": view_3d_tab,
        "Profiles": profiles_tab,
        "Choosing k": choosing_k_tab,
    }
    views = VIEWS + (changes.TAB,) * (result.seg.identity is not None)
    draw[changes.TAB] = changes.changes_tab
    for name, tab in zip(views, st.tabs(views, key="view", on_change="rerun"), strict=True):
        if tab.open:
            with tab:
                if name == "Data":
                    data_tab(result)
                else:
                    draw[name](result.seg)
