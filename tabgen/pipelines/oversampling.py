"""Generative minority over-sampling with imbalanced-learn's ``fit_resample`` contract."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from tabgen._params import store_params
from tabgen._progress import pass_verbose
from tabgen._rng import check_random_state
from tabgen._tags import table_input_tags
from tabgen._validation import schema_kinds
from tabgen.pipelines._presets import preset_synthesizer, without_selection
from tabgen.pipelines._strategy import target_counts
from tabgen.schema import ARROW_ATTR, check_frame, is_table, restore_arrow

logger = logging.getLogger("tabgen")

_TARGET = "__tabgen_target__"

#: Classes with fewer real rows than this are sampled without density-ratio selection: a
#: discriminator cannot learn where a class lives from a handful of rows.
_MIN_SELECTION_ROWS = 20


#: At most this many rows of the other classes train the class-posterior model.
_MAX_OTHER_ROWS = 50_000


def _discriminator(categorical_mask, rng):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=categorical_mask,
        early_stopping=False,
        random_state=int(rng.integers(0, 2**31 - 1)),
    )


def _balanced_odds(positive, negative, queries, categorical_mask, rng) -> np.ndarray:
    """Odds ``d / (1 - d)`` on ``queries`` of a classifier of ``positive`` against
    ``negative`` rows, the two weighted to equal total mass: an estimate of the ratio of the
    two sets' densities."""
    from tabgen.synthesizers.postprocess.density_ratio import balanced_weights

    X = np.vstack([positive, negative])
    t = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    w = balanced_weights(t == 1)
    clf = _discriminator(categorical_mask, rng).fit(X, t, sample_weight=w)
    d = np.clip(clf.predict_proba(queries)[:, 1], 1e-6, 1 - 1e-6)
    return d / (1 - d)


def _density_ratio_pick(real, draws, n, rng, *, others=None, purity=0.0):
    """Indices of ``n`` of ``draws`` (rows generated for one class), and a summary.

    Each draw gets the weight ``r(x) * q(x) ** purity``:

    * ``r(x) = p_real(x | class) / p_synth(x | class)``, the odds of a gradient-boosting
      discriminator between the class's real rows and the draws (balanced by sample weights).
      Each half of the draws is scored by a discriminator trained on the other half, so no
      draw is judged by a model that saw it. Capped at its 99th percentile, so that a few
      extreme odds cannot take every slot. Picking with these weights is discriminator
      rejection sampling: it moves the kept rows towards the class's real distribution;
    * ``q(x) = p(x | class) / (p(x | class) + p(x | other classes))``, the prior-free class
      posterior of a second discriminator trained on real rows only (``others``: the real
      rows of the other classes). With ``purity > 0`` draws where the real data says the
      class is rare count less: a synthetic row of the class placed amid the other classes
      teaches a classifier to call those rows by this class.

    The ``n`` rows are drawn without replacement with probability proportional to the weight
    (Efraimidis-Spirakis keys); the cap and the draw are the shared density-ratio selection
    (:mod:`tabgen.synthesizers.postprocess.density_ratio`).
    """
    from tabgen.metrics._columns import resolve_kinds
    from tabgen.metrics._encode import encode
    from tabgen.synthesizers.postprocess.density_ratio import cap, pick_without_replacement

    kinds = resolve_kinds(real)  # numbers and datetimes as numbers, the rest as categories
    use_others = purity > 0 and others is not None and len(others) > 0
    if use_others and len(others) > _MAX_OTHER_ROWS:
        others = others.iloc[rng.choice(len(others), _MAX_OTHER_ROWS, replace=False)]
    frames = [real, draws] + ([others] if use_others else [])
    enc = encode(frames, kinds, categorical="ordinal", nan="keep")
    A_real, A_draw = enc.arrays[:2]
    mask = enc.categorical_mask
    half = rng.permutation(len(draws)) % 2 == 0
    ratio = np.empty(len(draws))
    for part in (half, ~half):
        ratio[part] = _balanced_odds(A_real, A_draw[~part], A_draw[part], mask, rng)
    log_weight = np.log(cap(ratio))
    if use_others:
        odds = _balanced_odds(A_real, enc.arrays[2], A_draw, mask, rng)
        log_weight += purity * np.log(odds / (1 + odds))
    keep, ess = pick_without_replacement(log_weight, n, rng)
    if ess < 0.5 * n:
        logger.warning(
            "density-ratio selection: the weights of the %d draws amount to about %d "
            "effective rows, and %d are kept; a larger oversample_factor or a stronger "
            "synthesizer would keep fewer unlike rows",
            len(draws),
            int(ess),
            n,
        )
    info = {"drawn": len(draws), "kept": int(n), "effective_sample_size": ess}
    return keep, info


