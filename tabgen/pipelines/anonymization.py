"""Anonymized export: a synthetic copy of a sensitive table, with safeguards and a measured
privacy report.

What :class:`Anonymizer` does, in order (each safeguard on by default):

1. **Holdout.** A share of the real rows (default 20 %) is split off before anything is
   learned. The model never sees it; every privacy number is measured against it.
2. **PII and keys are never learned.** Columns that look like personal identifiers — by name
   or by their values: emails, phone numbers, person names, street addresses, IPs, URLs, card,
   IBAN and social-security numbers, postcodes, free text — and key columns (unique ids) are
   left out of the model. In the output they are regenerated with fresh, format-preserving
   fake values (reserved domains and ranges, random syllables; keys unique across the whole
   export) or dropped (``pii="drop"``). See :mod:`tabgen.pipelines._pii`.
3. **Rare categories are merged.** A category seen fewer than ``rare_threshold`` times in the
   training rows becomes one protected value (``"_RARE_"``) before training, so a unique value
   cannot single out its owner.
4. **Robust numeric bounds.** Numbers and dates are clipped, in the training rows and in the
   output, to the k-th smallest and k-th largest training value with k drawn at random in
   5-7 (per column), so the exact extremes — the outliers' own values — are never released.
   A column with fewer than 20 present values is clipped to its quartiles.
5. **Near-copies are replaced.** A synthetic row identical to a training row, or closer to its
   nearest training row than ``distance_quantile`` (default 5 %) of the holdout's real rows
   are to theirs, is discarded and replaced by a fresh sample; the count is reported. This
   filter compares with the real rows, so it is itself data-dependent: it is not
   differential privacy and must not be described as such.
6. **Only synthetic rows leave.** :meth:`Anonymizer.export` writes synthetic rows only, in
   batches (memory bounded by the batch). The fitted model is never written: a model can
   memorise rows, and saving it (``anonymizer.synthesizer_.save(path)``) is a separate,
   explicit act.

:meth:`Anonymizer.report` measures the result against the holdout: DCR share, exact-copy
rate, NNDR, a distance-based membership-inference AUC, Anonymeter-style singling-out,
linkability and attribute-inference risks with 95 % confidence intervals, and the fidelity
and utility scores, so the trade-off is visible. These are *measured* risks from a set of
attacks, not a proof of anonymity.

**Differential privacy** (``epsilon=``): the synthesizer is trained in its DP mode (see
:mod:`tabgen.privacy`; default model in this mode: the DP Gaussian copula, the best utility we
measured at small epsilon) and the export then carries an (epsilon, delta) guarantee for the
training rows. Everything that would look at the real rows outside the model is switched off,
since it would break the guarantee: no rare-category merging or clipping here (the DP domain
releases categories and bounds itself), no near-copy filter (asking for one is an error), and
PII columns are regenerated from canonical formats only (no shapes, no missing rate learned).
Column kinds and names, the domain the user declares and the row count are treated as public.
"""

from __future__ import annotations

import logging
import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from tabgen._rng import check_random_state, spawn_seed
from tabgen.metrics._neighbors import kneighbors
from tabgen.schema import Schema, check_frame

logger = logging.getLogger("tabgen")

#: Minimum number of input rows: below it a holdout cannot measure anything.
MIN_ROWS = 50
RARE_VALUE = "_RARE_"
_NUMERIC_KINDS = ("numerical", "integer")
_PII_MODES = ("regenerate", "drop")
#: Present values a column needs before its k-th extremes are released as bounds.
_MIN_BOUND_VALUES = 20
_MAX_ROUNDS = 50


