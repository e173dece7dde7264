"""The synthesizer contract shared by every model.

:class:`BaseSynthesizer` is a template: its public methods validate input, resolve the
schema and the randomness, check that the model is fitted, parse conditions
(:mod:`tabgen.synthesizers.conditions`) and restore the output table. ``fit`` is one
pipeline for a DataFrame, a Parquet path and a differentially private fit: validate ->
schema -> encoder (:mod:`tabgen.synthesizers._fitdata`) -> optional privatisation
(:mod:`tabgen.privacy._fit`) -> the model's ``_fit`` -> post-processors
(:mod:`tabgen.synthesizers.postprocess`). ``inpaint`` (:mod:`tabgen.synthesizers.inpainting`)
fills missing cells through the same conditional sampling, for every model whose
``capabilities.inpainting`` is true. A model implements a few private hooks:

``_make_encoder()``
    the :class:`~tabgen.encoders.TableEncoder` configuration it wants;
``_fit(Z, rng)``
    learn from the encoded training matrix ``Z`` (``_fit_private(Z, rng, budget)`` for
    models with a DP mode);
``_sample(n, conditions, rng)``
    return an encoded matrix of ``n`` rows. ``conditions`` is ``None`` or a
    :class:`Conditions` (the same columns fixed on every row; values per row);
``_get_state()`` / ``_set_state(state, arrays)``
    JSON-able state and numpy arrays for :mod:`tabgen.persistence` (the post-processors'
    and the privacy report are added by the base class);
``default_postprocessors``
    the names of the post-processors its fits learn unless the ``postprocess`` parameter
    says otherwise (none by default; public, see :mod:`tabgen.synthesizers.postprocess`).
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from tabgen._rng import check_random_state
from tabgen._tags import table_input_tags
from tabgen._validation import check_n as _check_n
from tabgen._validation import schema_kinds
from tabgen.encoders import TableEncoder
from tabgen.schema import restore_dtypes
from tabgen.synthesizers._fitdata import training_data
from tabgen.synthesizers.capabilities import CapabilitiesOf
from tabgen.synthesizers.conditions import ConditionHandling, Conditions
from tabgen.synthesizers.inpainting import Inpainting
from tabgen.synthesizers.postprocess import PostProcessing, check_postprocess

__all__ = ["BaseSynthesizer", "Conditions"]

logger = logging.getLogger("tabgen")


class BaseSynthesizer(ConditionHandling, Inpainting, PostProcessing, BaseEstimator):
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

    #: What the model supports (:class:`~tabgen.synthesizers.capabilities.Capabilities`),
    #: read from the flags above: the public way for users and other packages to ask.
    capabilities = CapabilitiesOf()

    def __sklearn_tags__(self):
        """Tables with missing cells, categories and strings; sparse input refused; runs on
        an accelerator are not bit-reproducible (``non_deterministic``)."""
        tags = super().__sklearn_tags__()
        table_input_tags(tags.input_tags)
        tags.non_deterministic = str(getattr(self, "device", "cpu") or "cpu") != "cpu"
        return tags

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

        One pipeline for every source: check the parameters, read the rows, detect the
        schema, fit the encoder and encode (:func:`~tabgen.synthesizers._fitdata.training_data`),
        privatise them with ``epsilon`` set, train the model (``_fit``, or ``_fit_private``
        with ``epsilon``: :mod:`tabgen.privacy._fit`, the guarantee in ``privacy_``), then fit
        the model's post-processors (:mod:`tabgen.synthesizers.postprocess`) on the rows.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray, str or Path
            The training table (never modified). Missing cells are allowed in every column.
            A path to a Parquet file or a folder of Parquet files is read in batches (see
            :func:`~tabgen.synthesizers._fitdata._encode_file`): large tables need not fit
            in memory (not with ``epsilon``; with ``constraints`` it is read whole).
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self
        """
        private = getattr(self, "epsilon", None) is not None
        if private:
            from tabgen.privacy._fit import check_private_input

            check_private_input(X)
        self._start_fit()
        rng = check_random_state(self.random_state)
        X = self._apply_constraints(X, private)
        with training_data(self, X, rng, private) as data:
            self.n_features_in_ = len(data.columns)
            self.columns_ = data.columns
            self.feature_names_in_ = np.asarray([str(c) for c in data.columns], dtype=object)
            self.n_rows_ = data.n_rows
            if private:
                from tabgen.privacy._fit import fit_private

                fit_private(self, data.Z, data.budget, rng)
            else:
                self._fit(data.Z, rng)
        self._sampling_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        self._fit_postprocessors(data.real, rng)
        return self

    def _apply_constraints(self, X, private: bool):
        """Fit the ``constraints`` (:class:`~tabgen.constraints.ConstraintSet`) on ``X`` and
        return the table the model learns (``X`` itself without constraints)."""
        if hasattr(self, "constraints_"):
            del self.constraints_
        rules = getattr(self, "constraints", None)
        if not rules:
            return X
        from tabgen.constraints import ConstraintSet

        rules = ConstraintSet(
            rules,
            getattr(self, "constraint_violations", "raise"),
            copies=getattr(self, "_constraint_copies", False),
        )
        inner = rules.fit_transform(X, private=private, domain=getattr(self, "domain", None))
        self.constraints_ = rules
        return inner

    def _dequantize_rng(self, rng):
        """Generator for randomised encoding of tied values (``None``: deterministic)."""
        return None

    def _start_fit(self) -> None:
        """What every ``fit`` path does first: check the parameters, forget the privacy
        report of an earlier fit (a DP fit sets it again)."""
        self._validate_common_params()
        self._validate_params()
        for stale in ("privacy_", "domain_"):
            if hasattr(self, stale):
                delattr(self, stale)

    def check_params(self) -> None:
        """Check the constructor parameters without fitting: the errors ``fit`` raises first.

        Raises
        ------
        ValueError or TypeError
            Naming the parameter and its value.

        Examples
        --------
        >>> import tabgen
        >>> tabgen.VAESynthesizer(epochs=0).check_params()
        Traceback (most recent call last):
        ...
        ValueError: epochs must be a positive integer, got 0
        """
        self._validate_common_params()
        self._validate_params()

    def _validate_common_params(self) -> None:
        schema_kinds(getattr(self, "schema", None))  # raises for a bad form
        check_random_state(self.random_state)  # raises for bad values
        for name in ("epochs", "batch_size"):
            value = getattr(self, name, None)
            if value is not None and (
                not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_postprocess(
            getattr(self, "postprocess", "default"), getattr(self, "epsilon", None) is not None
        )
        if getattr(self, "constraints", None) is not None:
            from tabgen.constraints import ConstraintSet

            ConstraintSet(self.constraints, getattr(self, "constraint_violations", "raise"))

    # -- sample -----------------------------------------------------------------------------
    def sample(
        self,
        n: int | None = None,
        conditions: dict | pd.DataFrame | None = None,
        random_state=None,
        *,
        id_offset: int = 0,
        fill_missing: bool = False,
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
        id_offset : int, default 0
            First value of generated id columns (a table written in batches continues the
            ids of the previous batch).
        fill_missing : bool, default False
            With a conditions DataFrame, every free cell comes out observed, never missing
            (imputation), drawn by the model itself: the discriminator selection, whose gain is
            on whole rows, does not pick among completions. Without conditions it has no effect.

        Returns
        -------
        pandas.DataFrame
            The fitted columns with their dtypes (Arrow-backed columns, as from polars or
            pyarrow input, come back Arrow-backed); every row satisfies its conditions.
        """
        from tabgen._progress import SAMPLE_BAR_ROWS, task

        rows = len(conditions) if isinstance(conditions, pd.DataFrame) else n
        show = getattr(self, "verbose", False) and isinstance(rows, numbers.Integral)
        with task(rows or 0, desc="sampling", unit="row", enabled=show and rows >= SAMPLE_BAR_ROWS):
            frame = self._sample_frame(
                n, conditions, random_state, id_offset=id_offset, fill_missing=fill_missing
            )
        if getattr(self, "constraints_", None) is not None:
            return frame  # the constraints' inverse gave the columns their dtypes back
        return restore_dtypes(frame, self.schema_)

    def _sample_frame(
        self, n, conditions, random_state, *, id_offset: int, fill_missing: bool = False
    ) -> pd.DataFrame:
        """Sampling with the options internal callers need; with ``constraints``, through
        their transform (:meth:`tabgen.constraints.ConstraintSet.sample`)."""
        rules = getattr(self, "constraints_", None)
        if rules is None:
            return self._sample_rows(
                n, conditions, random_state, id_offset=id_offset, fill_missing=fill_missing
            )
        self._check_fitted()
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)

        def draw(k, inner_conditions, generator):
            return self._sample_rows(
                k if inner_conditions is None else None,
                inner_conditions,
                generator,
                id_offset=id_offset,
                fill_missing=fill_missing,
            )

        return rules.sample(draw, n, conditions, rng)

    def _sample_rows(
        self, n, conditions, random_state, *, id_offset: int, fill_missing: bool = False
    ) -> pd.DataFrame:
        """Sampling of the model's own (inner) columns.

        ``fill_missing=True`` (imputation) asks that every unconditioned column of a
        conditions row come out observed, never missing.
        """
        self._check_fitted()
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        cond = self._parse_conditions(n, conditions)
        if cond is None:
            n = _check_n(n)
            Z = self._draw(n, None, rng)
            return self._after_decode(self._decode(Z, id_offset), None)
        frame = cond
        if self._row_conditions:
            encoded = self._encode_conditions(frame)
            if fill_missing:
                encoded.present, encoded.completes = tuple(self.columns_), True
            result = self._decode(self._draw(len(frame), encoded, rng), id_offset)
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
                encoded.present, encoded.completes = present, True
            block = self._draw(len(rows), encoded, rng)
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

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has run (:func:`sklearn.utils.validation.check_is_fitted`)."""
        return hasattr(self, "encoder_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with a "
                "DataFrame before sampling."
            )

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
