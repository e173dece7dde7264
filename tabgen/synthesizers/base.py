"""The synthesizer contract shared by every model.

:class:`BaseSynthesizer` is a template: its public methods validate input, resolve the
schema and the randomness, check that the model is fitted, parse conditions and restore the
output table; a model implements a few private hooks:

``_make_encoder()``
    the :class:`~tabgen.encoders.TableEncoder` configuration it wants;
``_fit(Z, rng)``
    learn from the encoded training matrix ``Z``;
``_sample(n, conditions, rng)``
    return an encoded matrix of ``n`` rows. ``conditions`` is ``None`` or a
    :class:`Conditions` (the same columns fixed on every row; values per row);
``_get_state()`` / ``_set_state(state, arrays)``
    JSON-able state and numpy arrays for :mod:`tabgen.persistence`.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from tabgen._rng import check_random_state
from tabgen.encoders import TableEncoder
from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.encoders.numerical import NumericEncoder
from tabgen.schema import (
    Schema,
    check_frame,
    format_text_numbers,
    native_frame,
    parse_text_numbers,
    restore_dtypes,
)

logger = logging.getLogger("tabgen")

#: Rows of the uniform sample on which ``fit(path)`` fits the column encoders.
FIT_SAMPLE_ROWS = 200_000


@dataclass
class Conditions:
    """Fixed values for some columns, one value per output row.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``n`` rows, one column per conditioned column. No missing cells, except for models
        with ``_row_conditions = True``, where NaN marks a free cell of that row.
    encoded : dict
        Column name to a float array of the value in the encoder's own value space: the
        category code for categorical columns, the encoded number for numeric ones (NaN
        for free cells).
    present : tuple
        Columns whose cells must come out observed (not missing) even where not fixed.
    """

    frame: pd.DataFrame
    encoded: dict
    #: Unconditioned columns whose cells must come out non-missing (used by imputation).
    present: tuple = ()

    @property
    def columns(self) -> list:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame)


def enable_verbose_logging() -> None:
    """Show tabgen's INFO messages (progress) on stderr when nothing else is configured."""
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[tabgen] %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


