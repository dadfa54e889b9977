"""Save and load fitted models safely: skops format, only an explicit list of trusted types.

A model file never runs code on load. Before anything is constructed, every node of the file's
schema is checked against ``TRUSTED_TYPES`` and ``TRUSTED_LOADERS``; a file naming anything else
(a tampered file, a pickle, a function such as ``os.system``, an estimator custseg never writes)
is refused with a :class:`~custseg.exceptions.ModelFileError`.

Integrity. Since format 2 the archive's comment holds a SHA-256 of its members, and the file
carries *probe points* (the training deciles and segment centres, not customer rows) with their
distances to every centre. Loading refuses a file whose checksum does not match (changed after
custseg wrote it) or whose probes no longer score as saved (e.g. a scikit-learn upgrade changed
the preprocessing). The checksum catches corruption and edits, not a forger who recomputes it:
protection against code execution comes from the trusted-type list, not from the checksum.

Format versions. ``FORMAT_VERSION`` is the version written. A file with a *newer* version is
refused ("upgrade custseg"). A file with an *older* version is upgraded in memory, one step at a
time, by the functions in ``_MIGRATIONS``; a version with no path to the current one is refused
with the reason. History:

- 1: custseg 0.1.0 before scoring landed. Loads: no checksum or probes to verify (a note says
  so); drift bins are approximated from the stored training deciles.
- 2: adds the checksum, the probes, and drift references (bin edges and shares per numeric
  feature, category shares per one-hot feature).
- 3: the median imputer's fill values come from ``custseg.features.column_median`` (a function
  in the file; it fits with far less memory), which custseg before format 3 does not trust:
  bumping the version makes those versions say "upgrade custseg". Format 2 files load as they
  are (their imputer uses scikit-learn's built-in median).
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custseg.atomic import atomic_write
from custseg.exceptions import ModelFileError
from custseg.features import FeaturePlan, feature_frame
from custseg.scoring.drift import bin_index
from custseg.text import error_text
from custseg.versions import versions

if TYPE_CHECKING:
    from custseg.scoring.scorer import SegmentModel
    from custseg.segmentation import Segmentation

FORMAT = "custseg-model"
FORMAT_VERSION = 3
OLDEST_READABLE = 1
MODEL_FILENAME = "model.skops"
MAX_MODEL_BYTES = 200 * 1024 * 1024  # compressed or uncompressed; real models are kilobytes
_DIGEST_PREFIX = b"custseg-sha256:"
N_BINS = 10  # drift reference: deciles of each numeric feature

# Every type a custseg model file may name. Nothing outside this list is constructed.
TRUSTED_TYPES = [
    "custseg.model.Segmenter",
    "custseg.features.log1p_columns",
    "custseg.features.column_median",
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
    "numpy.int32",
    "numpy.bool",
    "numpy.str_",
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
# The skops node kinds those types are stored as (no reduce, method, partial or operator nodes).
TRUSTED_LOADERS = frozenset(
    {
        "DictNode",
        "ListNode",
        "TupleNode",
        "SliceNode",
        "JsonNode",
        "TypeNode",
        "FunctionNode",
        "ObjectNode",
        "DTypeNode",
        "NdArrayNode",
    }
)


# ---------------------------------------------------------------- saving


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


DECILES = [i / N_BINS for i in range(N_BINS + 1)]


def numeric_reference(values: pd.Series, deciles: list[float] | None = None) -> dict:
    """Decile bin edges of a training feature and the share of training rows in each bin.

    ``deciles`` (the 11 of ``DECILES``), when already computed, saves sorting the column again.
    """
    finite = values.dropna().to_numpy(dtype=float)
    n = len(values)
    if len(finite) == 0:
        return {"edges": [], "shares": [1.0], "missing": 1.0}
    inner = np.quantile(finite, DECILES[1:-1]) if deciles is None else deciles[1:-1]
    edges = sorted({float(e) for e in inner})
    counts = np.bincount(bin_index(finite, edges), minlength=len(edges) + 1)
    return {
        "edges": edges,
        "shares": (counts / len(finite)).tolist(),
        "missing": float((n - len(finite)) / n) if n else 0.0,
    }


def _probes(seg: Segmentation, deciles: pd.DataFrame) -> pd.DataFrame:
    """Synthetic probe rows: each decile of every numeric feature, then each segment centre."""
    numeric = list(seg.plan.numeric)
    rows = deciles[numeric].reset_index(drop=True)
    rows = pd.concat([rows, seg.centers[numeric].reset_index(drop=True)], ignore_index=True)
    for col in seg.plan.categorical:
        used = seg.table.frame.loc[seg.used, col].dropna().astype(str)
        rows[col] = used.mode().iloc[0] if len(used) else None
    return rows


def model_state(seg: Segmentation) -> dict:
    """Everything scoring needs, as plain containers plus the fitted estimators."""

    values = seg.values()
    if not seg.used.all():
        values = values.loc[seg.used]
    # One sort per column serves the probes, the stored deciles and the drift bins.
    deciles = values.quantile(DECILES)
    probes = _probes(seg, deciles)
    probe_distances = seg.model.transform(
        seg.preprocessor.transform(feature_frame(probes, seg.plan))
    )
    categories = {}
    for col in seg.plan.categorical:
        text = feature_frame(seg.table.frame.loc[seg.used], FeaturePlan((), (col,)))[col]
        categories[col] = {str(k): float(v) for k, v in text.value_counts(normalize=True).items()}
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
            # Deciles of each numeric feature (kept for format 1 readers and the API).
            "quantiles": {c: deciles[c].tolist() for c in seg.plan.numeric},
            # The reference for drift checks: bins and shares as the training rows fill them.
            "bins": {
                c: numeric_reference(values[c], deciles[c].tolist()) for c in seg.plan.numeric
            },
            "categories": categories,
        },
        "selfcheck": {
            "columns": list(probes.columns),
            "rows": [[_plain(v) for v in row] for row in probes.itertuples(index=False)],
            "distances": probe_distances.tolist(),
        },
        "metadata": {
            "created": seg.created,
            "n_rows": seg.n_used,
            "source": Path(seg.table.source).name,
            "input_sha256": input_checksum(seg),
            "k": seg.k,
            "k_recommended": seg.k_choice.recommended,
            "params": dict(seg.params),
            "versions": versions(),
        },
    }


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _digest(zf: zipfile.ZipFile) -> str:
    digest = hashlib.sha256()
    for name in sorted(zf.namelist()):
        data = zf.read(name)
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def write_state(state: dict, path: str | Path) -> Path:
    """Write a state dict as a skops archive with its checksum, atomically."""
    import skops.io as sio

    buffer = io.BytesIO()
    sio.dump(state, buffer)
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.comment = _DIGEST_PREFIX + _digest(zf).encode()
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def save_model(seg: Segmentation, path: str | Path) -> Path:
    """Write the model file atomically (temp file in the same folder, then rename).

    Parameters
    ----------
    seg : Segmentation
        A finished run.
    path : path
        Where to write, conventionally ``model.skops``.

    Returns
    -------
    Path
    """
    return write_state(model_state(seg), path)


# ---------------------------------------------------------------- loading


def schema_types(schema: dict) -> tuple[set[str], set[str]]:
    """Every ``module.Class`` and every node kind a skops schema names, without building it."""
    types: set[str] = set()
    loaders: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__loader__" in node:
                types.add(f"{node.get('__module__')}.{node.get('__class__')}")
                loaders.add(str(node.get("__loader__")))
                if node.get("__loader__") == "FunctionNode":
                    content = node.get("content")
                    if isinstance(content, dict) and "function" in content:
                        types.add(f"{content.get('module_path')}.{content.get('function')}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return types, loaders


def _read_archive(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes after the checks that need no loading; also notes for the caller."""
    if not path.is_file():
        raise ModelFileError(
            f"No model file at '{path}'; pass the {MODEL_FILENAME} that custseg run wrote"
        )
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelFileError(
            f"'{path}' is {path.stat().st_size:,} bytes, too large for a custseg model file"
        )
    data = path.read_bytes()
    not_ours = "only files written by custseg (custseg run, Segmentation.save) can be loaded"
    if data[:2] != b"PK" and _is_pickle(data):
        raise ModelFileError(
            f"Refusing to load '{path}': it looks like a Python pickle, which can run code when "
            f"loaded; custseg never reads pickles; {not_ours}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_MODEL_BYTES:
                raise ModelFileError(f"'{path}' unpacks to too much data for a custseg model")
            if "schema.json" not in zf.namelist():
                raise ModelFileError(f"'{path}' is a zip archive but not a skops file; {not_ours}")
            schema = json.loads(zf.read("schema.json"))
            comment, digest = zf.comment, _digest(zf)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"'{path}' is not a custseg model file (not a readable skops archive: "
            f"{error_text(exc)}); {not_ours}"
        ) from exc
    types, loaders = schema_types(schema)
    refused = sorted(types - set(TRUSTED_TYPES)) + sorted(loaders - TRUSTED_LOADERS)
    if refused:
        raise ModelFileError(
            f"Refusing to load '{path}': it names types custseg does not trust "
            f"({', '.join(refused[:5])}{', ...' if len(refused) > 5 else ''}); it was not "
            "written by custseg or was tampered with, and nothing in it was run"
        )
    notes = []
    if comment.startswith(_DIGEST_PREFIX):
        if comment[len(_DIGEST_PREFIX) :].decode("ascii", "replace") != digest:
            raise ModelFileError(
                f"Refusing to load '{path}': its checksum does not match its content, so it was "
                "changed or damaged after custseg wrote it; use the original file or re-run "
                "custseg run"
            )
    else:
        notes.append("no checksum")
    return data, notes


