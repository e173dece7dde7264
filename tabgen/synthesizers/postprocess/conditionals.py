"""Two-level columns drawn again from boosted conditionals ("conditionals").

The diffusion model learns the probability of a two-level column given the rest of the row
about as well as an MLP classifier does, which is smoother than what boosted trees find in
the same rows: on Adult, a gradient-boosting classifier trained on the synthetic rows ranks
the real test rows' income with AUC .910, against .927 trained on the real rows; the
synthetic *features* are as good as the real ones for that task, the loss is in
``P(income | rest)`` (``benchmarks/RESULTS.md``, diffusion MLE). So after the candidate
selection (before the regeneration of personal data), each two-level categorical column of
an unconditional row is drawn again,
in the order of the schema, from ``P(level | the row's other cells)`` estimated by
gradient-boosted trees (:mod:`~tabgen.synthesizers.postprocess.trees`) fitted on the
training rows. One step of a Gibbs sampler: where the trees' conditional is the data's, the
step leaves the data's distribution as it is and moves the model's toward it.

A column is drawn again only where the trees are the better conditional: on a fifth of the
training rows held out, trees fitted on the other training rows must predict the column
with a lower log-loss than the same trees fitted on the model's own rows (the conditional
that an analyst would learn from the synthetic table). Where the model's conditional is
already as sharp (magic, whose ten smooth numbers an MLP captures well: .297 against .300),
the column keeps the model's cells; a column the other cells do not predict at all is left
alone too.

Only two-level columns: the trees' conditionals of many-level columns (one tree per level
and round, early stopping after 10 to 90 rounds) were smoother than the model's own, and
drawing every categorical column of Adult again cost .066 of detection (.976 to .910; the
RESULTS section, ``benchmarks/diagnose_conditionals.py``).
Rows sampled with conditions are left alone (their cells follow the model's conditional,
and the pipelines' figures stay as measured), as are columns with missing training cells,
columns of the category dependencies (their dependants would no longer follow them) and
columns beyond the first ``MAX_COLUMNS`` eligible ones (each costs up to three fits of
trees and one pass of them over every sampled row).

The trees see the rows as the candidate selection's discriminator does (numbers as their
rank among stored quantiles, categories one-hot:
:class:`~tabgen.synthesizers.postprocess.selection.RowFeatures`), the column's own block
held at zero; their draws are seeded from those features of the rows (never from ids), so a
seeded ``sample`` gives the same rows every time, whatever its ``id_offset``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger("tabgen")

#: Fewer training rows than this: no conditionals (on small tables, trees trained on the
#: rows move the released ones toward them: see the selection's MIN_TREE_ROWS).
MIN_ROWS = 1_000
#: Fewest training rows of each level of a column drawn again.
MIN_LEVEL_ROWS = 20
#: Most training rows the trees of one column are fitted on (a random share beyond).
MAX_ROWS = 50_000
#: Most feature cells (rows x features) of the training rows' matrix; wider tables use fewer
#: rows (as the selection's trees: MAX_TREE_CELLS), none where under ``MIN_ROWS`` remain.
MAX_CELLS = 8_000_000
#: Most columns checked (the first eligible ones in the schema's order).
MAX_COLUMNS = 32
#: Rows drawn again per block (bounded memory: block x features at a time).
BLOCK = 65_536
#: Most rows of each side (training, model) in the held-out check of a column.
COMPARE_ROWS = 10_000
_PREFIX = "conditionals."


class BinaryConditionals:
    """Post-processor: two-level columns drawn from boosted trees' conditionals (module
    docstring); stored under the key ``"conditionals"``.

    Parameters
    ----------
    features : RowFeatures, optional
        The featurisation of a row.
    columns : list, optional
        ``[(column, [level 0, level 1], BoostedTrees)]``: the trees give the log-odds of
        level 1.
    """

    name = "conditionals"

    def __init__(self, features=None, columns=None, info=None):
        self.features = features
        self.columns = list(columns or [])
        self.info = dict(info or {})  # per eligible column: the held-out check

    @property
    def found(self) -> list:
        """The columns drawn again, in order."""
        return [column for column, _, _ in self.columns]

    def fit(self, real: pd.DataFrame, model, rng) -> BinaryConditionals | None:
        """Trees for every eligible column of ``real`` (the training rows) whose trees beat
        the model's own conditional on held-out rows; ``None`` when the table is too small
        or no column is kept.

        The check: a fifth of the training rows is held out; trees fitted on (at most
        ``COMPARE_ROWS`` of) the other rows and trees fitted on as many rows of the model
        (as the post-processors before this one return them) predict the column on the
        held-out rows. The column is kept when the first have the lower log-loss (the
        conditional it would be drawn from is the better one), and its trees are then
        refitted on the training rows (at most ``MAX_ROWS``; fewer on a wide table).
        """
        from tabgen.synthesizers.postprocess.selection import RowFeatures

        if len(real) < MIN_ROWS or not model._learns_rows():
            return None
        eligible = _eligible(real, model)[:MAX_COLUMNS]
        if not eligible:
            return None
        self.features = RowFeatures.for_model(real, model)
        rows = min(MAX_ROWS, MAX_CELLS // self.features.width)  # bounded memory
        if rows < MIN_ROWS:  # too wide a table for enough rows
            return None
        if len(real) > rows:
            real = real.iloc[np.sort(rng.choice(len(real), rows, replace=False))]
        X = self.features.transform(real)
        order = rng.permutation(len(real))
        held, rest = order[: len(real) // 5], order[len(real) // 5 :][:COMPARE_ROWS]
        generated = model._sample_rows(len(rest), None, rng, id_offset=0)
        X_gen = self.features.transform(generated)
        self.columns, self.info = [], {}
        for column, levels in eligible:
            own = self.features.block(column)
            y = (real[column].to_numpy(dtype=object) == levels[1]).astype(int)
            y_gen = (generated[column].to_numpy(dtype=object) == levels[1]).astype(int)
            X_other, X_gen_other = X.copy(), X_gen.copy()
            X_other[:, own] = X_gen_other[:, own] = 0.0  # constant: never split on
            fits = _Fits(rng)
            ours = fits(X_other[rest], y[rest], column)
            if ours is None:  # the other cells tell nothing of the column
                self.info[column] = {"kept": False}
                continue
            theirs = fits(X_gen_other, y_gen, column)
            loss = _log_loss(ours, X_other[held], y[held])
            model_loss = _log_loss(theirs, X_other[held], y[held], y_gen.mean())
            kept = loss < model_loss
            self.info[column] = {
                "kept": bool(kept),
                "held_out_log_loss": round(loss, 5),
                "model_log_loss": round(model_loss, 5),
            }
            trees = fits(X_other, y, column) if kept else None
            if trees is not None:
                self.columns.append((column, levels, trees))
        if getattr(model, "verbose", False):
            logger.info("conditionals: %s", self.info)
        return self if self.columns else None

    def apply(self, frame: pd.DataFrame, conditions=None) -> pd.DataFrame:
        """Draw the columns again for every row of ``frame`` (in place, in blocks of
        ``BLOCK`` rows); rows sampled with ``conditions`` are returned as they are."""
        from scipy.special import expit

        columns = [entry for entry in self.columns if entry[0] in frame.columns]
        if conditions is not None or not len(frame) or not columns:
            return frame
        features = self.features
        out = {c: frame[c].to_numpy(dtype=object, copy=True) for c, _, _ in columns}
        for a in range(0, len(frame), BLOCK):
            X = features.transform(frame.iloc[a : a + BLOCK])
            # seeded from the block's features (no ids among them) and its place
            uniform = np.random.default_rng(_entropy(X, a)).random((len(X), len(columns)))
            for j, (column, levels, trees) in enumerate(columns):
                cells = out[column][a : a + BLOCK]  # a view: written in place
                # cells on neither level (missing ones) are left alone
                on = pd.Index(levels, dtype=object).get_indexer(cells) >= 0
                p = expit(trees.decision(X))
                pick = (uniform[:, j] < p).astype(int)
                cells[on] = np.asarray(levels, dtype=object)[pick[on]]
                own = features.block(column)  # the next columns see the new cells
                X[:, own] = _one_hot(features, column, pd.Series(cells), own)
        for column, _, _ in columns:
            frame[column] = pd.Series(out[column], index=frame.index).astype(frame[column].dtype)
        return frame

    def get_state(self) -> tuple[dict, dict]:
        from tabgen.schema import _json_scalar

        state = {"features": self.features.get_state(), "columns": [], "info": self.info}
        arrays = {}
        for i, (column, levels, trees) in enumerate(self.columns):
            tree_state, extra = trees.get_state(f"{_PREFIX}{i}.")
            state["columns"].append([column, [_json_scalar(v) for v in levels], tree_state])
            arrays.update(extra)
        return state, arrays

    @classmethod
    def from_state(cls, state: dict, arrays: dict) -> BinaryConditionals:
        from tabgen.persistence import ModelFileError
        from tabgen.synthesizers.postprocess.selection import RowFeatures
        from tabgen.synthesizers.postprocess.trees import BoostedTrees

        features = RowFeatures.from_state(state["features"])
        columns = []
        for i, entry in enumerate(state.get("columns") or []):
            try:
                column, levels, tree_state = entry
                known = features.categorical[column]
                ok = (
                    len(levels) == 2
                    and all(isinstance(v, (str, int, float, bool)) for v in levels)
                    and levels[0] != levels[1]
                    and all(v in known for v in levels)
                )
            except (TypeError, ValueError, KeyError):
                ok = False
            if not ok:
                raise ModelFileError(f"the conditionals' entry {i} is damaged: {entry!r:.200}")
            label = f"the conditional trees of {column!r}"
            prefix = f"{_PREFIX}{i}."
            trees = BoostedTrees.from_state(tree_state, arrays, prefix, features.width, label)
            columns.append((column, list(levels), trees))
        return cls(features, columns, state.get("info"))


class _Fits:
    """Boosted trees of the log-odds of level 1 (``None``: nothing learnt, or no memory)."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self, X, y, column):
        from tabgen.synthesizers.postprocess.trees import BoostedTrees

        if np.bincount(y, minlength=2).min() < MIN_LEVEL_ROWS:  # too few rows of a level
            return None
        try:
            return BoostedTrees.fit_labels(X, y, int(self.rng.integers(0, 2**31 - 1)))
        except MemoryError:
            logger.warning("conditionals: no memory for the trees of %r; left out", column)
        except ValueError as exc:  # e.g. a split scikit-learn refuses: the model's cells stay
            logger.warning("conditionals: no trees for %r (%s); left out", column, exc)
        return None


