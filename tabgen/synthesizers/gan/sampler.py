"""Training-by-sampling: the conditional vector and the real rows that match it.

For every step, each row of the batch picks a categorical column uniformly, then a category
of that column with probability proportional to ``log(1 + count)`` (so rare categories are
seen far more often than their frequency), then a training row holding that category. All
three draws are vectorised over the batch: categories come from one ``searchsorted`` into
the concatenated per-column cumulative probabilities, rows from index arrays precomputed
once (the observed rows of each column sorted by category). Memory is ``O(n_rows x
n_categorical_columns)`` integers, whatever the number of levels.
"""

from __future__ import annotations

import numpy as np
import torch


class ConditionSampler:
    """Vectorised sampler of conditions and of the real rows matching them.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_columns)
        Category code of every row in every categorical column.
    observed : ndarray of bool, shape (n_rows, n_columns)
        Whether the cell is observed (missing cells never serve as a condition).
    sizes : sequence of int
        Number of categories of each column.

    Attributes
    ----------
    counts_ : ndarray of shape (sum(sizes),)
        Observed count of every category, columns concatenated.
    train_probs_, sample_probs_ : ndarray of shape (sum(sizes),)
        Per-column probabilities of each category: ``log(1 + count)`` (training) and the
        empirical frequency (unconditional generation).

    Examples
    --------
    >>> codes = np.array([[0], [0], [0], [1]])
    >>> s = ConditionSampler(codes, np.ones_like(codes, bool), [2])
    >>> s.train_probs_.round(3).tolist(), s.sample_probs_.tolist()
    ([0.667, 0.333], [0.75, 0.25])
    """

    def __init__(self, codes: np.ndarray, observed: np.ndarray, sizes):
        self.sizes = np.asarray(sizes, dtype="int64").reshape(-1)
        self.offsets = (np.cumsum(self.sizes) - self.sizes).astype("int64")
        n, m = codes.shape
        total = int(self.sizes.sum())
        counts = np.zeros(total, dtype="int64")
        order_parts, start = [], np.zeros(total, dtype="int64")
        base = 0
        for j in range(m):
            rows = np.flatnonzero(observed[:, j])
            c = codes[rows, j]
            k = np.bincount(c, minlength=self.sizes[j])[: self.sizes[j]]
            counts[self.offsets[j] : self.offsets[j] + self.sizes[j]] = k
            order_parts.append(rows[np.argsort(c, kind="stable")])
            start[self.offsets[j] : self.offsets[j] + self.sizes[j]] = base + np.concatenate(
                [[0], np.cumsum(k)[:-1]]
            )
            base += len(rows)
        self.n_rows = n
        self.counts_ = counts
        self.train_probs_ = self._per_column(np.log1p(counts))
        self.sample_probs_ = self._per_column(counts.astype("float64"))
        self._rows = torch.as_tensor(
            np.concatenate(order_parts) if order_parts else np.zeros(0, "int64")
        )
        self._start = torch.as_tensor(start)
        self._count = torch.as_tensor(counts)
        self._train_cum = self._cumulative(self.train_probs_)
        self._sample_cum = self._cumulative(self.sample_probs_)
        # a column can serve as a condition only if it has an observed cell
        self._usable = torch.as_tensor(
            np.flatnonzero(np.add.reduceat(counts, self.offsets) > 0)
            if total
            else np.zeros(0, "int64")
        )

    @classmethod
    def from_counts(cls, counts: np.ndarray, sizes) -> ConditionSampler:
        """A sampler for generation only (no row index), e.g. after loading a saved model."""
        obj = cls(np.zeros((0, len(sizes)), "int64"), np.zeros((0, len(sizes)), bool), sizes)
        counts = np.array(counts, dtype="int64")  # a writable copy
        obj.counts_ = counts
        obj.train_probs_ = obj._per_column(np.log1p(counts))
        obj.sample_probs_ = obj._per_column(counts.astype("float64"))
        obj._train_cum = obj._cumulative(obj.train_probs_)
        obj._sample_cum = obj._cumulative(obj.sample_probs_)
        obj._count = torch.as_tensor(counts)
        obj._usable = torch.as_tensor(
            np.flatnonzero(np.add.reduceat(counts, obj.offsets) > 0)
            if len(counts)
            else np.zeros(0, "int64")
        )
        return obj

    def _per_column(self, weights: np.ndarray) -> np.ndarray:
        if not len(weights):
            return weights.astype("float64")
        totals = np.add.reduceat(weights, self.offsets)
        totals = np.where(totals > 0, totals, 1.0)
        return weights / np.repeat(totals, self.sizes)

    def _cumulative(self, probs: np.ndarray) -> torch.Tensor:
        """Per-column cumulative probabilities, shifted by the column number: column ``j``'s
        values lie in ``(j, j + 1]``, so one ``searchsorted`` serves every column."""
        if not len(probs):
            return torch.zeros(0, dtype=torch.float64)
        cum = np.concatenate(
            [
                j + np.cumsum(probs[o : o + k])
                for j, (o, k) in enumerate(zip(self.offsets, self.sizes, strict=True))
            ]
        )
        return torch.as_tensor(cum, dtype=torch.float64)

    @property
    def n_columns(self) -> int:
        return len(self.sizes)

    @property
    def active(self) -> bool:
        """Whether there is anything to condition on."""
        return len(self._usable) > 0

    # -- draws ------------------------------------------------------------------------------
    def sample_conditions(self, n: int, generator: torch.Generator, *, train: bool = True):
        """``(column, category)`` of ``n`` conditions: ``category`` indexes the concatenated
        categories (the conditional vector); ``train`` picks the log-frequency law, else the
        empirical one."""
        pick = torch.randint(len(self._usable), (n,), generator=generator)
        col = self._usable[pick]
        u = torch.rand(n, generator=generator, dtype=torch.float64).clamp_min(1e-12)
        cum = self._train_cum if train else self._sample_cum
        cat = torch.searchsorted(cum, col.to(torch.float64) + u)
        offsets = torch.as_tensor(self.offsets)
        cat = torch.minimum(cat, offsets[col] + torch.as_tensor(self.sizes)[col] - 1)
        return col, cat

    def sample_rows(self, category: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One random training row holding each given category."""
        u = torch.rand(len(category), generator=generator, dtype=torch.float64)
        count = self._count[category]
        pos = self._start[category] + (u * count).long().clamp_max(count - 1)
        return self._rows[pos]

    def condition_vectors(self, category: torch.Tensor) -> torch.Tensor:
        """One-hot conditional vectors of the given concatenated category indices."""
        out = torch.zeros(len(category), int(self.sizes.sum()))
        out[torch.arange(len(category)), category] = 1.0
        return out
