"""custseg dashboard: load customers, choose features and k, see the segments, download them.

Started by ``custseg app``; read top to bottom, this file is the page.
"""

from __future__ import annotations

import streamlit as st

from custseg.app import state, views

st.set_page_config(page_title="custseg: customer segments", page_icon="🧭", layout="wide")
st.title("Customer segments")
if not views.signed_in():  # nothing else is drawn before sign-in
    st.stop()
st.caption(
    "Load a customer table, try features and the number of segments, see who is in each "
    "segment and what to do about them, and download the result."
)

views.keep_settings()
with st.sidebar:
    st.header("1 · Data")
    load_request = views.choose_source()

result: views.Result | None = None
loaded = views.guard("reading the data", load_request) if load_request else None
if loaded is not None:
    with st.sidebar:
        table = views.role_editor(loaded)
    options = None
    if views.guard("choosing features", state.numeric_features, table):
        with st.sidebar:
            st.header("2 · Features")
            options = views.feature_controls(loaded, table)
    if options is not None:
        key = state.search_key(loaded, table, options)
        base = views.run_search(key, table, options)
        if base is not None:
            with st.sidebar:
                st.header("3 · Segments")
                k, auto = views.k_control(key, base)
            seg = views.guard("profiling the segments", state.at_k, key, base, k)
            if seg is not None:
                result = views.Result(loaded.key, seg, auto)

if result is not None:
    st.session_state["last_good"] = result
elif "last_good" in st.session_state:
    result = st.session_state["last_good"]
    st.info("Showing the previous results until the new settings give a segmentation.")
else:
    st.info("Choose a customer table in the sidebar to start.")
    st.stop()

views.results(result)
