"""Safe model files: JSON plus raw arrays, no pickle anywhere.

Layout of a ``.tabgen`` file (all integers little-endian)::

    8 bytes   magic  b"TABGEN\\x00\\x01"
    4 bytes   format version (uint32)
    8 bytes   header length H (uint64)
    8 bytes   data length D (uint64)
    32 bytes  SHA-256 of header + data
    H bytes   UTF-8 JSON header: class, params, schema, encoder state, model state,
              library version and an index of arrays (dtype, shape, offset)
    D bytes   the arrays' raw bytes

Loading parses JSON and copies bytes into numpy arrays of whitelisted dtypes; the class is
looked up in an explicit registry. Nothing from the file is ever executed. Wrong magic (for
example a pickle), another format version, a truncated or altered file: each raises
:class:`ModelFileError` with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np

from tabgen._version import __version__

MAGIC = b"TABGEN\x00\x01"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQQ32s")
_DTYPES = {"float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool", "float16"}


class ModelFileError(ValueError):
    """A file that is not a loadable tabgen model."""


def _jsonable_params(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            value = None  # e.g. a Generator passed as random_state: not stored
        out[key] = value
    return out


def save_model(model, path) -> None:
    """Write a fitted synthesizer to ``path``."""
    state, arrays = model._file_state()
    index, chunks, offset = {}, [], 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.name not in _DTYPES:
            raise TypeError(f"array {name!r} has unsupported dtype {arr.dtype}")
        raw = arr.tobytes()
        index[name] = {"dtype": arr.dtype.name, "shape": list(arr.shape), "offset": offset}
        chunks.append(raw)
        offset += len(raw)
    header = {
        "tabgen_version": __version__,
        "class": type(model).__name__,
        "params": _jsonable_params(model.get_params(deep=False)),
        "fitted": {
            "columns": model.columns_,
            "n_rows": model.n_rows_,
            "n_features_in": model.n_features_in_,
        },
        "encoder": model.encoder_.get_state(),
        "state": state,
        "arrays": index,
    }
    head = json.dumps(header, allow_nan=False).encode("utf-8")
    data = b"".join(chunks)
    digest = hashlib.sha256(head + data).digest()
    Path(path).write_bytes(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head), len(data), digest))
    with open(path, "ab") as fh:
        fh.write(head)
        fh.write(data)


def read_header(path) -> tuple[dict, bytes]:
    """Validate a model file and return its JSON header and raw array bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    blob = path.read_bytes()
    if len(blob) < _PREFIX.size or not blob.startswith(MAGIC[:6]):
        raise ModelFileError(
            f"{str(path)!r} is not a tabgen model file (unknown header); tabgen never loads "
            "pickles or other formats"
        )
    magic, version, hlen, dlen, digest = _PREFIX.unpack_from(blob)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} uses model-file format {version}, this tabgen ({__version__}) "
            f"reads format {FORMAT_VERSION}; re-fit the model or use a matching tabgen version"
        )
    body = blob[_PREFIX.size :]
    if len(body) != hlen + dlen:
        raise ModelFileError(
            f"{str(path)!r} is truncated or has trailing bytes ({len(body)} bytes of body, "
            f"{hlen + dlen} expected)"
        )
    if hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{str(path)!r} is corrupted (checksum mismatch)")
    try:
        header = json.loads(body[:hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{str(path)!r} has an unreadable header: {exc}") from None
    return header, body[hlen:]


def _arrays(index: dict, data: bytes) -> dict:
    out = {}
    for name, meta in index.items():
        dtype = meta.get("dtype")
        if dtype not in _DTYPES:
            raise ModelFileError(f"array {name!r} has a disallowed dtype {dtype!r}")
        shape = tuple(int(s) for s in meta["shape"])
        count = int(np.prod(shape)) if shape else 1
        start = int(meta["offset"])
        nbytes = count * np.dtype(dtype).itemsize
        if start < 0 or start + nbytes > len(data):
            raise ModelFileError(f"array {name!r} points outside the file")
        out[name] = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(shape)
    return out


def _restore_tuples(cls, params: dict) -> dict:
    """JSON turns tuples into lists; give back tuples where the constructor's default is one."""
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    return {
        k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v
        for k, v in params.items()
    }


def load(path):
    """Load a model saved with ``model.save(path)``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    BaseSynthesizer
        The fitted model, on the CPU (or on ``device`` when it names an available one).

    Raises
    ------
    ModelFileError
        The file is not a tabgen model, has another format version, or was altered.
    """
    from tabgen.encoders import TableEncoder
    from tabgen.schema import Schema
    from tabgen.synthesizers.registry import class_by_name

    header, data = read_header(path)
    try:
        cls = class_by_name(header["class"])
        params = {k: v for k, v in header["params"].items() if k in cls._get_param_names()}
        params = _restore_tuples(cls, params)
        model = cls(**params)
        model.encoder_ = TableEncoder.from_state(header["encoder"])
        model.schema_ = Schema.from_dict(header["encoder"]["schema"])
        fitted = header["fitted"]
        model.columns_ = list(fitted["columns"])
        model.n_rows_ = int(fitted["n_rows"])
        model.n_features_in_ = int(fitted["n_features_in"])
        model._load_file_state(header["state"], _arrays(header["arrays"], data))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{str(path)!r} has an invalid model description: {exc}") from None
    seed = model.random_state if isinstance(model.random_state, int) else None
    model._sampling_rng = np.random.default_rng(seed)
    return model