def _log_loss(trees, X, y, share: float = 0.5) -> float:
    """Mean log-loss of ``trees`` on the rows ``X`` with levels ``y`` (``trees=None``: the
    constant probability ``share``)."""
    if trees is None:
        p = np.full(len(y), share)
    else:
        from scipy.special import expit

        p = expit(trees.decision(X))
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _entropy(X: np.ndarray, start: int) -> list[int]:
    """Seed words from the feature matrix ``X`` of the rows from ``start`` on."""
    import hashlib

    digest = hashlib.blake2b(np.ascontiguousarray(X).tobytes(), digest_size=16).digest()
    return [start, len(X), *np.frombuffer(digest, dtype=np.uint64).tolist()]


def _one_hot(features, column, values: pd.Series, own: slice) -> np.ndarray:
    """The one-hot block of ``column`` for ``values`` (as ``features.transform`` writes it)."""
    block = np.zeros((len(values), own.stop - own.start), dtype="float32")
    block[np.arange(len(values)), features.slots(column, values)] = 1.0
    return block


def _eligible(real: pd.DataFrame, model) -> list:
    """``[(column, [level 0, level 1])]``: categorical columns of ``real`` with two levels
    of at least ``MIN_LEVEL_ROWS`` rows each, no missing cell, and no part in the category
    dependencies (level 0: the more frequent)."""
    step = model._postprocessor("dependencies")
    tied = {c for dep, det, _ in (step.found if step is not None else ()) for c in (dep, det)}
    out = []
    for spec in model.schema_:
        column = spec.name
        if spec.kind != "categorical" or column in tied or column not in real.columns:
            continue
        values = real[column]
        if values.isna().any():
            continue
        counts = values.astype(object).value_counts()
        if len(counts) == 2 and counts.min() >= MIN_LEVEL_ROWS:
            out.append((column, [counts.index[0], counts.index[1]]))
    return out
