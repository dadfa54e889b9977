import numpy as np

from custseg import segment
from custseg.persist import load_model


def test_round_trip_reproduces_training_labels(tmp_path, sample):
    seg = segment(sample)
    path = seg.save(tmp_path / "model.skops")
    model = load_model(path)
    scored = model.assign(sample)
    np.testing.assert_array_equal(scored["segment"].to_numpy(), seg.labels)
    assert model.metadata["n_rows"] == 200 and len(model.metadata["input_sha256"]) == 64
