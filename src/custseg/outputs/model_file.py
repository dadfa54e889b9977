"""Save and load fitted models safely: skops format, only an explicit list of trusted types.

A model file never runs code on load: :mod:`custseg.outputs.model_trust` checks every type it
names before anything is constructed. What it keeps about the training rows (drift reference,
probe points) is built by :mod:`custseg.outputs.model_reference`.

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

import io
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sklearn

from custseg.atomic import atomic_write
from custseg.exceptions import ModelFileError
from custseg.features import FeaturePlan
from custseg.outputs.manifest import check_manifest
from custseg.outputs.model_reference import input_checksum, training_reference
from custseg.outputs.model_trust import DIGEST_PREFIX, MODEL_FILENAME, digest, read_trusted
from custseg.read import tenure_as_of
from custseg.scoring.drift import bin_index
from custseg.scoring.scorer import SegmentModel
from custseg.text import error_text
from custseg.versions import versions

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

__all__ = [
    "FORMAT_VERSION",
    "MODEL_FILENAME",
    "load_model",
    "load_state",
    "model_state",
    "save_model",
    "write_state",
]

FORMAT = "custseg-model"
FORMAT_VERSION = 3
OLDEST_READABLE = 1


# ---------------------------------------------------------------- saving


def model_state(seg: Segmentation) -> dict:
    """Everything scoring needs, as plain containers plus the fitted estimators."""
    training, selfcheck = training_reference(seg)
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
        # days-since features: new customers are counted to the training's "as of" day
        "tenure": tenure_as_of(seg.table, seg.plan.numeric),
        "profiles": [p.to_dict() for p in seg.profiles],
        "training": training,
        "selfcheck": selfcheck,
        "metadata": {
            "created": seg.created,
            "n_rows": seg.n_used,
            "source": Path(seg.table.source).name,
            "input_sha256": input_checksum(seg),
            "k": seg.k,
            "k_recommended": seg.k_choice.recommended,
            # Advice about the run, kept for whoever reads the model later; files written
            # before these keys existed load as they are (read them with .get).
            "k_confidence": seg.k_choice.confidence,
            "stability": seg.stability.to_dict() if seg.stability is not None else None,
            "params": dict(seg.params),
            "versions": versions(),
        },
    }


def write_state(state: dict, path: str | Path) -> Path:
    """Write a state dict as a skops archive with its checksum, atomically."""
    # skops takes seconds to import; only reading and writing model files need it.
    import skops.io as sio

    buffer = io.BytesIO()
    sio.dump(state, buffer)
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.comment = DIGEST_PREFIX + digest(zf).encode()
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


def load_state(path: str | Path) -> dict:
    """Read a model file's state, refusing any type outside the trusted list.

    Returns the state upgraded to the current format, with a ``"notes"`` list saying what the
    loader noticed (an older format, a different scikit-learn version, ...).
    """
    # skops takes seconds to import; only reading and writing model files need it.
    import skops.io as sio

    path = Path(path)
    data, trusted, notes = read_trusted(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            state = sio.loads(data, trusted=trusted)
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
    SourceError
        The file sits in a run folder whose ``manifest.json`` lists a different model file (a run
        was interrupted while replacing its outputs).
    """
    path = Path(path)
    if path.is_file():  # a model left by an interrupted run is refused before it is used
        check_manifest(path.parent, [path.name])
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
            tenure=state.get("tenure", {}),
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
            raise ModelFileError(
                f"'{path}' no longer scores its probe points as when it was saved (saved with "
                f"scikit-learn {saved.get('scikit-learn', '?')}, running {sklearn.__version__}); "
                "re-fit the model with custseg run"
            )
    return model