class BaseSynthesizer(BaseEstimator):
    """Base class of all synthesizers (see the module docstring for the hooks).

    Subclasses define a keyword-only ``__init__`` that stores each parameter unchanged under
    its own name; among them ``schema`` (overrides ``{column: kind}``), ``random_state`` and,
    for neural models, ``device``, ``epochs``, ``verbose``.
    """

    #: Whether ``_sample`` can condition on numeric columns (exact values).
    _numeric_conditions: bool = True
    #: Whether any set of observed cells can condition a row natively (no rejection), which
    #: imputation needs.
    _supports_inpainting: bool = False
    #: Whether ``_sample`` takes conditions that vary per row, with NaN marking a free cell
    #: (then rows are not grouped by missingness pattern before calling it).
    _row_conditions: bool = False
    #: Whether ``fit`` trains data-parallel inside a ``torch.distributed`` process group of
    #: several processes (``torchrun``; see :mod:`tabgen.nn.distributed`).
    _supports_data_parallel: bool = False
    #: Whether ``_fit`` reads its matrix ``Z`` by minibatches, so that ``fit(path)`` can hand
    #: it a disk-backed ``numpy.memmap`` (float32); otherwise ``Z`` is loaded into memory.
    _streams_training_data: bool = False

    # -- hooks ------------------------------------------------------------------------------
    def _make_encoder(self) -> TableEncoder:
        raise NotImplementedError

    def _validate_params(self) -> None:
        """Check constructor parameters; raise ``ValueError``/``TypeError`` naming them."""

    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample(self, n: int, conditions: Conditions | None, rng) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict]:
        return {}, {}

    def _set_state(self, state: dict, arrays: dict) -> None:
        pass

    @classmethod
    def _test_params(cls) -> dict:
        """Small, fast settings used by the common test suite."""
        return {}

    # -- fit --------------------------------------------------------------------------------
    def fit(self, X, y=None) -> BaseSynthesizer:
        """Learn the distribution of a table.

        With ``epsilon`` set (models with a DP mode) the fit is differentially private end
        to end (:func:`tabgen.privacy._fit.fit_private`, the guarantee in ``privacy_``);
        otherwise ordinary training.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray, str or Path
            The training table (never modified). Missing cells are allowed in every column.
            A path to a Parquet file or a folder of Parquet files is read in batches (see
            :meth:`_fit_path`): large tables need not fit in memory (not with ``epsilon``).
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self
        """
        if getattr(self, "epsilon", None) is not None:
            from tabgen.privacy._fit import fit_private

            return fit_private(self, X)
        if isinstance(X, (str, os.PathLike)):
            return self._fit_path(X)
        self._start_fit()
        X = check_frame(X)
        rng = check_random_state(self.random_state)
        self.schema_ = Schema.detect(X, overrides=self.schema)
        self.encoder_ = self._make_encoder().fit(X, self.schema_)
        Z = self.encoder_.transform(X, rng=self._dequantize_rng(rng))
        self.n_features_in_ = X.shape[1]
        self.columns_ = list(X.columns)
        self.n_rows_ = len(X)
        self._fit(Z, rng)
        self._sampling_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        return self

    def _fit_path(self, path) -> BaseSynthesizer:
        """Fit on a Parquet file or folder streamed off disk.

        1. the schema and the column encoders are fitted on a uniform sample of
           :data:`FIT_SAMPLE_ROWS` rows; the category sets and frequencies are then counted
           exactly over all rows (a category missing from the sample would be unencodable);
        2. the table is encoded batch by batch into a float32 ``numpy.memmap`` in a
           temporary folder (``TMPDIR``; ``rows x encoded width x 4`` bytes of disk);
        3. models that train by minibatches (``_streams_training_data``) read it as is;
           the others load it into memory. The temporary file is removed after ``_fit``.
        """
        from tabgen.io import iter_batches, open_dataset, uniform_sample

        self._start_fit()
        rng = check_random_state(self.random_state)
        dataset = open_dataset(path)
        sample, n = uniform_sample(dataset, FIT_SAMPLE_ROWS, rng)
        sample = check_frame(sample)
        self.schema_ = Schema.detect(sample, overrides=self.schema)
        self.encoder_ = self._make_encoder().fit(sample, self.schema_)
        _count_categories(self.encoder_, dataset)
        self.n_features_in_ = sample.shape[1]
        self.columns_ = list(sample.columns)
        self.n_rows_ = n
        del sample
        dequantize = self._dequantize_rng(rng)
        with tempfile.TemporaryDirectory(prefix="tabgen-fit-") as tmp:
            Z = np.lib.format.open_memmap(
                Path(tmp) / "encoded.npy",
                mode="w+",
                dtype="float32",
                shape=(n, self.encoder_.output_dim_),
            )
            for start, frame in iter_batches(dataset, 100_000):
                frame = check_frame(frame)
                Z[start : start + len(frame)] = self.encoder_.transform(frame, rng=dequantize)
            Z.flush()
            logger.info("encoded %d rows from %s", n, path)
            if not self._streams_training_data:
                Z = np.asarray(Z, dtype="float64")
            self._fit(Z, rng)
            del Z
        self._sampling_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        return self

    def _dequantize_rng(self, rng):
        """Generator for randomised encoding of tied values (``None``: deterministic)."""
        return None

    def _start_fit(self) -> None:
        """What every ``fit`` path does first: check the parameters, switch on progress,
        forget the privacy report of an earlier fit (a DP fit sets it again)."""
        self._validate_common_params()
        self._validate_params()
        for stale in ("privacy_", "domain_"):
            if hasattr(self, stale):
                delattr(self, stale)
        if getattr(self, "verbose", False):
            enable_verbose_logging()

    def _validate_common_params(self) -> None:
        schema = getattr(self, "schema", None)
        if schema is not None and not isinstance(schema, dict):
            raise TypeError(f"schema must be a dict {{column: kind}} or None, got {schema!r}")
        check_random_state(self.random_state)  # raises for bad values
        for name in ("epochs", "batch_size"):
            value = getattr(self, name, None)
            if value is not None and (
                not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    # -- sample -----------------------------------------------------------------------------
    def sample(
        self,
        n: int | None = None,
        conditions: dict | pd.DataFrame | None = None,
        random_state=None,
    ) -> pd.DataFrame:
        """Generate synthetic rows.

        Parameters
        ----------
        n : int, optional
            Number of rows. Required unless ``conditions`` is a DataFrame (then one row per
            condition row is returned).
        conditions : dict or pandas.DataFrame, optional
            ``{column: value}`` fixes columns on every row; a DataFrame gives values per row,
            where a missing cell leaves that column free on that row. Categorical values must
            have been seen in training; numbers must lie in the training range.
        random_state : None, int or numpy.random.Generator
            Seed of this call. ``None`` continues the estimator's own stream (itself seeded
            by the estimator's ``random_state``).

        Returns
        -------
        pandas.DataFrame
            The fitted columns with their dtypes (Arrow-backed columns, as from polars or
            pyarrow input, come back Arrow-backed); every row satisfies its conditions.
        """
        frame = self._sample_frame(n, conditions, random_state, id_offset=0)
        return restore_dtypes(frame, self.schema_)

    def _sample_frame(
        self, n, conditions, random_state, *, id_offset: int, fill_missing: bool = False
    ) -> pd.DataFrame:
        """Sampling with the options internal callers need.

        ``fill_missing=True`` (imputation) asks that every unconditioned column of a
        conditions row come out observed, never missing.
        """
        self._check_fitted()
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        cond = self._parse_conditions(n, conditions)
        if cond is None:
            n = _check_n(n)
            Z = self._sample(n, None, rng)
            return self._after_decode(self._decode(Z, id_offset), None)
        frame = cond
        if self._row_conditions:
            encoded = self._encode_conditions(frame)
            if fill_missing:
                encoded.present = tuple(self.columns_)
            result = self._decode(self._sample(len(frame), encoded, rng), id_offset)
            self._after_decode(result, frame)
            self._enforce(result, frame)
            result.index = frame.index
            return result
        # group rows by which columns are fixed, sample each group, restore the order
        pattern = frame.notna().to_numpy()
        keys, inverse = np.unique(pattern, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        Z = None
        for g, key in enumerate(keys):
            rows = np.flatnonzero(inverse == g)
            cols = [c for c, on in zip(frame.columns, key) if on]
            sub = frame.iloc[rows][cols]
            encoded = self._encode_conditions(sub) if cols else None
            if fill_missing:
                present = tuple(c for c in self.columns_ if c not in cols)
                if encoded is None:
                    encoded = Conditions(frame=sub.reset_index(drop=True), encoded={})
                encoded.present = present
            block = self._sample(len(rows), encoded, rng)
            if Z is None:
                Z = np.empty((len(frame), block.shape[1]))
            Z[rows] = block
        result = self._decode(Z, id_offset)  # one decode for all groups, rows in order
        self._after_decode(result, frame)
        self._enforce(result, frame)
        result.index = frame.index
        return result

    def _decode(self, Z: np.ndarray, id_offset: int) -> pd.DataFrame:
        return self.encoder_.inverse_transform(Z, id_offset=id_offset)

    def _after_decode(self, result: pd.DataFrame, conditions: pd.DataFrame | None):
        """Hook on decoded rows before the conditioned cells are checked and written
        (``conditions``: one row per result row, NaN where free; ``None``: unconditional).
        Returns ``result`` (changed in place)."""
        return result

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with a "
                "DataFrame before sampling."
            )

    # -- conditions -------------------------------------------------------------------------
    def _parse_conditions(self, n, conditions) -> pd.DataFrame | None:
        if conditions is None:
            return None
        if isinstance(conditions, pd.Series):
            conditions = conditions.to_frame().T
        if isinstance(conditions, dict):
            if not conditions:
                return None
            n = _check_n(n)
            for col, value in conditions.items():
                if _is_missing(value):
                    raise ValueError(f"condition on column {col!r} is missing (NaN/None)")
                if not np.isscalar(value) and not isinstance(value, (bool, pd.Timestamp)):
                    raise TypeError(
                        f"condition on column {col!r} must be a single value, got {value!r}; "
                        "pass a DataFrame for per-row values"
                    )
            frame = pd.DataFrame({c: [v] * n for c, v in conditions.items()})
        elif isinstance(conditions, pd.DataFrame):
            if n is not None and int(n) != len(conditions):
                raise ValueError(
                    f"n={n} does not match the {len(conditions)} rows of the conditions "
                    "DataFrame; leave n=None to get one row per condition row"
                )
            if len(conditions) == 0:
                raise ValueError("the conditions DataFrame has no rows")
            frame = native_frame(conditions)
        else:
            raise TypeError(
                f"conditions must be a dict or a DataFrame, got {type(conditions).__name__}"
            )
        unknown = [c for c in frame.columns if c not in self.schema_]
        if unknown:
            raise ValueError(
                f"conditions name unknown column(s) {unknown!r}; fitted columns are "
                f"{self.columns_!r}"
            )
        for col in frame.columns:
            kind = self.schema_[col].kind
            if not self._can_condition_on(col):
                raise ValueError(
                    f"cannot condition on column {col!r} of kind {kind!r} with "
                    f"{type(self).__name__}; condition on categorical"
                    + (" or numeric" if self._numeric_conditions else "")
                    + " columns"
                )
            self._check_condition_values(col, frame[col].dropna())
        return frame

    def _can_condition_on(self, col) -> bool:
        """Whether ``sample(conditions=...)`` accepts the fitted column ``col``: categorical
        columns always, numeric ones when the model conditions on numbers."""
        kind = self.schema_[col].kind
        return kind == "categorical" or (
            kind in ("numerical", "integer") and self._numeric_conditions
        )

    def _check_condition_values(self, col, values: pd.Series) -> None:
        enc = self.encoder_.encoders_[col]
        if isinstance(enc, CategoricalEncoder):
            for v in pd.unique(values.to_numpy(dtype=object)):
                enc.code_of(v)
            return
        try:
            x = self._condition_numbers(col, values)
        except (ValueError, TypeError):
            bad = next(v for v in values if not isinstance(v, numbers.Number))
            raise ValueError(
                f"condition on numeric column {col!r} is not a number: {bad!r}"
            ) from None
        bad = ~np.isfinite(x) | (x < enc.min_) | (x > enc.max_)
        if bad.any():
            raise ValueError(
                f"condition value {x[bad][0]!r} for column {col!r} is outside the training "
                f"range [{enc.min_}, {enc.max_}]"
            )
        if self.schema_[col].kind == "integer":
            frac = x != np.round(x)
            if frac.any():
                raise ValueError(
                    f"condition value {float(x[frac][0])!r} for integer column {col!r} is not a "
                    "whole number; pass a whole number (round it yourself if intended)"
                )

    def _condition_numbers(self, col, values: pd.Series) -> np.ndarray:
        """Numeric condition values as floats (numbers written as text are parsed)."""
        if self.schema_[col].info.get("text_number") is not None:
            return parse_text_numbers(values)
        return pd.to_numeric(values).to_numpy(dtype="float64")

    def _encode_conditions(self, frame: pd.DataFrame) -> Conditions:
        encoded = {}
        for col in frame.columns:
            enc = self.encoder_.encoders_[col]
            values = frame[col]
            known = values.notna().to_numpy()
            out = np.full(len(frame), np.nan)
            if isinstance(enc, CategoricalEncoder):
                out[known] = enc.codes(values[known])
            else:
                assert isinstance(enc, NumericEncoder)
                out[known] = enc.encode_values(self._condition_numbers(col, values[known]))
            encoded[col] = out
        return Conditions(frame=frame.reset_index(drop=True), encoded=encoded)

    def _enforce(self, out: pd.DataFrame, cond: pd.DataFrame) -> None:
        """Check categorical conditions held; write numeric ones exactly (float noise)."""
        for col in cond.columns:
            want = cond[col].reset_index(drop=True)
            fixed = want.notna().to_numpy()
            if self.schema_[col].kind == "categorical":
                got = out[col].astype(object).reset_index(drop=True)
                got = got.where(got.notna(), None)  # pd.NA cannot be compared
                bad = (got.to_numpy() != want.where(fixed, None).to_numpy(dtype=object)) & fixed
                if bad.any():
                    raise RuntimeError(
                        f"internal error: {type(self).__name__} produced {got[bad].iloc[0]!r} "
                        f"for column {col!r} conditioned on {want[bad].iloc[0]!r}"
                    )
            else:
                column = out[col].copy()
                rows = np.flatnonzero(fixed)
                text = self.schema_[col].info.get("text_number")
                if text is not None and not pd.api.types.is_numeric_dtype(column.dtype):
                    values = format_text_numbers(self._condition_numbers(col, want[fixed]), text)
                else:
                    values = pd.to_numeric(want[fixed]).to_numpy()
                column.iloc[rows] = values
                out[col] = column

    # -- persistence ------------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = False) -> None:
        """Write the fitted model to ``path`` (JSON + arrays, no pickle).

        The file is written under a temporary name and renamed into place, so an
        interrupted save leaves the old file (or nothing); missing parent folders are
        created. Load it back with :func:`tabgen.load`.

        Parameters
        ----------
        path : str or Path
        overwrite : bool, default=False
            Replace an existing file; otherwise an existing ``path`` raises
            ``FileExistsError``.
        """
        from tabgen.persistence import save_model

        self._check_fitted()
        save_model(self, path, overwrite=overwrite)


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


def _check_n(n) -> int:
    if n is None:
        raise ValueError("n (the number of rows to sample) is required")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise TypeError(f"n must be a positive integer, got {n!r}")
    if n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}")
    return int(n)


def _is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)