class Anonymizer(BaseEstimator):
    """Fit a synthesizer on a sensitive table and export a safeguarded synthetic copy.

    See the module docstring for the safeguards, each documented and on by default.

    Parameters
    ----------
    synthesizer : BaseSynthesizer, optional
        An unfitted tabgen synthesizer (cloned before use). Default: ``VAESynthesizer()``.
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
    schema : dict, optional
        ``{column: kind}`` overrides for the column kinds.
    epsilon : float, optional
        Train with differential privacy at this total epsilon (see the module docstring).
    delta : float, optional
        DP delta; default ``min(1e-5, 1/(n sqrt n))`` for ``n`` training rows.
    domain : dict, optional
        Public domain for DP mode (``{"age": (17, 90), "sex": ["Female", "Male"]}``); what it
        does not declare is measured privately, spending part of ``epsilon``.
    random_state : None, int or numpy.random.Generator

    Attributes
    ----------
    synthesizer_ : BaseSynthesizer
        The fitted model. It has seen the training rows: do not publish it.
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
    >>> anon = Anonymizer(tabgen.GaussianCopulaSynthesizer(), random_state=0).fit(df)
    >>> synthetic = anon.sample(300)
    >>> synthetic.shape
    (300, 15)
    >>> anon.rare_merged_["native_country"] > 0
    True
    """

    def __init__(
        self,
        synthesizer=None,
        *,
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
    ):
        self.synthesizer = synthesizer
        self.holdout = holdout
        self.target = target
        self.pii = pii
        self.pii_columns = pii_columns
        self.keep_columns = keep_columns
        self.rare_threshold = rare_threshold
        self.clip_outliers = clip_outliers
        self.distance_quantile = distance_quantile
        self.schema = schema
        self.epsilon = epsilon
        self.delta = delta
        self.domain = domain
        self.random_state = random_state

    # -- fit --------------------------------------------------------------------------------
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
        from tabgen.pipelines._pii import FakeColumn, detect_pii

        frame = check_frame(X).reset_index(drop=True)
        self._check_params(frame)
        rng = check_random_state(self.random_state)
        self.columns_ = list(frame.columns)
        self.schema_ = Schema.detect(frame, overrides=self.schema)
        kinds = self.schema_.kinds

        # 1. holdout
        n_hold = self._holdout_rows(len(frame))
        order = rng.permutation(len(frame))
        self.holdout_ = frame.iloc[np.sort(order[:n_hold])].reset_index(drop=True)
        self.train_ = frame.iloc[np.sort(order[n_hold:])].reset_index(drop=True)

        # 2. PII and keys out of the model
        dp = self.epsilon is not None
        self.pii_columns_ = self._resolve_pii(frame, kinds, detect_pii)
        self._fakes = {}
        for col, kind in self.pii_columns_.items():
            if self.pii != "regenerate":
                break
            if dp:  # canonical formats only: nothing measured on the real values
                fake = FakeColumn(kind, min_count=len(self.train_) + 1).fit(self.train_[col])
                fake.facts_.update(
                    {k: 0.0 for k in ("missing_rate", "ipv6_share") if k in fake.facts_}
                )
            else:
                fake = FakeColumn(kind, min_count=max(int(self.rare_threshold), 1))
                fake.fit(self.train_[col])
            self._fakes[col] = fake
        self.model_columns_ = [c for c in frame.columns if c not in self.pii_columns_]
        if not self.model_columns_:
            raise ValueError("every column was treated as PII: there is nothing left to model")
        self.model_kinds_ = {c: kinds[c] for c in self.model_columns_}

        # 3. rare categories, 4. robust bounds (learned on training rows only)
        self._kept_categories = {}
        self.rare_merged_ = {}
        for col, kind in self.model_kinds_.items():
            if kind == "categorical" and self.rare_threshold > 1 and not dp:
                counts = self.train_[col].value_counts(dropna=True)
                rare = counts.index[counts < self.rare_threshold]
                if len(rare):
                    self._kept_categories[col] = set(counts.index[counts >= self.rare_threshold])
                    self.rare_merged_[col] = len(rare)
        self.bounds_ = {}
        if self.clip_outliers and not dp:
            for col, kind in self.model_kinds_.items():
                if kind in _NUMERIC_KINDS or kind == "datetime":
                    bounds = self._robust_bounds(self.train_[col], self.schema_[col], rng)
                    if bounds is not None:
                        self.bounds_[col] = bounds
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

        # the model
        self.synthesizer_ = self._make_synthesizer(rng).fit(train)

        # 5. the near-copy filter: distances in one fixed space fitted on the training rows
        self._space = _DistanceSpace().fit(train, self.model_kinds_, self.schema_)
        self._train_points = self._space.transform(train)
        hold_points = self._space.transform(self._protect(self.holdout_[self.model_columns_]))
        d_hold, _ = kneighbors(self._train_points, hold_points, 1)
        self.holdout_distances_ = d_hold[:, 0]
        q = self._quantile()
        if q is None:
            self.distance_threshold_ = 0.0
        else:
            self.distance_threshold_ = float(np.quantile(d_hold[:, 0], q))
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
            self,
            path,
            n,
            batch_size=batch_size,
            random_state=rng,
            on_batch=keep,
            overwrite=overwrite,
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

    def _sample_frame(self, n, conditions, random_state, *, id_offset: int = 0) -> pd.DataFrame:
        """Batch hook used by :func:`tabgen.io.sample_to_file`."""
        if conditions is not None:
            raise ValueError("the anonymizer does not take conditions")
        rng = self._rng if random_state is None else check_random_state(random_state)
        return self._generate(n, rng, offset=id_offset)

    def _generate(self, n: int, rng: np.random.Generator, offset: int) -> pd.DataFrame:
        parts, have, rejected = [], 0, 0
        for _ in range(_MAX_ROUNDS):
            want = n - have
            # ask for a little more than missing, so one extra round is usually enough
            m = want if not parts else max(int(want * 1.25), 16)
            rows = self._clip(self.synthesizer_.sample(m, random_state=spawn_seed(rng)))
            keep = self._keep_mask(rows)
            rejected += int((~keep).sum())
            rows = rows[keep].head(want)
            parts.append(rows)
            have += len(rows)
            if have >= n:
                break
        else:
            rate = rejected / max(rejected + have, 1)
            raise RuntimeError(
                f"the model keeps generating rows too close to training rows ({rate:.0%} "
                f"rejected after {_MAX_ROUNDS} rounds); train it less long or with more data"
            )
        out = pd.concat(parts, ignore_index=True)
        self.stats_["rows"] += n
        self.stats_["replaced"] += rejected
        if self.pii == "regenerate":
            for col in self.pii_columns_:
                out[col] = self._fakes[col].generate(n, rng, offset=offset).to_numpy()
            return out[self.columns_]
        return out[[c for c in self.columns_ if c in out.columns]]

    def _keep_mask(self, rows: pd.DataFrame) -> np.ndarray:
        if self.epsilon is not None:  # no look at the real rows after training
            return np.ones(len(rows), dtype=bool)
        points = self._space.transform(rows[self.model_columns_])
        dist, _ = kneighbors(self._train_points, points, 1)
        d = dist[:, 0]
        return (d > 0) & ~(d < self.distance_threshold_)

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
        from tabgen.metrics import evaluate

        self._check_fitted()
        missing = [c for c in self.model_columns_ if c not in synthetic.columns]
        if missing:
            raise ValueError(f"synthetic lacks the modelled column(s) {missing!r}")
        if n_attacks is None:
            n_attacks = min(len(self.holdout_), 5000)
        metadata = {c: _metric_kind(k) for c, k in self.model_kinds_.items() if k != "constant"}
        target = self.target if self.target in self.model_columns_ else None
        report = evaluate(
            self.train_[self.model_columns_],
            synthetic[self.model_columns_],
            self.holdout_[self.model_columns_],
            target,
            metadata=metadata,
            metrics=list(metrics) if target else [m for m in metrics if m != "utility"],
            random_state=random_state,
            attack_params={"n_attacks": int(n_attacks)},
        )
        report.config["anonymizer"] = self.safeguards()
        return report

    def safeguards(self) -> dict:
        """What the safeguards did, as a JSON-ready dict (also in the report)."""
        self._check_fitted()
        return {
            "synthesizer": type(self.synthesizer_).__name__,
            "rows_train": len(self.train_),
            "rows_holdout": len(self.holdout_),
            "pii_columns": {str(c): t for c, t in self.pii_columns_.items()},
            "pii_action": self.pii,
            "rare_threshold": int(self.rare_threshold),
            "rare_categories_merged": {str(c): n for c, n in self.rare_merged_.items()},
            "clipped_columns": sorted(str(c) for c in self.bounds_),
            "distance_quantile": self._quantile(),
            "distance_threshold": self.distance_threshold_,
            "differential_privacy": getattr(self.synthesizer_, "privacy_", None),
            "rows_generated": int(self.stats_["rows"]),
            "rows_replaced": int(self.stats_["replaced"]),
            "wording": self._wording(),
        }

    def _wording(self) -> str:
        if self.epsilon is None:
            return "measured risk from the attacks listed; not a proof of anonymity"
        p = self.synthesizer_.privacy_
        return (
            f"({p['epsilon']:.3g}, {p['delta']:.3g})-differentially private with respect to the "
            "training rows (what it covers: see differential_privacy.covers); the attack "
            "risks are measured on top of that guarantee, not a proof of anonymity"
        )

    def _quantile(self):
        q = self.distance_quantile
        if isinstance(q, str):  # "auto"
            return None if self.epsilon is not None else 0.05
        return q

    # -- safeguards -------------------------------------------------------------------------
    def _protect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rare categories merged and numbers clipped (training rows and holdout alike)."""
        out = frame.copy()
        for col, kept in self._kept_categories.items():
            out[col] = _merge_rare(out[col], kept)
        return self._clip(out)

    def _clip(self, frame: pd.DataFrame) -> pd.DataFrame:
        for col, (low, high) in self.bounds_.items():
            if col in frame.columns:
                frame[col] = _clip_column(frame[col], low, high, self.schema_[col])
        return frame

    @staticmethod
    def _robust_bounds(col: pd.Series, spec, rng: np.random.Generator):
        x = _as_float(col, spec.kind, spec.info.get("format"))
        ordered = np.sort(x[~np.isnan(x)])
        if len(ordered) == 0:
            return None
        if len(ordered) >= _MIN_BOUND_VALUES:
            k = int(rng.integers(5, 8))
        else:
            k = max(1, math.ceil(len(ordered) / 4))
        low, high = ordered[k - 1], ordered[len(ordered) - k]
        if spec.kind == "datetime":
            return pd.Timestamp(int(low)), pd.Timestamp(int(high))  # UTC, naive
        if spec.kind == "integer":
            return int(low), int(high)
        return float(low), float(high)

    # -- checks -----------------------------------------------------------------------------
    def _check_params(self, frame: pd.DataFrame) -> None:
        if len(frame) < MIN_ROWS:
            raise ValueError(
                f"the table has {len(frame)} rows; anonymization needs at least {MIN_ROWS} "
                "so that a holdout can be kept out to measure privacy against"
            )
        if self.pii not in _PII_MODES:
            raise ValueError(f"pii must be one of {_PII_MODES}, got {self.pii!r}")
        named = {"target": [self.target] if self.target is not None else []}
        named["pii_columns"] = list(self.pii_columns or [])
        named["keep_columns"] = list(self.keep_columns or [])
        named["schema"] = list(self.schema or {})
        named["domain"] = list(self.domain or {})
        for option, cols in named.items():
            unknown = [c for c in cols if c not in frame.columns]
            if unknown:
                raise ValueError(
                    f"{option} names column(s) {unknown!r} that are not in the data; "
                    f"columns are {list(frame.columns)!r}"
                )
        if (
            not isinstance(self.rare_threshold, numbers.Integral)
            or isinstance(self.rare_threshold, bool)
            or self.rare_threshold < 0
        ):
            raise ValueError(
                f"rare_threshold must be a non-negative integer, got {self.rare_threshold!r}"
            )
        q = self.distance_quantile
        if isinstance(q, str):
            if q != "auto":
                raise ValueError(f"distance_quantile must be 'auto', None or in [0, 1), got {q!r}")
        elif q is not None and (not isinstance(q, numbers.Real) or not 0 <= q < 1):
            raise ValueError(f"distance_quantile must be 'auto', None or in [0, 1), got {q!r}")
        if self.epsilon is not None:
            from tabgen.privacy import check_epsilon

            check_epsilon(self.epsilon)
            if q is not None and not isinstance(q, str):
                raise ValueError(
                    "distance_quantile filters synthetic rows by their distance to the real "
                    "rows, which breaks the differential-privacy guarantee; leave it 'auto' "
                    "(off in DP mode) when epsilon is set"
                )
        elif self.delta is not None or self.domain is not None:
            raise ValueError("delta and domain only apply with epsilon (DP mode)")

    def _holdout_rows(self, n: int) -> int:
        h = self.holdout
        if isinstance(h, numbers.Integral) and not isinstance(h, bool):
            rows = int(h)
        elif isinstance(h, numbers.Real) and 0 < h < 1:
            rows = round(n * float(h))
        else:
            raise ValueError(f"holdout must be a share in (0, 1) or a row count, got {h!r}")
        if rows < 10 or n - rows < 10:
            raise ValueError(
                f"holdout={h!r} leaves {rows} holdout and {n - rows} training rows out of {n}; "
                "both need at least 10"
            )
        return rows

    def _resolve_pii(self, frame, kinds, detect_pii) -> dict:
        found = dict(detect_pii(frame, kinds))
        extra = self.pii_columns or []
        if isinstance(extra, dict):
            found.update(extra)
        else:
            for col in extra:
                if col not in found:
                    found[col] = "free_text"
        for col in self.keep_columns or []:
            found.pop(col, None)
        if self.target is not None and self.target in found:
            raise ValueError(
                f"target column {self.target!r} looks like PII ({found[self.target]}); "
                "pass it in keep_columns to learn it anyway"
            )
        return {c: found[c] for c in frame.columns if c in found}

    def _make_synthesizer(self, rng):
        from tabgen.synthesizers.copula import GaussianCopulaSynthesizer
        from tabgen.synthesizers.vae import VAESynthesizer

        if self.synthesizer is not None:
            base = self.synthesizer
        else:
            base = GaussianCopulaSynthesizer() if self.epsilon is not None else VAESynthesizer()
        if not hasattr(base, "sample") or not hasattr(base, "fit"):
            raise TypeError(f"synthesizer must be a tabgen synthesizer, got {type(base).__name__}")
        model = clone(base)
        if self.epsilon is not None:
            from tabgen.privacy import check_dp_support

            check_dp_support(model)
            domain = {c: v for c, v in (self.domain or {}).items() if c in self.model_columns_}
            model.set_params(epsilon=self.epsilon, delta=self.delta, domain=domain or None)
        schema = {
            c: k
            for c, k in (model.get_params().get("schema") or {}).items()
            if c in self.model_columns_
        }
        for col in self._kept_categories:
            schema[col] = "categorical"
        return model.set_params(schema=schema or None, random_state=spawn_seed(rng) % 2**31)

    def _check_fitted(self) -> None:
        if not hasattr(self, "synthesizer_"):
            raise RuntimeError("this Anonymizer is not fitted yet; call fit(X) first")

    def _check_n(self, n) -> int:
        from tabgen.synthesizers.base import _check_n

        return _check_n(len(self.train_) + len(self.holdout_) if n is None else n)


# ---------------------------------------------------------------------------------------------
def _metric_kind(kind: str) -> str:
    if kind in _NUMERIC_KINDS:
        return "numerical"
    return "datetime" if kind == "datetime" else "categorical"


def _merge_rare(col: pd.Series, kept: set) -> pd.Series:
    rare = col.notna() & ~col.isin(kept)
    if not rare.any():
        return col
    if isinstance(col.dtype, pd.CategoricalDtype):
        if RARE_VALUE not in col.cat.categories:
            col = col.cat.add_categories([RARE_VALUE])
        col = col.mask(rare, RARE_VALUE)
        # the dtype's category list would still name the rare values: drop them from it too
        unused = [c for c in col.cat.categories if c not in kept and c != RARE_VALUE]
        return col.cat.remove_categories(unused)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        return col.mask(rare, RARE_VALUE)
    return col.astype(object).mask(rare, RARE_VALUE)


def _clip_column(col: pd.Series, low, high, spec) -> pd.Series:
    if spec.kind != "datetime":
        return col.clip(lower=low, upper=high)
    fmt = spec.info.get("format")
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        tz = getattr(col.dtype, "tz", None)
        if tz is not None:  # bounds are naive UTC
            low, high = (
                low.tz_localize("UTC").tz_convert(tz),
                high.tz_localize("UTC").tz_convert(tz),
            )
        return col.clip(lower=low, upper=high)
    parsed = pd.to_datetime(col, format=fmt, errors="coerce")
    clipped = parsed.clip(lower=low, upper=high)
    changed = parsed.notna() & (clipped != parsed)
    if not changed.any():
        return col
    text = clipped.dt.strftime(fmt) if fmt else clipped.astype(str)
    return col.mask(changed, text)


class _DistanceSpace:
    """A fixed numeric space for nearest-neighbour distances between rows.

    Numbers and dates are scaled by the training range, categories one-hot encoded with
    weight 1/sqrt(2) (a mismatch costs 1, like a full-range numeric difference), a missing
    value is an indicator of its own. Unlike :func:`tabgen.metrics._encode.encode`, it is
    fitted once and applied batch by batch.
    """

    def fit(self, frame: pd.DataFrame, kinds: dict, schema: Schema) -> _DistanceSpace:
        self.columns = []
        self.formats = {c: schema[c].info.get("format") for c in kinds}
        for col, kind in kinds.items():
            values = frame[col]
            if kind in _NUMERIC_KINDS or kind == "datetime":
                x = _as_float(values, kind, self.formats[col])
                present = x[~np.isnan(x)]
                low = float(present.min()) if len(present) else 0.0
                span = float(present.max() - low) if len(present) else 1.0
                self.columns.append((col, kind, (low, span if span > 0 else 1.0)))
            elif kind == "categorical":
                cats = pd.Index(values.dropna().unique())
                self.columns.append((col, kind, cats))
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for col, kind, info in self.columns:
            if kind == "categorical":
                codes = info.get_indexer(frame[col])
                onehot = np.zeros((len(frame), len(info) + 1))
                slot = np.where(codes >= 0, codes, len(info))
                onehot[np.arange(len(frame)), slot] = 1.0
                missing = frame[col].isna().to_numpy()
                onehot[missing, len(info)] = 1.0
                blocks.append(onehot / math.sqrt(2.0))
            else:
                low, span = info
                x = (_as_float(frame[col], kind, self.formats[col]) - low) / span
                miss = np.isnan(x)
                blocks.append(np.column_stack([np.where(miss, 0.0, x), miss.astype(float)]))
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


def _as_float(values: pd.Series, kind: str, fmt: str | None = None) -> np.ndarray:
    """Numbers as float; datetimes as UTC nanoseconds (float); missing as NaN."""
    if kind == "datetime":
        ts = pd.to_datetime(values, format=fmt, errors="coerce")
        if getattr(ts.dtype, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        out = ts.astype("datetime64[ns]").to_numpy().view("int64").astype(np.float64)
        out[ts.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
