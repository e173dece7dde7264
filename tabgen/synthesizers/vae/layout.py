"""The VAE's reading of the encoder layout: which slots are numbers, category blocks and
binary indicators, and which columns a condition vector can fix.

Everything model-specific (heads, losses, condition vectors) is derived from the
:class:`~tabgen.encoders.base.Span` list here; no other module looks at column kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Slot groups of an encoded row.

    Attributes
    ----------
    dim : int
        Width of the encoded row.
    continuous : tuple of int
        Continuous value slots.
    continuous_missing : tuple of int
        For each continuous slot, the missingness slot of its column (``-1``: none).
    blocks : tuple of (int, int)
        ``(start, stop)`` of each softmax block.
    blocks_missing : tuple of int
        For each block, the missingness slot of its column (``-1``: none).
    binary : tuple of int
        Binary slots (missingness indicators and binary values).
    cond_columns : tuple
        Columns a condition vector can fix (those with a continuous or softmax value).
    cond_values : tuple of (int, int)
        The value slots of each condition column.
    cond_missing : tuple of int
        The missingness slot of each condition column (``-1``: none).
    """

    dim: int
    continuous: tuple = ()
    continuous_missing: tuple = ()
    blocks: tuple = ()
    blocks_missing: tuple = ()
    binary: tuple = ()
    cond_columns: tuple = ()
    cond_values: tuple = ()
    cond_missing: tuple = ()

    @classmethod
    def from_spans(cls, spans, dim: int) -> Layout:
        missing = {s.column: s.start for s in spans if s.role == "missing"}
        continuous, cmiss, blocks, bmiss, binary = [], [], [], [], []
        cond_columns, cond_values, cond_missing = [], [], []
        for s in spans:
            if s.role == "missing" or s.kind == "binary":
                binary.append(s.start)
                continue
            if s.kind == "continuous":
                continuous.append(s.start)
                cmiss.append(missing.get(s.column, -1))
            elif s.kind == "softmax":
                blocks.append((s.start, s.stop))
                bmiss.append(missing.get(s.column, -1))
            else:
                raise ValueError(f"the VAE cannot model span kind {s.kind!r} ({s.column!r})")
            cond_columns.append(s.column)
            cond_values.append((s.start, s.stop))
            cond_missing.append(missing.get(s.column, -1))
        return cls(
            dim,
            tuple(continuous),
            tuple(cmiss),
            tuple(blocks),
            tuple(bmiss),
            tuple(binary),
            tuple(cond_columns),
            tuple(cond_values),
            tuple(cond_missing),
        )

    # -- condition vector geometry ----------------------------------------------------------
    @property
    def n_cond(self) -> int:
        """Number of condition columns."""
        return len(self.cond_columns)

    @property
    def cond_slots(self) -> np.ndarray:
        """The value slots that enter the condition vector, column by column."""
        if not self.cond_values:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(a, b) for a, b in self.cond_values])

    @property
    def cond_slot_column(self) -> np.ndarray:
        """For each entry of :attr:`cond_slots`, the index of its condition column."""
        return np.concatenate(
            [np.full(b - a, j) for j, (a, b) in enumerate(self.cond_values)]
            or [np.zeros(0, dtype=np.int64)]
        ).astype(np.int64)

    @property
    def cond_width(self) -> int:
        """Width of the condition vector: the values of every condition column plus one
        include-flag per column."""
        return len(self.cond_slots) + self.n_cond

    def cond_cover(self) -> np.ndarray:
        """``(n_cond, dim)`` 0/1 matrix: the slots (values and missingness) each condition
        column fixes."""
        cover = np.zeros((self.n_cond, self.dim))
        for j, ((a, b), m) in enumerate(zip(self.cond_values, self.cond_missing)):
            cover[j, a:b] = 1.0
            if m >= 0:
                cover[j, m] = 1.0
        return cover