def _is_pickle(data: bytes) -> bool:
    """Whether ``data`` parses as a pickle opcode stream (read only, nothing is run)."""
    import pickletools

    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "STOP":
                return True
    except Exception:
        return False
    return False


def load_state(path: str | Path) -> dict:
    """Read a model file's state, refusing any type outside the trusted list.

    Returns the state upgraded to the current format, with a ``"notes"`` list saying what the
    loader noticed (an older format, a different scikit-learn version, ...).
    """
    import skops.io as sio

    path = Path(path)
    data, notes = _read_archive(path)
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelFileError(f"Could not read '{path}' as a skops file: {error_text(exc)}") from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:  # skops sees a type our schema walk did not: refuse as well
        raise ModelFileError(
            f"Refusing to load '{path}': it names types custseg does not trust "
            f"({', '.join(refused[:5])}); it was not written by custseg or was tampered with"
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            state = sio.loads(data, trusted=sorted(set(untrusted)))
    except Exception as exc:
        raise ModelFileError(f"Could not load '{path}': {error_text(exc)}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is a skops file but not a custseg model")
    version = state.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"'{path}' has no valid model format version ({version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' uses model format {version}, newer than this custseg reads "
            f"({OLDEST_READABLE}..{FORMAT_VERSION}); upgrade custseg"
        )
    if version >= 2 and "no checksum" in notes:
        raise ModelFileError(
            f"Refusing to load '{path}': a format {version} model must carry a checksum and this "
            "one has none, so it was rewritten after custseg wrote it"
        )
    state = _upgrade(state, path)
    saved = state.get("metadata", {}).get("versions", {})
    import sklearn

    if saved.get("scikit-learn") and saved["scikit-learn"] != sklearn.__version__:
        state["notes"].append(
            f"saved with scikit-learn {saved['scikit-learn']}, running {sklearn.__version__}"
            + ("; the probe points still score as saved" if "selfcheck" in state else "")
        )
    elif caught and any("version" in str(w.message).lower() for w in caught):
        state["notes"].append("scikit-learn warned about a version difference while loading")
    return state


