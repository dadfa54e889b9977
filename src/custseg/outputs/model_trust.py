"""Reading a model file without running it: size limits, pickles refused, the checksum, and only
an explicit list of trusted types.

Before anything in a file is constructed, every node of its skops schema is checked against
``TRUSTED_TYPES`` and ``TRUSTED_LOADERS``, and skops' own list of the types it would build is
checked again; a file naming anything else (a tampered file, a pickle, a function such as
``os.system``, an estimator custseg never writes) is refused with a
:class:`~custseg.exceptions.ModelFileError`. The checksum (in the archive's comment) catches
corruption and edits, not a forger who recomputes it: protection against code execution comes
from the trusted-type list.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickletools
import zipfile
from pathlib import Path

from custseg.exceptions import ModelFileError
from custseg.text import error_text

MODEL_FILENAME = "model.skops"
MAX_MODEL_BYTES = 200 * 1024 * 1024  # compressed or uncompressed; real models are kilobytes
DIGEST_PREFIX = b"custseg-sha256:"

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


def digest(zf: zipfile.ZipFile) -> str:
    """SHA-256 of an archive's members (names, sizes and contents), as stored in its comment."""
    sha = hashlib.sha256()
    for name in sorted(zf.namelist()):
        data = zf.read(name)
        sha.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return sha.hexdigest()


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


def read_trusted(path: Path) -> tuple[bytes, list[str], list[str]]:
    """The bytes of a model file that passed every check made before loading.

    Returns the bytes, the types skops will construct (all trusted) and notes for the caller
    (``"no checksum"`` for a file written before checksums).
    """
    # skops takes seconds to import; only reading and writing model files need it.
    import skops.io as sio

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
    return data, sorted(set(untrusted)), notes


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
            comment, content_digest = zf.comment, digest(zf)
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
    if comment.startswith(DIGEST_PREFIX):
        if comment[len(DIGEST_PREFIX) :].decode("ascii", "replace") != content_digest:
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
    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "STOP":
                return True
    except Exception:
        return False
    return False