def _inpaint_conditions(real: pd.DataFrame, n: int, share: float, rng) -> pd.DataFrame:
    """``n`` condition rows for inpainted draws: real rows of the class taken in turn (each
    round in a new random order), each cell set free (NaN) with probability ``share``, at
    least one cell per row."""
    m = len(real)
    if real.shape[1] == 0:  # nothing the model can condition on: whole-row draws
        return pd.DataFrame(index=pd.RangeIndex(n))
    order = np.concatenate([rng.permutation(m) for _ in range(-(-n // m))])[:n]
    anchors = real.iloc[order].reset_index(drop=True)
    free = rng.uniform(size=anchors.shape) < share
    none = ~free.any(axis=1)
    free[none, rng.integers(0, anchors.shape[1], int(none.sum()))] = True
    return anchors.mask(free)


def _as_caller_y(labels: pd.Series, kind: str, name, dtype):
    """The resampled labels as the caller passed ``y``: a Series (name and dtype kept), a
    one-column DataFrame, or an array of the input's dtype."""
    if kind == "series":
        return labels.rename(name)
    if kind == "frame":
        return labels.to_frame(name=name)
    return labels.to_numpy(dtype=dtype)


class SyntheticOverSampler(BaseEstimator):
    """Grow minority classes with rows from a class-conditional generative model.

    One synthesizer is trained on all rows (features and class together), so minority classes
    borrow strength from the majority; each class is then sampled with the synthesizer's
    native, exact class-conditional sampling. With ``generation="inpaint"`` (the default for
    models that inpaint natively: diffusion, VAE, copula) each synthetic row starts from a
    real row of its class, a random share of whose cells the model regenerates conditioned
    on the class and on the cells kept. Original rows come first, synthetic rows after them,
    as imbalanced-learn's over-samplers do; ``synthetic_mask_`` marks the new ones.

    Parameters
    ----------
    synthesizer : BaseSynthesizer, optional
        An unfitted tabgen synthesizer (cloned before use). Default: ``DiffusionSynthesizer()``,
        the best of tabgen's models on the rebalancing benchmark (``benchmarks/RESULTS.md``).
        It takes minutes on a CPU (timings in ``benchmarks/RESULTS.md``);
        ``GaussianCopulaSynthesizer()`` takes seconds and is weaker.
    preset : {"fast", "best"}, optional
        A named model instead of ``synthesizer``: ``"fast"`` is the Gaussian copula
        (seconds), ``"best"`` the diffusion model (the default, the rebalancing benchmark's
        winner). ``preset`` and ``synthesizer`` exclude each other.
    sampling_strategy : float, str, dict or callable, default="auto"
        As in imbalanced-learn: a float is the desired minority/majority ratio (binary only);
        ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``, ``"auto"`` choose
        the classes grown to the majority's size; a dict gives the desired row count per class;
        a callable maps ``y`` to such a dict. Shrinking a class is an error.
    min_class_rows : int, default=2
        Classes to grow must have at least this many rows.
    generation : {"auto", "inpaint", "conditional"}, default="auto"
        How candidate rows of a class are drawn. ``"conditional"``: from the model's
        distribution of the whole row given the class. ``"inpaint"``: each draw starts from a
        real row of the class (the class's rows taken in turn, in a random order), each of
        its feature cells is freed with probability ``inpaint_share`` (at least one per row)
        and the model fills the freed cells conditioned on the class and on the cells kept.
        Draws then stay near the class's real rows, as SMOTE's do, while every regenerated
        value comes from the model's conditional distribution rather than from a straight
        line between two rows. This matters for rare classes, whose whole-row conditional
        draws the model (trained mostly on other classes) tends to place where other classes
        live: on the benchmark's covertype, conditional draws lost to no resampling and
        inpainted ones beat both (``benchmarks/RESULTS.md``).
        ``"auto"``: ``"inpaint"``
        when the synthesizer inpaints natively (diffusion, VAE, copula), else
        ``"conditional"`` (GAN).
    inpaint_share : float, default=0.3
        Probability that a feature cell of the real starting row is regenerated
        (``generation="inpaint"``), in (0, 1]. 1 frees every cell: conditional draws.
    selection : {"density-ratio", None}, default="density-ratio"
        How the synthetic rows of a class are chosen. ``None`` keeps the synthesizer's draws
        as they come. ``"density-ratio"`` draws ``oversample_factor`` times the rows needed,
        trains a gradient-boosting discriminator between the class's real rows and those draws
        (two-fold cross-fitting, so no draw is scored by a model that saw it), and keeps the
        requested number by weighted sampling without replacement, each draw weighted by the
        estimated density ratio ``p_real(x | class) / p_synth(x | class)`` (discriminator
        rejection sampling), times the real data's class posterior to the power ``purity``.
        Draws that land where the class has no real rows, or where the other classes
        dominate, are then rarely kept. Classes with fewer than 20 real rows skip it.
    oversample_factor : float, default=3.0
        Candidate draws per kept row for ``selection="density-ratio"`` (at least 1.5).
    purity : float, default=2.0
        Exponent of the class posterior ``p(x | c) / (p(x | c) + p(x | other classes))``
        (estimated on the real rows, priors removed) in the selection weight. 0 aims at the
        class's own distribution; larger values prefer draws where the real rows of the class
        dominate, as SMOTE's interpolation between same-class neighbours does. Balancing a
        classifier with rows spread over regions the other classes share mostly adds false
        positives; the default 2 is the benchmark's choice (``benchmarks/RESULTS.md``).
    random_state : None, int or numpy.random.Generator
        Seed of the resampling: the synthesizer's fit (its own ``random_state`` is set
        from it) and the draws of the added rows.
    verbose : bool, default=False
        Show progress bars on stderr (the synthesizer's training); ``False`` prints nothing
        of its own and leaves the synthesizer's ``verbose`` as set.

    Attributes
    ----------
    synthesizer_ : BaseSynthesizer
        The fitted synthesizer.
    sampling_strategy_ : dict
        Rows generated per class.
    synthetic_mask_ : ndarray of bool
        For the last ``fit_resample`` output, which rows are synthetic.
    generation_ : str
        ``"inpaint"`` or ``"conditional"``: how the candidate rows were drawn.
    selection_ : dict
        Per class that went through density-ratio selection: rows drawn, rows kept and the
        effective sample size of the weights (low values mean few draws looked real).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(["a", "b"], 120)})
    >>> y = np.where(X["x"] > 1.0, "rare", "common")
    >>> from tabgen.synthesizers import GaussianCopulaSynthesizer  # seconds, for the example
    >>> sampler = SyntheticOverSampler(synthesizer=GaussianCopulaSynthesizer(), random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> pd.Series(y_res).value_counts().to_dict() == {"common": int((y == "common").sum()),
    ...                                               "rare": int((y == "common").sum())}
    True
    """

    def __init__(
        self,
        *,
        synthesizer=None,
        preset=None,
        sampling_strategy="auto",
        min_class_rows: int = 2,
        generation="auto",
        inpaint_share: float = 0.3,
        selection="density-ratio",
        oversample_factor: float = 3.0,
        purity: float = 2.0,
        random_state=None,
        verbose: bool = False,
    ):
        store_params(self, locals())

    #: imbalanced-learn's estimator type (``imblearn.base.is_sampler``, older scikit-learn).
    _estimator_type = "sampler"

    def __sklearn_tags__(self):
        """A sampler's tags, imbalanced-learn's own when it is installed (its checks and
        pipeline read them); tables with missing cells, categories and strings."""
        try:
            from imblearn.base import BaseSampler
        except ImportError:  # optional dependency: scikit-learn's tags, same content
            tags = super().__sklearn_tags__()
            tags.estimator_type = "sampler"
            tags.target_tags.required = True
        else:
            tags = BaseSampler.__sklearn_tags__(self)
        table_input_tags(tags.input_tags)
        # the default diffusion model runs on an accelerator when there is one
        tags.non_deterministic = self.synthesizer is None or bool(
            get_tags(self.synthesizer).non_deterministic
        )
        return tags

    def fit(self, X, y):
        """Check inputs and fit the synthesizer; returns ``self`` (imbalanced-learn API)."""
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X, y):
        """Return ``(X_resampled, y_resampled)``: the input rows, then synthetic rows.

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            Features of any kind; missing cells allowed.
        y : pandas.Series or array-like
            Class labels, no missing values.

        Returns
        -------
        X_resampled, y_resampled
            Same types as the inputs (DataFrame/Series or arrays).
        """
        frame, is_array = self._check_X(X)
        labels, y_type = self._check_y(y, len(frame))
        self._check_selection()
        rng = check_random_state(self.random_state)
        self.sampling_strategy_ = target_counts(self.sampling_strategy, labels)
        counts = Counter(labels.tolist())
        small = {c: counts[c] for c in self.sampling_strategy_ if counts[c] < self.min_class_rows}
        if small:
            raise ValueError(
                f"class(es) {small!r} have fewer than min_class_rows={self.min_class_rows} rows; "
                "a generative model cannot learn a class from so few examples"
            )
        target = _TARGET if _TARGET not in frame.columns else _TARGET + "_"
        joint = frame.assign(**{target: labels})
        model = self._make_synthesizer(target, rng)
        self.generation_ = self._resolve_generation(model)  # fail before a long fit
        self.synthesizer_ = model.fit(joint)
        parts_X, parts_y = [frame], [labels]
        self.selection_ = {}
        for cls, n in self.sampling_strategy_.items():
            real = frame[(labels == cls).to_numpy()]
            filtered = self.selection == "density-ratio" and len(real) >= _MIN_SELECTION_ROWS
            n_draw = int(np.ceil(self.oversample_factor * n)) if filtered else n
            logger.info("generating %d rows of class %r", n_draw, cls)
            if self.generation_ == "inpaint":
                # columns a model cannot condition on (constant, id, datetime) stay free
                keep = [c for c in real.columns if self.synthesizer_.can_condition_on(c)]
                conditions = _inpaint_conditions(real[keep], n_draw, self.inpaint_share, rng)
                conditions[target] = pd.Series([cls] * n_draw, dtype=joint[target].dtype)
            else:
                conditions = {target: cls}
            rows = self.synthesizer_.sample(n_draw, conditions=conditions, random_state=rng)
            rows = rows.drop(columns=[target]).reset_index(drop=True)
            if filtered:
                others = frame[(labels != cls).to_numpy()]
                keep, info = _density_ratio_pick(
                    real, rows, n, rng, others=others, purity=self.purity
                )
                rows = rows.iloc[keep].reset_index(drop=True)
                self.selection_[cls] = info
            parts_X.append(rows)
            parts_y.append(pd.Series([cls] * n, dtype=labels.dtype))
        X_res = restore_arrow(
            pd.concat(parts_X, ignore_index=True), frame.attrs.get(ARROW_ATTR, {})
        )
        y_res = pd.concat(parts_y, ignore_index=True)
        self.synthetic_mask_ = np.r_[
            np.zeros(len(frame), dtype=bool), np.ones(len(X_res) - len(frame), dtype=bool)
        ]
        self.n_features_in_ = frame.shape[1]
        if is_table(X):
            self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        y_res = _as_caller_y(y_res, *y_type)
        if isinstance(y, list):
            y_res = y_res.tolist()
        if isinstance(X, list):  # array-likes come back as they came, as in imbalanced-learn
            return X_res.to_numpy(dtype=np.asarray(X).dtype).tolist(), y_res
        if is_array:
            return X_res.to_numpy(dtype=np.asarray(X).dtype), y_res
        return X_res, y_res

    def get_feature_names_out(self, input_features=None):
        """Output column names: the input's (resampling keeps the columns).

        Parameters
        ----------
        input_features : array-like of str, optional
            Names to use for array input (one per column seen in ``fit_resample``).

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "n_features_in_")
        fitted = getattr(self, "feature_names_in_", None)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
            if fitted is not None and not np.array_equal(input_features, fitted):
                raise ValueError("input_features is not equal to feature_names_in_")
            return input_features
        if fitted is not None:
            return fitted.copy()
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    # -- helpers ----------------------------------------------------------------------------
    def _resolve_generation(self, synthesizer) -> str:
        native = synthesizer.capabilities.inpainting
        if self.generation == "auto":
            return "inpaint" if native else "conditional"
        if self.generation == "inpaint" and not native:
            raise ValueError(
                f"generation='inpaint' needs a synthesizer that inpaints natively; "
                f"{type(synthesizer).__name__} does not (use 'conditional' or 'auto')"
            )
        return self.generation

    def _check_selection(self):
        if self.generation not in ("auto", "inpaint", "conditional"):
            raise ValueError(
                f"generation must be 'auto', 'inpaint' or 'conditional', got {self.generation!r}"
            )
        share = self.inpaint_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise ValueError(f"inpaint_share must be a number in (0, 1], got {share!r}")
        if self.selection not in ("density-ratio", None):
            raise ValueError(f"selection must be 'density-ratio' or None, got {self.selection!r}")
        factor = self.oversample_factor
        if not isinstance(factor, (int, float)) or not np.isfinite(factor) or factor < 1.5:
            raise ValueError(f"oversample_factor must be a number >= 1.5, got {factor!r}")
        purity = self.purity
        if not isinstance(purity, (int, float)) or not np.isfinite(purity) or purity < 0:
            raise ValueError(f"purity must be a number >= 0, got {purity!r}")

    def _make_synthesizer(self, target, rng):
        from tabgen.synthesizers.diffusion import DiffusionSynthesizer

        base = preset_synthesizer("SyntheticOverSampler", self.preset, self.synthesizer)
        base = base if base is not None else DiffusionSynthesizer()
        if not hasattr(base, "sample") or not hasattr(base, "fit"):
            raise TypeError(f"synthesizer must be a tabgen synthesizer, got {type(base).__name__}")
        model = clone(base)
        if self.synthesizer is None:  # the pipeline's own choice: its own pick, no selection
            without_selection(model)
        schema = dict(schema_kinds(model.get_params().get("schema")) or {})
        schema[target] = "categorical"
        seed = int(rng.integers(0, 2**31 - 1))
        pass_verbose(model, self.verbose)
        return model.set_params(schema=schema, random_state=seed)

    @staticmethod
    def _check_X(X):
        is_array = isinstance(X, np.ndarray)
        frame = check_frame(X)
        return frame.reset_index(drop=True), is_array

    @staticmethod
    def _check_y(y, n):
        """``y`` as a Series (its dtype kept) checked as imbalanced-learn checks it: class
        labels (binary or multiclass), one per row, none missing; and how to return it."""
        from sklearn.utils.multiclass import type_of_target

        if y is None:
            raise ValueError(
                "SyntheticOverSampler requires y to be passed, but the target y is None"
            )
        kind = "array"
        if isinstance(y, pd.DataFrame):
            if y.shape[1] != 1:
                raise ValueError(
                    f"y must be one column of class labels, got a DataFrame with {y.shape[1]} "
                    f"columns {list(y.columns)!r}"
                )
            kind, y = "frame", y.iloc[:, 0]
        if isinstance(y, pd.Series):
            kind = "series" if kind == "array" else kind
            labels = y.reset_index(drop=True)
        else:
            arr = np.asarray(y)
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim != 1:
                raise ValueError(f"y must be 1-dimensional class labels, got shape {arr.shape}")
            labels = pd.Series(arr)
        if len(labels) != n:
            raise ValueError(f"y has {len(labels)} labels but X has {n} rows")
        if labels.isna().any():
            first = int(np.flatnonzero(labels.isna().to_numpy())[0])
            raise ValueError(f"y has missing labels (first at position {first}); drop or fill them")
        codes = labels.cat.codes if isinstance(labels.dtype, pd.CategoricalDtype) else labels
        target = type_of_target(codes, input_name="y")
        if target not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: y is {target!r} (e.g. {labels.iloc[0]!r}); "
                "over-sampling needs class labels (binary or multiclass), not continuous "
                "values or several outputs"
            )
        return labels, (kind, y.name if kind != "array" else None, np.asarray(y).dtype)