def _upgrade_1_to_2(state: dict) -> dict:
    training = state.setdefault("training", {})
    bins = {}
    for col, q in training.get("quantiles", {}).items():
        edges = sorted({float(e) for e in q[1:-1]})
        shares = np.zeros(len(edges) + 1)
        for upper in q[1:]:  # each decile interval holds a tenth, in the bin of its upper end
            shares[bin_index(np.array([float(upper)]), edges)[0]] += 1 / (len(q) - 1)
        bins[col] = {"edges": edges, "shares": shares.tolist(), "missing": 0.0}
    training["bins"] = bins
    training.setdefault("categories", {})
    state["notes"].append(
        "model format 1: no checksum or probe points to verify it, drift bins approximated from "
        "the training deciles; re-fit with custseg run to get a current file"
    )
    state["format_version"] = 2
    return state


def _upgrade_2_to_3(state: dict) -> dict:
    state["format_version"] = 3  # same contents; only the imputer's median differs (see above)
    return state


# version -> function upgrading a state of that version to the next one
_MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3}


def _upgrade(state: dict, path: Path) -> dict:
    state["notes"] = []
    version = state["format_version"]
    if version < OLDEST_READABLE:
        raise ModelFileError(
            f"'{path}' uses model format {version}, older than any this custseg reads "
            f"({OLDEST_READABLE}..{FORMAT_VERSION}); re-fit the model with custseg run"
        )
    while version < FORMAT_VERSION:
        if version not in _MIGRATIONS:
            raise ModelFileError(
                f"'{path}' uses model format {version}, which this custseg cannot upgrade; "
                "re-fit the model with custseg run"
            )
        state = _MIGRATIONS[version](state)
        version = state["format_version"]
    return state


