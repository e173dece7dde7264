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

Saving writes a temporary file beside the target and renames it into place (an interrupted
save leaves the old file). Loading reads a JSON header of bounded size and nesting depth and
copies bytes into numpy arrays of whitelisted dtypes; the class is looked up in an explicit
registry. Nothing from the file is ever executed. The parameters then go through the
class's own checks and the array sizes are compared with the state. Wrong magic (for
example a pickle), another format version, a file from a newer tabgen, a truncated or
altered file: each raises :class:`ModelFileError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from pathlib import Path

import numpy as np

from tabgen._output import atomic_path, check_output
from tabgen._version import __version__

MAGIC = b"TABGEN\x00\x01"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQQ32s")
#: Largest JSON header read (bytes); a real model's is far smaller.
MAX_HEADER_BYTES = 256 * 2**20
#: Deepest nesting of lists/objects accepted in the JSON header.
MAX_DEPTH = 64
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


def save_model(model, path, *, overwrite: bool = False) -> Path:
    """Write a fitted synthesizer to ``path``, atomically.

    Parameters
    ----------
    model : BaseSynthesizer
        A fitted model.
    path : str or Path
        The file; missing parent folders are created.
    overwrite : bool, default=False
        Replace an existing file; otherwise an existing ``path`` raises ``FileExistsError``.

    Returns
    -------
    pathlib.Path
    """
    path = check_output(path, overwrite=overwrite, parents=True)
    header, data = model_parts(model)
    return write_model_file(path, header, data)


def model_parts(model) -> tuple[dict, bytes]:
    """The JSON header and the raw array bytes of a fitted synthesizer's file (a container
    such as a relational model stores several of them)."""
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
    return header, b"".join(chunks)


def write_model_file(path, header: dict, data: bytes) -> Path:
    """Write a model file (prefix, JSON ``header``, ``data``) atomically to ``path``, which
    the caller has checked with :func:`~tabgen._output.check_output`."""
    path = Path(path)
    head = json.dumps(header, allow_nan=False).encode("utf-8")
    digest = hashlib.sha256(head + data).digest()
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head), len(data), digest))
        fh.write(head)
        fh.write(data)
    return path


def read_header(path) -> tuple[dict, bytes]:
    """Validate a model file and return its JSON header and raw array bytes.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ModelFileError
        Anything else: not a tabgen file, another format version, truncated, altered,
        a header over :data:`MAX_HEADER_BYTES` or nested deeper than :data:`MAX_DEPTH`.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    where = repr(str(path))
    with open(path, "rb") as fh:
        prefix = fh.read(_PREFIX.size)
        if len(prefix) < _PREFIX.size or not prefix.startswith(MAGIC[:6]):
            raise ModelFileError(
                f"{where} is not a tabgen model file (unknown header); tabgen never loads "
                "pickles or other formats"
            )
        magic, version, hlen, dlen, digest = _PREFIX.unpack(prefix)
        if magic != MAGIC or version != FORMAT_VERSION:
            hint = (
                "it was written by a newer tabgen: upgrade tabgen to load it"
                if version > FORMAT_VERSION
                else "re-fit the model or load it with the tabgen version that wrote it"
            )
            raise ModelFileError(
                f"{where} uses model-file format {version}, this tabgen ({__version__}) "
                f"reads format {FORMAT_VERSION}; {hint}"
            )
        size = path.stat().st_size - _PREFIX.size
        if size != hlen + dlen:
            raise ModelFileError(
                f"{where} is truncated or has trailing bytes ({size} bytes of body, "
                f"{hlen + dlen} expected)"
            )
        if hlen > MAX_HEADER_BYTES:
            raise ModelFileError(
                f"{where} has a {hlen}-byte header, over the limit of {MAX_HEADER_BYTES} bytes"
            )
        body = fh.read()
    if hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{where} is corrupted (checksum mismatch)")
    head = body[:hlen]
    depth = _json_depth(head)
    if depth > MAX_DEPTH:
        raise ModelFileError(
            f"{where} has a header nested {depth} levels deep, over the limit of {MAX_DEPTH}"
        )
    try:
        header = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{where} has an unreadable header: {msg}") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} has an invalid header: not a JSON object")
    _check_version(header, where)
    return header, body[hlen:]


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _json_depth(text: bytes) -> int:
    """Deepest nesting of ``[`` / ``{`` in a JSON text, without parsing it (so that a
    hostile header cannot exhaust the parser's recursion)."""
    if not text:
        return 0
    code = np.frombuffer(_STRING.sub(b'""', text), dtype=np.uint8)
    step = np.isin(code, (ord("["), ord("{"))).astype(np.int64)
    step -= np.isin(code, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _version_tuple(text) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", str(text)) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _check_version(header: dict, where: str) -> None:
    """Refuse a model written by a newer tabgen (major.minor); older ones load (the format
    version, checked before, guarantees the layout)."""
    saved = _version_tuple(header.get("tabgen_version"))
    if saved is None:
        raise ModelFileError(
            f"{where} records no valid tabgen version "
            f"(tabgen_version={header.get('tabgen_version')!r})"
        )
    if saved > _version_tuple(__version__):
        raise ModelFileError(
            f"{where} was saved by tabgen {header['tabgen_version']}, newer than this tabgen "
            f"({__version__}); upgrade tabgen to load it"
        )


def _arrays(index: dict, data: bytes) -> dict:
    if not isinstance(index, dict):
        raise ModelFileError("the array index is not a JSON object")
    out = {}
    for name, meta in index.items():
        if not isinstance(meta, dict):
            raise ModelFileError(f"array {name!r} has no valid description")
        dtype = meta.get("dtype")
        if dtype not in _DTYPES:
            raise ModelFileError(f"array {name!r} has a disallowed dtype {dtype!r}")
        shape, start = meta.get("shape"), meta.get("offset")
        if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
            raise ModelFileError(f"array {name!r} has an invalid shape {shape!r}")
        if not _is_count(start):
            raise ModelFileError(f"array {name!r} has an invalid offset {start!r}")
        count = math.prod(shape)
        nbytes = count * np.dtype(dtype).itemsize
        if start + nbytes > len(data):
            raise ModelFileError(f"array {name!r} (shape {shape}) points outside the file")
        out[name] = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(shape)
    return out


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_sizes(model) -> None:
    """The fitted attributes agree with each other and with the encoder's width."""
    columns = model.columns_
    if list(model.schema_.names) != columns or model.n_features_in_ != len(columns):
        raise ModelFileError(
            f"the columns ({len(columns)}), the schema ({len(model.schema_.names)}) and "
            f"n_features_in ({model.n_features_in_}) disagree"
        )
    if list(model.encoder_.encoders_) != columns:
        raise ModelFileError("the encoder's columns differ from the model's columns")
    if model.n_rows_ < 0:
        raise ModelFileError(f"n_rows is negative ({model.n_rows_})")
    width = model.encoder_.output_dim_
    dim = getattr(getattr(model, "layout_", None), "dim", None)  # as the state says
    if isinstance(dim, int) and dim != width:
        raise ModelFileError(f"the network width {dim} differs from the encoding width {width}")
    expected = {"correlation_": (width, width)}
    for name, shape in expected.items():
        value = getattr(model, name, None)
        if value is not None and tuple(np.shape(value)) != shape:
            raise ModelFileError(
                f"{name.rstrip('_')} has shape {tuple(np.shape(value))}, the encoding needs {shape}"
            )
    marginals = getattr(model, "marginals_", None)
    if marginals is not None and len(marginals) != width:
        raise ModelFileError(f"{len(marginals)} marginals for an encoding of width {width}")


def _restore_tuples(cls, params: dict) -> dict:
    """JSON turns tuples into lists; give back tuples where the constructor's default is one."""
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    return {
        k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v
        for k, v in params.items()
    }


def load(path, *, custom: dict | None = None):
    """Load a model saved with ``model.save(path)``.

    Parameters
    ----------
    path : str or Path
    custom : dict, optional
        ``{name: predicate}`` for the model's :class:`~tabgen.constraints.Custom` rules
        (predicates are code, never saved in the file; sampling without them raises).

    Returns
    -------
    BaseSynthesizer
        The fitted model, on the CPU (or on ``device`` when it names an available one).

    Raises
    ------
    ModelFileError
        The file is not a tabgen model, has another format version, was saved by a newer
        tabgen, was altered, or describes a model that fails the class's own parameter
        checks or whose array sizes disagree with its state. The message is one line.
    FileNotFoundError, IsADirectoryError
        ``path`` does not exist or is a folder.
    """
    header, data = read_header(path)
    where = repr(str(path))
    container = header.get("container")
    if container is not None:
        if container not in CONTAINERS:
            raise ModelFileError(f"{where} holds an unknown kind of model {container!r}")
        from tabgen.synthesizers.registry import import_path

        return import_path(CONTAINERS[container])(header, data, where)
    return model_from_parts(header, data, where, custom=custom)


#: Model files that hold several models (``"container"`` in the header) -> the function
#: that rebuilds one from ``(header, data, where)``, by import path.
CONTAINERS = {"relational": "tabgen.relational.synthesizer:load_relational"}


def model_from_parts(header: dict, data: bytes, where: str, *, custom: dict | None = None):
    """The fitted synthesizer described by a validated ``header`` and its array bytes
    ``data`` (see :func:`load`; ``where`` names the file in messages)."""
    from tabgen.encoders import TableEncoder
    from tabgen.schema import Schema
    from tabgen.synthesizers.registry import class_by_name

    try:
        cls = class_by_name(header["class"])
        params = {k: v for k, v in header["params"].items() if k in cls._get_param_names()}
        params = _restore_tuples(cls, params)
        model = cls(**params)
    except ModelFileError:
        raise
    except Exception as exc:  # anything the file's content makes fail is a bad file
        raise ModelFileError(f"{where} has an invalid model description: {_line(exc)}") from None
    try:  # the class's own checks, as fit runs them
        probe = model
        if isinstance(params.get("device"), str):
            # a model saved on a GPU loads anywhere: availability is checked at use, not here
            probe = cls(**{**params, "device": "cpu"})
        probe._validate_common_params()
        probe._validate_params()
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{where} has invalid parameters: {_line(exc)}") from None
    try:
        model.encoder_ = TableEncoder.from_state(header["encoder"])
        model.schema_ = Schema.from_dict(header["encoder"]["schema"])
        fitted = header["fitted"]
        model.columns_ = list(fitted["columns"])
        model.n_rows_ = int(fitted["n_rows"])
        model.n_features_in_ = int(fitted["n_features_in"])
        model._load_file_state(header["state"], _arrays(header["arrays"], data))
        _check_sizes(model)
    except ModelFileError as exc:
        if str(exc).startswith(where):
            raise
        raise ModelFileError(f"{where} has an invalid model description: {exc}") from None
    except Exception as exc:  # e.g. torch's RuntimeError for arrays of another size
        raise ModelFileError(f"{where} has an invalid model description: {_line(exc)}") from None
    if custom:
        if getattr(model, "constraints_", None) is None:
            raise ValueError(
                f"custom predicates given, but the model in {where} has no constraints"
            )
        model.constraints_.supply(custom)
    seed = model.random_state if isinstance(model.random_state, int) else None
    model._sampling_rng = np.random.default_rng(seed)
    return model


def _line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line of at most ``limit`` characters (torch's run over
    many lines)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return f"missing entry {text}"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
