"""The :class:`Anonymizer` estimator: the safeguards' steps in order, generation with the
near-copy filter, export and the privacy report."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags

from tabgen._params import store_params
from tabgen._progress import pass_verbose
from tabgen._rng import check_random_state, spawn_seed
from tabgen._tags import table_input_tags
from tabgen._validation import schema_kinds
from tabgen.pipelines.anonymization import reporting
from tabgen.pipelines.anonymization.checks import (
    check_params,
    holdout_rows,
    resolve_pii,
)
from tabgen.pipelines.anonymization.generation import Batches, generate
from tabgen.pipelines.anonymization.safeguards import (
    NearCopyFilter,
    clip,
    fake_columns,
    protect,
    rare_categories,
    robust_bounds,
    split_holdout,
)
from tabgen.schema import Schema, check_frame

logger = logging.getLogger("tabgen")


class Anonymizer(BaseEstimator):
    """Fit a synthesizer on a sensitive table and export a safeguarded synthetic copy.

    See the module docstring for the safeguards, each documented and on by default.

    Parameters
    ----------
    synthesizer : BaseSynthesizer, optional
        An unfitted tabgen synthesizer (cloned before use). Default: ``VAESynthesizer()``.
    preset : {"fast", "best"}, optional
        A named model instead of ``synthesizer``: ``"fast"`` is the Gaussian copula
        (seconds), ``"best"`` the VAE (the default). ``preset`` and ``synthesizer`` exclude
        each other.
    holdout : float or int, default 0.2
        Share (0-1) or number of real rows kept out of training to measure privacy against.
    target : str, optional
        Column predicted by the utility metrics of the report.
    pii : {"regenerate", "drop"}, default "regenerate"
        What happens to PII-like and key columns: fresh fake values, or left out of the output.
    pii_columns : list or dict, optional
        Extra columns to treat as PII (a dict gives their type, e.g. ``{"note": "free_text"}``;
        a list lets the values decide, ``"free_text"`` when they say nothing).
    keep_columns : list, optional
        Columns detected as PII that should be learned anyway (at the user's responsibility).
    rare_threshold : int, default 5
        Categories seen fewer times than this in the training rows are merged into
        ``"_RARE_"``; 0 or 1 turns this off.
    clip_outliers : bool, default True
        Clip numbers and dates to robust bounds (k-th extremes, k random in 5-7).
    distance_quantile : float, None or "auto", default "auto"
        Synthetic rows closer to a training row than this quantile of the holdout rows'
        distances to the training rows are replaced (exact copies always are). ``None`` keeps
        only the exact-copy check. ``"auto"``: 0.05, and no filter at all in DP mode (a
        number together with ``epsilon`` is an error).
    schema : dict, Schema or path, optional
        ``{column: kind}`` overrides for the column kinds; a :class:`~tabgen.schema.Schema`
        or the path of a JSON file (either form) also works.
    epsilon : float, optional
        Train with differential privacy at this total epsilon (see the module docstring).
    delta : float, optional
        DP delta; default ``min(1e-5, 1/(n sqrt n))`` for ``n`` training rows.
    domain : dict, optional
        Public domain for DP mode (``{"age": (17, 90), "sex": ["Female", "Male"]}``); what it
        does not declare is measured privately, spending part of ``epsilon``.
    random_state : None, int or numpy.random.Generator
        Seed of the fit: the holdout split, the outlier bounds, the synthesizer's fit (its
        own ``random_state`` is set from it) and the default stream of :meth:`sample`.
    verbose : bool, default=False
        Show progress bars on stderr (the synthesizer's training); ``False`` prints nothing
        of its own and leaves the synthesizer's ``verbose`` as set.

    Attributes
    ----------
    synthesizer_ : BaseSynthesizer
        The fitted model. It has seen the training rows: do not publish it.
    train_rows_ : numpy.ndarray
        Positions, in the table given to :meth:`fit`, of the training rows (the report names
        the riskiest rows by them).
    pii_columns_ : dict
        ``{column: pii type}`` of the columns kept out of the model.
    rare_merged_ : dict
        ``{column: number of categories merged}``.
    bounds_ : dict
        ``{column: (low, high)}`` clipping bounds.
    distance_threshold_ : float
        Distance under which a synthetic row is replaced (0: exact copies only).
    stats_ : dict
        Counters of the last :meth:`sample` / :meth:`export`: rows generated, rows replaced.

    Examples
    --------
    >>> import tabgen
    >>> from tabgen.pipelines import Anonymizer
    >>> df = tabgen.datasets.load_adult().head(600)
    >>> anon = Anonymizer(synthesizer=tabgen.GaussianCopulaSynthesizer(), random_state=0).fit(df)
    >>> synthetic = anon.sample(300)
    >>> synthetic.shape
    (300, 15)
    >>> anon.rare_merged_["native_country"] > 0
    True
    """

    def __init__(
        self,
        *,
        synthesizer=None,
        preset=None,
        holdout: float | int = 0.2,
        target: str | None = None,
        pii: str = "regenerate",
        pii_columns=None,
        keep_columns=None,
        rare_threshold: int = 5,
        clip_outliers: bool = True,
        distance_quantile: float | str | None = "auto",
        schema: dict | None = None,
        epsilon: float | None = None,
        delta: float | None = None,
        domain: dict | None = None,
        random_state=None,
        verbose: bool = False,
    ):
        store_params(self, locals())

    # -- fit --------------------------------------------------------------------------------
    def __sklearn_tags__(self):
        """Tables with missing cells, categories and strings; sparse input refused."""
        tags = super().__sklearn_tags__()
        table_input_tags(tags.input_tags)
        # the default VAE runs on an accelerator when there is one
        tags.non_deterministic = (self.synthesizer is None and self.epsilon is None) or bool(
            self.synthesizer is not None and get_tags(self.synthesizer).non_deterministic
        )
        return tags

    def fit(self, X, y=None) -> Anonymizer:
        """Split the holdout, apply the safeguards and fit the synthesizer.

        Parameters
        ----------
        X : pandas.DataFrame
            The sensitive table (never modified).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        frame = check_frame(X).reset_index(drop=True)
        check_params(self, frame)
        rng = check_random_state(self.random_state)
        self.columns_ = list(frame.columns)
        self.n_features_in_ = len(self.columns_)
        self.feature_names_in_ = np.asarray([str(c) for c in self.columns_], dtype=object)
        self.schema_ = Schema.detect(frame, overrides=schema_kinds(self.schema))
        kinds = self.schema_.kinds
        dp = self.epsilon is not None

        n_hold = holdout_rows(self.holdout, len(frame))
        self.train_, self.holdout_, self.train_rows_ = split_holdout(frame, n_hold, rng)

        self.pii_columns_ = resolve_pii(self, frame, kinds)
        self._fakes = {}
        if self.pii == "regenerate":
            self._fakes = fake_columns(
                self.train_, self.pii_columns_, dp=dp, min_count=self.rare_threshold
            )
        self.model_columns_ = [c for c in frame.columns if c not in self.pii_columns_]
        if not self.model_columns_:
            raise ValueError("every column was treated as PII: there is nothing left to model")
        self.model_kinds_ = {c: kinds[c] for c in self.model_columns_}

        # learned on the training rows only; off in DP mode (the DP domain does it)
        self._kept_categories, self.rare_merged_ = ({}, {})
        if not dp:
            self._kept_categories, self.rare_merged_ = rare_categories(
                self.train_, self.model_kinds_, self.rare_threshold
            )
        self.bounds_ = {}
        if self.clip_outliers and not dp:
            self.bounds_ = robust_bounds(self.train_, self.model_kinds_, self.schema_, rng)
        train = self._protect(self.train_[self.model_columns_])
        logger.info(
            "anonymizer: %d training rows, %d holdout rows, %d PII/key column(s) kept out, "
            "%d column(s) with rare categories merged, %d column(s) clipped",
            len(train),
            n_hold,
            len(self.pii_columns_),
            len(self.rare_merged_),
            len(self.bounds_),
        )

        self.synthesizer_ = self._make_synthesizer(rng).fit(train)

        holdout = self._protect(self.holdout_[self.model_columns_])
        self._filter = NearCopyFilter(self._quantile()).fit(
            train, holdout, self.model_kinds_, self.schema_
        )
        self.holdout_distances_ = self._filter.holdout_distances_
        self.distance_threshold_ = self._filter.threshold_
        self.stats_ = {"rows": 0, "replaced": 0}
        self._rng = np.random.default_rng(spawn_seed(rng))
        return self

    # -- generation -------------------------------------------------------------------------
    def sample(self, n: int | None = None, random_state=None) -> pd.DataFrame:
        """Generate ``n`` safeguarded synthetic rows in memory.

        Parameters
        ----------
        n : int, optional
            Number of rows; default: as many as the input table had.
        random_state : None, int or numpy.random.Generator
            ``None`` continues the anonymizer's own stream.

        Returns
        -------
        pandas.DataFrame
            The input's columns (PII columns regenerated, or dropped with ``pii="drop"``).
        """
        self._check_fitted()
        n = self._check_n(n)
        rng = self._rng if random_state is None else check_random_state(random_state)
        self.stats_ = {"rows": 0, "replaced": 0}
        return self._generate(n, rng, offset=0)

    def export(
        self,
        path,
        n: int | None = None,
        *,
        batch_size: int = 50_000,
        overwrite: bool = False,
        keep_rows: int = 0,
        random_state=None,
    ):
        """Stream ``n`` safeguarded synthetic rows to a Parquet or CSV file.

        Only synthetic rows are written; memory is bounded by ``batch_size``.

        Parameters
        ----------
        path : str or Path
            ``.parquet``, ``.csv`` or ``.csv.gz``.
        n : int, optional
            Number of rows; default: as many as the input table had.
        batch_size : int, default 50000
        overwrite : bool, default False
            Refuse to replace an existing file unless True.
        keep_rows : int, default 0
            Also return the first ``keep_rows`` exported rows (e.g. for :meth:`report`).
        random_state : None, int or numpy.random.Generator

        Returns
        -------
        Path or (Path, pandas.DataFrame)
            The path; with ``keep_rows`` > 0 also the first rows written.
        """
        from tabgen.io import sample_to_file

        self._check_fitted()
        n = self._check_n(n)
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
        kept: list[pd.DataFrame] = []
        budget = [int(keep_rows)]

        def keep(batch):
            if budget[0] > 0:
                kept.append(batch.head(budget[0]))
                budget[0] -= len(kept[-1])

        self.stats_ = {"rows": 0, "replaced": 0}
        rng = self._rng if random_state is None else check_random_state(random_state)
        sample_to_file(
            Batches(self),
            path,
            n,
            batch_size=batch_size,
            random_state=rng,
            on_batch=keep,
            overwrite=overwrite,
            verbose=bool(self.verbose),
        )
        logger.info(
            "exported %d synthetic rows to %s (%d near-copies replaced)",
            n,
            path,
            self.stats_["replaced"],
        )
        if keep_rows > 0:
            return path, pd.concat(kept, ignore_index=True)
        return path

    def _generate(self, n: int, rng: np.random.Generator, offset: int) -> pd.DataFrame:
        return generate(self, n, rng, offset)

    # -- report -----------------------------------------------------------------------------
    def report(
        self,
        synthetic: pd.DataFrame,
        *,
        n_attacks: int | None = None,
        metrics=("fidelity", "detection", "utility", "privacy", "attacks"),
        random_state=0,
    ):
        """Measure privacy, fidelity and utility of ``synthetic`` against the real rows.

        The real training rows (original values) and the holdout are compared on the modelled
        columns (regenerated PII columns carry no information from the real rows and are left
        out). The Anonymeter-style attacks use the holdout as control.

        Parameters
        ----------
        synthetic : pandas.DataFrame
            Rows from :meth:`sample` or :meth:`export`.
        n_attacks : int, optional
            Attacks per Anonymeter-style evaluation; default: ``min(len(holdout), 5000)``.
        metrics : iterable of str
            Metric groups of :func:`tabgen.evaluate`.
        random_state : int, default 0

        Returns
        -------
        tabgen.metrics.Report
            ``report.config["anonymizer"]`` lists the safeguards applied and their counts.
        """
        self._check_fitted()
        return reporting.report(
            self, synthetic, n_attacks=n_attacks, metrics=metrics, random_state=random_state
        )

    def safeguards(self) -> dict:
        """What the safeguards did, as a JSON-ready dict (also in the report)."""
        self._check_fitted()
        return reporting.safeguards(self)

    def _quantile(self):
        q = self.distance_quantile
        if isinstance(q, str):  # "auto"
            return None if self.epsilon is not None else 0.05
        return q

    # -- safeguards -------------------------------------------------------------------------
    def _protect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rare categories merged and numbers clipped (training rows and holdout alike)."""
        return protect(frame, self._kept_categories, self.bounds_, self.schema_)

    def _clip(self, frame: pd.DataFrame) -> pd.DataFrame:
        return clip(frame, self.bounds_, self.schema_)

    # -- checks ---------------------------------------------------------------------------------
    def _make_synthesizer(self, rng):
        from tabgen.pipelines._presets import preset_synthesizer
        from tabgen.synthesizers.copula import GaussianCopulaSynthesizer
        from tabgen.synthesizers.vae import VAESynthesizer

        base = preset_synthesizer("Anonymizer", self.preset, self.synthesizer)
        if base is None:
            base = GaussianCopulaSynthesizer() if self.epsilon is not None else VAESynthesizer()
        if not hasattr(base, "sample") or not hasattr(base, "fit"):
            raise TypeError(f"synthesizer must be a tabgen synthesizer, got {type(base).__name__}")
        model = clone(base)
        pass_verbose(model, self.verbose)
        if self.epsilon is not None:
            from tabgen.privacy import check_dp_support

            check_dp_support(model)
            domain = {c: v for c, v in (self.domain or {}).items() if c in self.model_columns_}
            model.set_params(epsilon=self.epsilon, delta=self.delta, domain=domain or None)
        schema = {
            c: k
            for c, k in (schema_kinds(model.get_params().get("schema")) or {}).items()
            if c in self.model_columns_
        }
        for col in self._kept_categories:
            schema[col] = "categorical"
        for col in self.keep_columns or []:  # learned, as asked: not regenerated as PII
            if col in self.model_columns_ and col not in schema:
                schema[col] = self.schema_[col].kind
        return model.set_params(schema=schema or None, random_state=spawn_seed(rng) % 2**31)

    def _check_fitted(self) -> None:
        if not hasattr(self, "synthesizer_"):
            raise NotFittedError("this Anonymizer is not fitted yet; call fit(X) first")

    def _check_n(self, n) -> int:
        from tabgen._validation import check_n

        return check_n(len(self.train_) + len(self.holdout_) if n is None else n)