def load_model(path: str | Path) -> SegmentModel:
    """Load a saved segmentation model for scoring new customers.

    Parameters
    ----------
    path : path
        A ``model.skops`` written by ``custseg run`` or :meth:`Segmentation.save`.

    Returns
    -------
    SegmentModel
        Ready to :meth:`~custseg.scoring.SegmentModel.assign` new customers.

    Raises
    ------
    ModelFileError
        The file is missing, not a custseg model, names an untrusted type, was changed after it
        was written, comes from a newer custseg, or no longer scores its probe points as saved.
    """
    from custseg.scoring.scorer import SegmentModel

    state = load_state(path)
    plan = state["plan"]
    try:
        model = SegmentModel(
            preprocessor=state["preprocessor"],
            model=state["model"],
            plan=FeaturePlan(
                tuple(plan["numeric"]),
                tuple(plan["categorical"]),
                tuple(plan["log"]),
                plan["scale"],
            ),
            roles=state["roles"],
            profiles=state["profiles"],
            training=state.get("training", {}),
            metadata=state["metadata"],
            format_version=state["format_version"],
            notes=state["notes"],
        )
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"'{path}' is an incomplete custseg model (missing {exc})") from exc
    check = state.get("selfcheck")
    if check:
        probes = pd.DataFrame(check["rows"], columns=check["columns"])
        try:
            got = model.model.transform(model.preprocessor.transform(model.features(probes)))
        except Exception as exc:
            raise ModelFileError(
                f"'{path}' cannot score with this installation ({error_text(exc)}); re-fit the "
                "model with custseg run"
            ) from exc
        if not np.allclose(got, np.asarray(check["distances"]), rtol=1e-6, atol=1e-9):
            saved = state["metadata"].get("versions", {})
            import sklearn

            raise ModelFileError(
                f"'{path}' no longer scores its probe points as when it was saved (saved with "
                f"scikit-learn {saved.get('scikit-learn', '?')}, running {sklearn.__version__}); "
                "re-fit the model with custseg run"
            )
    return model
