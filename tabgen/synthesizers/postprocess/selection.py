"""Discriminator-guided selection of generated rows (sampling-importance-resampling).

A generator is not trained to score rows (a GAN's WGAN critic values are not density
ratios, and the PacGAN critic sees packs of rows). After training, a separate
row-level discriminator is fitted between the training rows and a pool of generated rows; its
odds ``d / (1 - d)`` estimate the density ratio ``p_real(x) / p_model(x)`` (Azadi et al., 2019,
"Discriminator Rejection Sampling"). Sampling then draws ``k`` candidates per wanted row and
keeps one of them with probability proportional to its ratio (capped at the pool's 99th
percentile, so that a few extreme ratios cannot take every row; the selection is shared
with the over-sampler: :mod:`tabgen.synthesizers.postprocess.density_ratio`). Rows the
model puts where the data has none are thus seldom kept, and under-produced regions are
kept more often.

The discriminator sees each row as the post-processors before it leave it (after snapping
and the categorical dependencies; the binary conditionals and the regeneration of personal
data come after the selection): numbers as their rank among the training values (the 101 stored
quantiles) plus a missing flag; categories one-hot (the 99 most frequent levels of a wide
column, the rest pooled). It is a small MLP, trained with early stopping on held-out rows.
A model that asks for it (``_selection_trees``: the diffusion model) gets a second stage on
tables of ``MIN_TREE_ROWS`` rows or more: boosted trees on the same features, fitted between
the training rows and the rows this selection returns with the MLP alone, whose log-odds are
added to the MLP's (:mod:`tabgen.synthesizers.postprocess.trees`).

:class:`DiscriminatorSelection` is this step as a post-processor of
:mod:`tabgen.synthesizers.postprocess` (any model can declare it; the GAN does by default).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from tabgen._progress import chunks
from tabgen.synthesizers.postprocess.density_ratio import pick_per_row

logger = logging.getLogger("tabgen")

#: One-hot width cap per categorical column (the most frequent levels, then "other").
MAX_LEVELS = 100
#: Rows of each side in the discriminator's training pools.
MAX_POOL = 50_000
#: Fewer training rows than this: no discriminator (it could not learn where rows live).
MIN_ROWS = 50
#: Candidates drawn per returned row (models without a parameter of their own for it).
DRAWS = 4
#: Rows selected per pass (each pass generates ``draws`` times as many candidates).
CHUNK = 50_000
#: Rows the discriminator scores per forward pass (bounded memory, cache-sized layers).
SCORE_ROWS = 16_384
#: Fewer training rows than this: no second stage of boosted trees (models that ask for it).
MIN_TREE_ROWS = 1_000
#: Most feature cells (rows x features, both sides) the trees are fitted on; wider tables
#: use fewer rows (scikit-learn's copies and bins peak at about 30 bytes a cell: 16 million
#: cells, about half a GB), and none where fewer than ``MIN_TREE_ROWS`` would remain.
MAX_TREE_CELLS = 16_000_000
_TREES_PREFIX = "discriminator.trees."


class RowFeatures:
    """Fixed featurisation of decoded rows for the discriminator.

    Parameters
    ----------
    numeric : dict
        ``{column: 101 training quantiles}``.
    categorical : dict
        ``{column: list of training levels by decreasing frequency}`` (missing values are a
        level of their own, stored as ``None``).
    """

    def __init__(self, numeric: dict, categorical: dict):
        self.numeric = {c: np.asarray(q, dtype="float64") for c, q in numeric.items()}
        self.categorical = {c: list(v)[: MAX_LEVELS - 1] for c, v in categorical.items()}
        self.width = 2 * len(self.numeric) + sum(len(v) + 1 for v in self.categorical.values())

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, numeric_quantiles: dict, categorical_columns):
        levels = {}
        for col in categorical_columns:
            counts = (
                frame[col].astype(object).where(frame[col].notna(), None).value_counts(dropna=False)
            )
            levels[col] = [None if pd.isna(v) else v for v in counts.index]
        return cls(numeric_quantiles, levels)

    @classmethod
    def for_model(cls, frame: pd.DataFrame, model) -> RowFeatures:
        """The features of ``model``'s rows: its stored quantiles where it has them (else
        those of ``frame``), the levels of its categorical columns in ``frame``."""
        quantiles = getattr(model, "quantiles_", None) or numeric_quantiles(frame, model.schema_)
        categorical = [s.name for s in model.schema_ if s.kind == "categorical"]
        return cls.from_frame(frame, quantiles, categorical)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(frame), self.width), dtype="float32")
        j = 0
        grid = np.linspace(-1.0, 1.0, 101)
        for col, q in self.numeric.items():
            x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64")
            nan = np.isnan(x)
            out[:, j] = np.where(nan, 0.0, np.interp(np.where(nan, q[0], x), q, grid))
            out[:, j + 1] = nan
            j += 2
        rows = np.arange(len(frame))
        for col, levels in self.categorical.items():
            out[rows, j + self.slots(col, frame[col])] = 1.0
            j += len(levels) + 1
        return out

    def block(self, col) -> slice:
        """The features of categorical column ``col`` (its one-hot block) in a row."""
        j = 2 * len(self.numeric)
        for name, levels in self.categorical.items():
            if name == col:
                return slice(j, j + len(levels) + 1)
            j += len(levels) + 1
        raise KeyError(col)

    def slots(self, col, values: pd.Series) -> np.ndarray:
        """Position of each value of categorical column ``col`` in its one-hot block (the
        last slot, "other", for levels beyond the kept ones)."""
        levels = self.categorical[col]
        other = len(levels)
        present = [v for v in levels if v is not None]
        missing = values.isna().to_numpy()
        codes = pd.Index(present, dtype=object).get_indexer(values.astype(object))
        # get_indexer numbers the non-missing levels in their own order: map back
        where = np.array([i for i, v in enumerate(levels) if v is not None], dtype="int64")
        codes = np.where(codes >= 0, where[np.maximum(codes, 0)] if len(where) else 0, other)
        codes[missing] = levels.index(None) if None in levels else other
        return codes

    def get_state(self) -> dict:
        from tabgen.schema import _json_scalar

        return {
            "numeric": [[c, q.tolist()] for c, q in self.numeric.items()],
            "categorical": [
                [c, [None if v is None else _json_scalar(v) for v in levels]]
                for c, levels in self.categorical.items()
            ],
        }

    @classmethod
    def from_state(cls, state: dict) -> RowFeatures:
        return cls({c: q for c, q in state["numeric"]}, {c: v for c, v in state["categorical"]})


class RowDiscriminator(nn.Module):
    """MLP giving the logit of "real" for one featurised row (no dropout: its masks would
    come from torch's global generator, and a refit must give the same rows)."""

    def __init__(self, in_dim: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def train_discriminator(
    real: np.ndarray,
    fake: np.ndarray,
    generator: torch.Generator,
    *,
    max_epochs: int = 30,
    batch_size: int = 512,
    lr: float = 1e-3,
    patience: int = 3,
) -> tuple[RowDiscriminator, dict]:
    """Fit a :class:`RowDiscriminator` on featurised real and generated rows.

    A tenth of each side is held out; training stops when the held-out log-loss has not
    improved for ``patience`` epochs, and the best weights are kept (a discriminator that
    memorised the training rows would favour generated rows close to them).
    """
    from tabgen.nn import build_module

    n_r, n_f = len(real), len(fake)
    perm_r = torch.randperm(n_r, generator=generator).numpy()
    perm_f = torch.randperm(n_f, generator=generator).numpy()
    hold_r, hold_f = max(1, n_r // 10), max(1, n_f // 10)
    X_tr = torch.from_numpy(np.vstack([real[perm_r[hold_r:]], fake[perm_f[hold_f:]]]))
    y_tr = torch.cat([torch.ones(n_r - hold_r), torch.zeros(n_f - hold_f)])
    X_va = torch.from_numpy(np.vstack([real[perm_r[:hold_r]], fake[perm_f[:hold_f]]]))
    y_va = torch.cat([torch.ones(hold_r), torch.zeros(hold_f)])
    # equal total weight for the two sides
    w_tr = torch.where(y_tr == 1, 0.5 / (n_r - hold_r), 0.5 / (n_f - hold_f)) * len(y_tr)
    w_va = torch.where(y_va == 1, 0.5 / hold_r, 0.5 / hold_f) * len(y_va)
    model = build_module(lambda: RowDiscriminator(real.shape[1]), generator)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")

    def held_out_loss() -> float:
        model.eval()
        with torch.no_grad():
            value = (loss_fn(model(X_va), y_va) * w_va).mean().item()
        model.train()
        return value

    best, best_state, bad, epochs = held_out_loss(), None, 0, 0
    for _ in range(max_epochs):
        order = torch.randperm(len(y_tr), generator=generator)
        for a in range(0, len(order), batch_size):
            idx = order[a : a + batch_size]
            loss = (loss_fn(model(X_tr[idx]), y_tr[idx]) * w_tr[idx]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epochs += 1
        value = held_out_loss()
        if value < best - 1e-4:
            best, bad = value, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval().requires_grad_(False)
    # the held-out loss against log 2 (a discriminator that cannot tell the sides apart)
    return model, {"epochs": epochs, "held_out_log_loss": float(best)}


class DiscriminatorSelection:
    """Post-processor: draw several candidates per row and keep one by the density ratio.

    ``fit`` trains a :class:`RowDiscriminator` between the training rows and as many rows
    generated by the model (after the post-processors fitted before it); :meth:`draw` then
    generates ``draws`` candidates per wanted row and keeps one with probability proportional
    to the discriminator's odds (:func:`.density_ratio.pick_per_row`). Its state is stored
    under the key ``"discriminator"`` of a model file (networks under ``discriminator.``).
    For a model with ``_selection_trees`` ``fit`` adds the second stage (``trees``, a
    :class:`~tabgen.synthesizers.postprocess.trees.BoostedTrees`, arrays under
    ``discriminator.trees.``; ``info["trees"]``: their number) whose log-odds
    :meth:`logits` adds to the MLP's for unconditional candidates.
    """

    name = "discriminator"

    def __init__(self, model=None, features=None, info=None, trees=None):
        self.model = model
        self.features = features
        self.info = dict(info or {})
        self.trees = trees  # the second stage (trees.BoostedTrees), or None

    def fit(self, real: pd.DataFrame, model, rng) -> DiscriminatorSelection | None:
        """Train on ``real`` (the training rows) against rows of ``model``; ``None`` when the
        table is too small or the model learnt nothing."""
        from tabgen._rng import torch_generator

        if len(real) < MIN_ROWS or not model._learns_rows():
            return None
        if len(real) > MAX_POOL:
            real = real.iloc[rng.choice(len(real), MAX_POOL, replace=False)]
        # the model's own (inner) rows, as ``real`` is and as candidates are scored: with
        # ``constraints``, the rows after the rules' inverse transform have other columns
        fake = model._sample_rows(len(real), None, rng, id_offset=0)
        self.features = RowFeatures.for_model(real, model)
        if getattr(model, "verbose", False):
            logger.info(
                "training the row discriminator on %d real and %d generated rows",
                len(real),
                len(fake),
            )
        self.trees = None  # a refit starts without the previous fit's trees
        X_real = self.features.transform(real)
        self.model, self.info = train_discriminator(
            X_real, self.features.transform(fake), torch_generator(rng, "cpu")
        )
        if getattr(model, "verbose", False):
            logger.info("row discriminator: %s", self.info)
        if getattr(model, "_selection_trees", False) and len(real) >= MIN_TREE_ROWS:
            self._fit_trees(X_real, model, rng)
        return self

    def _fit_trees(self, X_real: np.ndarray, model, rng) -> None:
        """The second stage (:mod:`.trees`): boosted trees between the training rows and the
        model's rows as this selection returns them (the MLP's odds alone)."""
        from tabgen.synthesizers.postprocess.trees import BoostedTrees

        rows = MAX_TREE_CELLS // (2 * max(1, X_real.shape[1]))  # bounded memory
        if rows < MIN_TREE_ROWS:  # too wide a table for enough rows: the MLP alone
            return
        if len(X_real) > rows:  # a wide table: a random share of the training rows
            X_real = X_real[np.sort(rng.choice(len(X_real), rows, replace=False))]
        saved = list(model.postprocessors_)
        # drawn as sample() draws (the model's candidates and sampler), by this MLP alone
        model.postprocessors_[:] = [s for s in saved if s.name != self.name] + [self]
        try:
            kept = model._sample_rows(len(X_real), None, rng, id_offset=0)
        finally:
            model.postprocessors_[:] = saved
        seed = int(rng.integers(0, 2**31 - 1))
        try:
            self.trees = BoostedTrees.fit(X_real, self.features.transform(kept), seed)
        except MemoryError:
            logger.warning("selection: no memory for the boosted trees; the MLP alone is used")
        if self.trees is not None:
            self.info["trees"] = self.trees.n_trees
            if getattr(model, "verbose", False):
                logger.info("selection trees: %d (depth %d)", self.trees.n_trees, self.trees.depth)

    def apply(self, frame: pd.DataFrame, conditions=None) -> pd.DataFrame:
        return frame  # selection happens while drawing (see draw)

    def score(self, frame: pd.DataFrame, trees: bool = True) -> np.ndarray:
        """Logit of "real" of each decoded row (float64; ``trees=False``: the MLP's alone)."""
        return self.logits(self.features.transform(frame), trees=trees)

    def logits(self, X: np.ndarray, low_precision: bool = False, trees: bool = True) -> np.ndarray:
        """Logit of "real" of each featurised row (float64), in slices of bounded memory.

        ``low_precision``: the hidden layers in bfloat16 (float32 accumulation), the last
        one in float32 (for processors that multiply bfloat16 natively). ``trees``: with
        the second stage's log-odds where there is one.
        """
        out = np.empty(len(X), dtype="float64")
        forward = self._forward_low if low_precision else self.model
        with torch.no_grad():
            for a in range(0, len(X), SCORE_ROWS):
                out[a : a + SCORE_ROWS] = forward(torch.from_numpy(X[a : a + SCORE_ROWS]))
        if trees and self.trees is not None:  # the second stage's log-odds (float64)
            out += self.trees.decision(X)
        return out

    def _forward_low(self, x: torch.Tensor) -> torch.Tensor:
        last = self.model.net[-1]
        h = x.to(torch.bfloat16)
        for weight, bias in self._low_weights():
            h = F.leaky_relu(F.linear(h, weight, bias), 0.2)
        return F.linear(h.float(), last.weight, last.bias).squeeze(-1)

    def _low_weights(self) -> list:
        """bfloat16 copies of the hidden layers (cached, for the current weights)."""
        first, _, second, _, _ = self.model.net
        key = tuple(p.data_ptr() for p in self.model.parameters())
        cached = getattr(self, "_low", None)
        if cached is None or cached[0] != key:
            low = torch.bfloat16
            weights = [(layer.weight.to(low), layer.bias.to(low)) for layer in (first, second)]
            cached = self._low = (key, weights)  # one assignment: safe to read from threads
        return cached[1]

    def prepare(self, model, low_precision: bool = False) -> None:
        """Build what :meth:`score_encoded` caches, so that threads can then call it."""
        self._plan(model)
        if low_precision:
            self._low_weights()

    def score_encoded(self, model, Z: np.ndarray, low_precision: bool = False) -> np.ndarray:
        """Logit of "real" of each encoded row of ``model`` (what ``_sample`` returns), as
        :meth:`score` gives for the rows decoded and post-processed, without decoding them
        (:class:`~tabgen.synthesizers.postprocess.encoded.EncodedFeatures`) when it can;
        ``low_precision`` as in :meth:`logits`."""
        plan = self._plan(model)
        if plan is None:
            frame = model._after_decode(model._decode(Z, 0), None, before=self.name)
            return self.logits(self.features.transform(frame), low_precision)
        out = np.empty(len(Z), dtype="float64")
        for a in range(0, len(Z), SCORE_ROWS):  # slices that stay in cache
            X = plan(model._encoder_units(Z[a : a + SCORE_ROWS]))
            out[a : a + SCORE_ROWS] = self.logits(X, low_precision)
        return out

    def _plan(self, model):
        """The encoded featurisation for ``model``'s encoder and post-processors (cached)."""
        from tabgen.synthesizers.postprocess.encoded import EncodedFeatures

        steps = tuple(model._steps_before(self.name))
        key = (id(model.encoder_), tuple(id(step) for step in steps))
        cached = getattr(self, "_plan_cache", None)
        if cached is None or cached[0] != key:
            plan = EncodedFeatures.compile(self.features, model.encoder_, steps)
            cached = self._plan_cache = (key, plan)  # one assignment: safe to read from threads
        return cached[1]

    def draw(
        self, model, n: int, conditions, rng, draws: int = DRAWS, low_precision: bool = False
    ) -> np.ndarray:
        """Encoded matrix of ``n`` rows of ``model``, each the pick among ``draws``
        candidates (``conditions``: a :class:`~tabgen.synthesizers.base.Conditions` of
        ``n`` rows, or ``None``; ``low_precision``: unconditional candidates scored as in
        :meth:`logits`)."""
        if draws < 2 or n == 0:
            return model._sample(n, conditions, rng)
        parts = []
        for a in chunks(n, CHUNK):  # bounded memory: draws x chunk rows at a time
            m = min(CHUNK, n - a)
            if conditions is None:
                Z = model._sample(draws * m, None, rng)
                logits = self.score_encoded(model, Z, low_precision)
            else:  # conditioned cells are left alone by the post-processors: decode
                cond = conditions.take(np.tile(np.arange(a, a + m), draws))
                Z = model._sample(draws * m, cond, rng)
                frame = model._after_decode(model._decode(Z, 0), cond.frame, before=self.name)
                # the MLP's ratio alone: the trees learnt what unconditional rows lack
                logits = self.score(frame, trees=False)
            parts.append(Z[pick_per_row(logits, draws, rng.random(m))])
        return np.concatenate(parts)

    def get_state(self) -> tuple[dict, dict]:
        state = {"features": self.features.get_state(), "info": self.info}
        from tabgen.nn import weight_arrays

        arrays = weight_arrays(self.model, "discriminator.")
        if self.trees is not None:
            state["trees"], extra = self.trees.get_state(_TREES_PREFIX)
            arrays.update(extra)
        return state, arrays

    @classmethod
    def from_state(cls, state: dict, arrays: dict) -> DiscriminatorSelection:
        from tabgen.nn import build_module, load_weights

        features = RowFeatures.from_state(state["features"])
        model = build_module(lambda: RowDiscriminator(features.width))
        weights = {k: v for k, v in arrays.items() if not k.startswith(_TREES_PREFIX)}
        trees = None
        if state.get("trees") is not None:  # files before the second stage have none
            from tabgen.synthesizers.postprocess.trees import BoostedTrees

            trees = BoostedTrees.from_state(state["trees"], arrays, _TREES_PREFIX, features.width)
        return cls(load_weights(model, weights, "discriminator."), features, state["info"], trees)


def numeric_quantiles(frame: pd.DataFrame, schema) -> dict:
    """101 quantiles of every numeric column of ``frame`` with observed values."""
    out = {}
    for spec in schema:
        if spec.kind in ("numerical", "integer") and spec.name in frame.columns:
            x = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype="float64")
            x = x[~np.isnan(x)]
            if len(x):
                out[spec.name] = np.quantile(x, np.linspace(0, 1, 101)).tolist()
    return out
