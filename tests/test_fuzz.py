"""Property-based fuzzing: whatever the table, custseg segments it or raises its own clear error."""

import string

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from custseg import load, segment
from custseg.exceptions import CustsegError

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**12), 10**12),
    st.text(string.printable + "éß€", max_size=6),
    st.none(),
)
names = st.text(string.ascii_letters + " _()$é€0123456789", min_size=1, max_size=12)


@st.composite
def tables(draw):
    cols = draw(st.lists(names, min_size=1, max_size=5, unique_by=str.lower))
    kinds = [draw(st.sampled_from(["float", "mixed", "int"])) for _ in cols]
    elements = {"float": st.floats(-1e6, 1e6), "int": st.integers(0, 100), "mixed": cells}
    return draw(
        data_frames(
            [column(c, elements=elements[k]) for c, k in zip(cols, kinds, strict=True)],
            index=range_indexes(min_size=0, max_size=40),
        )
    )


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(frame=tables(), sep=st.sampled_from([",", ";", "\t"]))
def test_loader_reads_or_explains(tmp_path_factory, frame, sep):
    path = tmp_path_factory.mktemp("fuzz") / "t.csv"
    frame.to_csv(path, index=False, sep=sep)
    try:
        table = load(path)
    except CustsegError as exc:
        assert str(exc)
        return
    assert set(table.roles) == set(map(str, table.frame.columns))


@FUZZ
@given(frame=tables(), k=st.one_of(st.just("auto"), st.integers(1, 5)))
def test_segment_succeeds_or_explains(frame, k):
    try:
        seg = segment(frame, k=k, k_range="2..4", n_init=1)
    except CustsegError as exc:
        assert str(exc)
        return
    used = seg.labels[seg.labels >= 0]
    assert len(seg.labels) == len(frame)
    assert sum(p.size for p in seg.profiles) == len(used)
    assert used.max() < seg.k
    assert np.isfinite(seg.model.cluster_centers_).all()
    pd.testing.assert_index_equal(seg.assignments().index, frame.index)
