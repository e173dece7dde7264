"""The first steps of every fit: read the rows, detect the schema, fit the encoder and encode.

:func:`training_data` yields a :class:`TrainingData` for the three sources a fit accepts:

* a DataFrame (or array): the schema and the encoder are fitted on all rows;
* a path to a Parquet file or folder (:func:`_encode_file`): they are fitted on a uniform
  sample, the category sets are then counted over all rows, and the rows are encoded batch
  by batch into a temporary memory-mapped file;
* a DataFrame with differential privacy (:func:`tabgen.privacy._fit.prepare_private`): the
  schema and the encoder hold only released values.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tabgen._validation import schema_kinds
from tabgen.encoders import TableEncoder
from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.schema import check_frame
from tabgen.synthesizers.postprocess.pii import pii_schema

logger = logging.getLogger("tabgen")

#: Rows of the uniform sample on which ``fit(path)`` fits the column encoders.
FIT_SAMPLE_ROWS = 200_000
#: Rows read and encoded at a time by ``fit(path)``.
_BATCH_ROWS = 100_000


@dataclass
class TrainingData:
    """The encoded training rows and what the rest of the fit needs of them.

    Attributes
    ----------
    Z : numpy.ndarray
        The encoded matrix (a ``numpy.memmap`` for a file and a model that streams it).
    real : pandas.DataFrame or None
        Rows the post-processors learn from: all rows, the uniform sample of a file, or
        ``None`` (differential privacy: nothing outside the accounting reads the rows).
    columns : list
        The table's columns.
    n_rows : int
        Rows of the whole table.
    budget : dict, optional
        The privacy budget left to the model (differential privacy only).
    """

    Z: np.ndarray
    real: pd.DataFrame | None
    columns: list
    n_rows: int
    budget: dict | None = None


@contextmanager
def training_data(model, X, rng, private: bool):
    """Fit ``model.schema_`` and ``model.encoder_`` and yield the :class:`TrainingData` of
    ``X`` (temporary files are removed on exit)."""
    if private:  # nothing outside the privacy accounting reads the rows: real is None
        from tabgen.privacy._fit import prepare_private

        X = check_frame(X)
        Z, budget = prepare_private(model, X, rng)
        yield TrainingData(Z, None, list(X.columns), len(X), budget)
    elif isinstance(X, (str, os.PathLike)):
        with _encode_file(model, X, rng) as data:
            yield data
    else:
        X = check_frame(X)
        _fit_encoder(model, X)
        Z = model.encoder_.transform(X, rng=model._dequantize_rng(rng))
        yield TrainingData(Z, X, list(X.columns), len(X))


def _fit_encoder(model, frame: pd.DataFrame) -> None:
    rules = getattr(model, "constraints_", None)  # columns in a rule are modelled, never PII
    ruled = {c for rule in rules.rules for c in rule.columns} if rules is not None else ()
    model.schema_ = pii_schema(frame, schema_kinds(model.schema), ruled)  # PII columns as ids
    model.encoder_ = model._make_encoder().fit(frame, model.schema_)


@contextmanager
def _encode_file(model, path, rng):
    """Encode a Parquet file or folder streamed off disk.

    1. the schema and the column encoders are fitted on a uniform sample of
       :data:`FIT_SAMPLE_ROWS` rows; the category sets and frequencies are then counted
       exactly over all rows (a category missing from the sample would be unencodable);
    2. the table is encoded batch by batch into a float32 ``numpy.memmap`` in a temporary
       folder (``TMPDIR``; ``rows x encoded width x 4`` bytes of disk);
    3. models that train by minibatches (``_streams_training_data``) read it as is; the
       others get it in memory. The temporary file is removed on exit.
    """
    from tabgen.io import iter_batches, open_dataset, uniform_sample

    dataset = open_dataset(path)
    sample, n = uniform_sample(dataset, FIT_SAMPLE_ROWS, rng)
    sample = check_frame(sample)
    _fit_encoder(model, sample)
    _count_categories(model.encoder_, dataset)
    dequantize = model._dequantize_rng(rng)
    with tempfile.TemporaryDirectory(prefix="tabgen-fit-") as tmp:
        Z = np.lib.format.open_memmap(
            Path(tmp) / "encoded.npy",
            mode="w+",
            dtype="float32",
            shape=(n, model.encoder_.output_dim_),
        )
        for start, frame in iter_batches(dataset, _BATCH_ROWS):
            frame = check_frame(frame)
            Z[start : start + len(frame)] = model.encoder_.transform(frame, rng=dequantize)
        Z.flush()
        logger.info("encoded %d rows from %s", n, path)
        if not model._streams_training_data:
            Z = np.asarray(Z, dtype="float64")
        data = TrainingData(Z, sample, list(sample.columns), n)
        del Z
        yield data
        data.Z = None  # release the memory map before its folder goes


def _count_categories(encoder: TableEncoder, dataset) -> None:
    """Replace the category sets and frequencies of ``encoder``'s categorical columns (fitted
    on a sample) by exact counts over ``dataset``, in one pass over those columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from tabgen.schema import _json_scalar

    columns = [c for c, e in encoder.encoders_.items() if isinstance(e, CategoricalEncoder)]
    if not columns:
        return
    counts: dict = {c: {} for c in columns}  # key -> [representative value, count]
    pool = pa.default_memory_pool()
    for batch in dataset.to_batches(
        columns=columns, batch_size=200_000, batch_readahead=1, fragment_readahead=1
    ):
        for c in columns:
            enc = encoder.encoders_[c]
            if getattr(enc, "keyed_", False):  # booleans mixed with other values: pandas
                raw = batch.column(c).to_pandas().dropna().to_numpy(dtype=object)
                keys = enc._keys(raw)
                firsts = dict(zip(keys[::-1], raw[::-1]))
                freq = pd.Series(keys, dtype=object).value_counts(sort=False)
                items = [(k, firsts[k], int(f)) for k, f in freq.items()]
            else:
                vc = pc.value_counts(batch.column(c).drop_null())  # first-appearance order
                values = vc.field("values").to_pylist()
                items = zip(values, values, vc.field("counts").to_pylist(), strict=True)
            for key, value, f in items:
                if isinstance(key, float) and math.isnan(key):
                    continue  # NaN is a missing cell
                entry = counts[c].setdefault(key, [value, 0])
                entry[1] += int(f)
        del batch
        pool.release_unused()
    for c in columns:
        enc = encoder.encoders_[c]
        order = sorted(counts[c], key=lambda k: -counts[c][k][1])  # stable: first seen first
        total = sum(v[1] for v in counts[c].values())
        enc.categories_ = [_json_scalar(counts[c][k][0]) for k in order]
        enc.frequencies_ = [counts[c][k][1] / total for k in order]
    encoder._build_layout()
