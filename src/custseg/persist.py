"""Save and load fitted models safely: skops format, only an explicit list of trusted types.

A model file never runs code on load: a file that names any type outside ``TRUSTED_TYPES``
(a tampered file, a pickle) is refused with a message, before anything is constructed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .exceptions import ModelFileError
from .features import FeaturePlan

if TYPE_CHECKING:
    from .scoring import SegmentModel
    from .segmentation import Segmentation

FORMAT = "custseg-model"
FORMAT_VERSION = 1
MODEL_FILENAME = "model.skops"

# Types a custseg model file may hold beyond skops' built-in safe set.
TRUSTED_TYPES = [
    "custseg.model.Segmenter",
    "custseg.features.log1p_columns",
    "custseg.features.expm1_columns",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.pipeline.Pipeline",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.utils._bunch.Bunch",
    "numpy.dtype",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "numpy.ndarray",
    "builtins.slice",
    "builtins.object",
    "builtins.str",
    "builtins.float",
    "builtins.int",
    "builtins.bool",
    "builtins.NoneType",
    "builtins.tuple",
    "builtins.list",
    "builtins.dict",
]


def input_checksum(seg: Segmentation) -> str:
    """SHA-256 of the input file, or of the DataFrame's content when there is no file."""
    path = Path(seg.table.source)
    digest = hashlib.sha256()
    if seg.table.source != "DataFrame" and path.is_file():
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    else:
        digest.update(pd.util.hash_pandas_object(seg.table.frame, index=False).to_numpy())
    return digest.hexdigest()


def model_state(seg: Segmentation) -> dict:
    """Everything scoring needs, as plain containers plus the fitted estimators."""
    from .segmentation import versions

    values = seg.values().loc[seg.used]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "preprocessor": seg.preprocessor,
        "model": seg.model,
        "plan": {
            "numeric": list(seg.plan.numeric),
            "categorical": list(seg.plan.categorical),
            "log": list(seg.plan.log),
            "scale": seg.plan.scale,
        },
        "roles": {c: seg.table.roles[c] for c in seg.plan.columns},
        "profiles": [p.to_dict() for p in seg.profiles],
        "training": {
            "shares": {str(p.id): p.share for p in seg.profiles},
            # Deciles of each numeric feature, the reference for drift checks.
            "quantiles": {
                c: values[c].quantile([i / 10 for i in range(11)]).tolist()
                for c in seg.plan.numeric
            },
        },
        "metadata": {
            "created": seg.created,
            "n_rows": int(seg.used.sum()),
            "source": Path(seg.table.source).name,
            "input_sha256": input_checksum(seg),
            "k": seg.k,
            "k_recommended": seg.k_choice.recommended,
            "params": dict(seg.params),
            "versions": versions(),
        },
    }


def save_model(seg: Segmentation, path: str | Path) -> Path:
    """Write the model file atomically (temp file in the same folder, then rename)."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        sio.dump(model_state(seg), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_state(path: str | Path) -> dict:
    """Read a model file's state, refusing any type outside the trusted list."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at '{path}'; pass the model.skops custseg run wrote")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelFileError(
            f"'{path}' is not a custseg model file (not a skops archive: {exc}); "
            "only files written by custseg run can be loaded"
        ) from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelFileError(
            f"Refusing to load '{path}': it names types custseg does not trust "
            f"({', '.join(refused[:5])}); it was not written by custseg or was tampered with"
        )
    try:
        state = sio.load(path, trusted=sorted(set(untrusted)))
    except Exception as exc:
        raise ModelFileError(f"Could not load '{path}': {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is a skops file but not a custseg model")
    version = state.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' uses model format {version!r}, newer than this custseg reads "
            f"({FORMAT_VERSION}); upgrade custseg"
        )
    return state


def load_model(path: str | Path) -> SegmentModel:
    """Load a saved segmentation model for scoring new customers."""
    from .scoring import SegmentModel

    state = load_state(path)
    plan = state["plan"]
    return SegmentModel(
        preprocessor=state["preprocessor"],
        model=state["model"],
        plan=FeaturePlan(
            tuple(plan["numeric"]), tuple(plan["categorical"]), tuple(plan["log"]), plan["scale"]
        ),
        roles=state["roles"],
        profiles=state["profiles"],
        training=state.get("training", {}),
        metadata=state["metadata"],
    )
