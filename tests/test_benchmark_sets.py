"""Ground-truth clustering sets: with the true k, custseg does at least as well as plain KMeans."""

import gzip

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from custseg import segment

from .conftest import shared_file


def _read(name):
    with gzip.open(shared_file(f"benchmarks/{name}.data.gz"), "rt") as fh:
        X = np.loadtxt(fh)
    with gzip.open(shared_file(f"benchmarks/{name}.labels0.gz"), "rt") as fh:
        y = np.loadtxt(fh, dtype=int)
    return X, y


@pytest.mark.parametrize("name,k,floor", [("hepta", 7, 0.9), ("s1", 15, 0.9), ("wine", 3, 0.85)])
def test_ari_at_least_plain_kmeans(name, k, floor):
    X, y = _read(name)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    seg = segment(frame, k=k, k_range=[2, 3], n_init=10, seed=0, id_column="none")
    ours = adjusted_rand_score(y, seg.labels)
    plain = KMeans(k, n_init=10, random_state=0).fit(StandardScaler().fit_transform(X))
    baseline = adjusted_rand_score(y, plain.labels_)
    assert ours >= baseline - 1e-12
    assert ours >= floor
