"""The network's view of the encoder layout.

The table encoder stores categories as index codes (one slot per column), so the training
matrix stays ``n_rows x n_columns`` however many levels a column has. The GAN works on an
*expanded* layout where every discrete choice is one one-hot block:

* a category code becomes a one-hot block over the categories, plus one last slot for
  "missing" when the column has missing cells (missingness is then just another category:
  the condition sampler and the conditional vector cover it);
* the missingness indicator of any other column (numbers, datetimes) becomes a two-way
  block (observed, missing);
* the modes of a mode-specific number stay a one-hot block, continuous slots stay scalars
  (``tanh`` heads). Continuous slots that are not bounded by 1 (the quantile-normal values
  of the differentially private mode) are divided by ``continuous_scale`` when the training
  rows are expanded, so that the ``tanh`` head covers their range; generated (compact) rows
  hold them in these units until :meth:`GanLayout.to_encoder` multiplies them back.

Dense blocks (scalars, modes) come first, in encoder order, then the *discrete* blocks
(categories and missingness), stored as codes and expanded batch by batch; the discrete
blocks are the conditional columns, and their order defines the conditional vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tabgen.encoders.base import Span


@dataclass(frozen=True)
class Block:
    """One block of the expanded layout.

    Attributes
    ----------
    span : Span
        The encoder span it comes from (compact slots ``span.start:span.stop``).
    start, stop : int
        Slots in the expanded layout.
    activation : {"tanh", "softmax"}
        Output activation of the generator head.
    missing : int or None
        Compact slot of the column's missingness indicator when the block's last slot
        stands for "missing".
    """

    span: Span
    start: int
    stop: int
    activation: str
    missing: int | None = None

    @property
    def width(self) -> int:
        return self.stop - self.start


class GanLayout:
    """Expanded layout built from the encoder spans.

    Parameters
    ----------
    spans : list of Span
        The table encoder's layout (``continuous``, ``softmax``, ``binary`` and ``index``
        spans).
    continuous_scale : float, default=1.0
        Bound of the continuous slots of the encoder: the expanded layout and the generated
        compact rows hold them divided by it (in ``[-1, 1]``, the range of the ``tanh``
        head); :meth:`to_encoder` multiplies them back. 1 for mode-specific numbers (already
        in ``[-1, 1]``).

    Attributes
    ----------
    blocks : list of Block
        Dense blocks, then the discrete blocks.
    categorical : list of Block
        The discrete blocks (categories, missingness); they define the conditional vector.
    dense_width, width, cond_width, compact_width : int
        Widths of the dense part, the whole expanded layout, the conditional vector and the
        encoder's matrix.
    """

    def __init__(self, spans: list[Span], continuous_scale: float = 1.0):
        if not continuous_scale > 0:
            raise ValueError(f"continuous_scale must be positive, got {continuous_scale!r}")
        self.spans = list(spans)
        self.continuous_scale = float(continuous_scale)
        missing = {s.column: s for s in self.spans if s.role == "missing"}
        absorbed = {s.column for s in self.spans if s.kind == "index" and s.column in missing}
        dense, cats, offset = [], [], 0
        for s in self.spans:
            if s.kind == "continuous":
                dense.append(Block(s, offset, offset + 1, "tanh"))
                offset += 1
            elif s.kind == "softmax":
                dense.append(Block(s, offset, offset + s.width, "softmax"))
                offset += s.width
            elif s.kind not in ("index", "binary"):
                raise ValueError(f"the GAN cannot model a span of kind {s.kind!r}")
        self.dense_width = offset
        for s in self.spans:
            if s.kind == "index":
                miss = missing[s.column].start if s.column in absorbed else None
                width = s.n_categories + int(miss is not None)
                cats.append(Block(s, offset, offset + width, "softmax", miss))
                offset += width
            elif s.kind == "binary" and s.column not in absorbed:
                cats.append(Block(s, offset, offset + 2, "softmax"))
                offset += 2
        self.blocks = dense + cats
        self.dense_blocks = dense
        self.categorical = cats
        self.width = offset
        self.cond_width = offset - self.dense_width
        self.compact_width = sum(s.width for s in self.spans)
        #: where each category block starts inside the conditional vector
        self.cond_offsets = np.array(
            [b.start - self.dense_width for b in cats], dtype="int64"
        ).reshape(-1)
        self.sizes = [b.width for b in cats]
        self.columns = [b.span.column for b in cats]

    # -- data -------------------------------------------------------------------------------
    def dense_part(self, Z: np.ndarray) -> np.ndarray:
        """The dense expanded columns of an encoded matrix, as float32."""
        out = np.zeros((Z.shape[0], self.dense_width), dtype="float32")
        scale = self.continuous_scale
        for b in self.dense_blocks:
            values = Z[:, b.span.start : b.span.stop]
            if scale != 1.0 and b.span.kind == "continuous":
                values = values / scale
            out[:, b.start : b.stop] = values
        return out

    def codes(self, Z: np.ndarray) -> np.ndarray:
        """Codes of the discrete blocks of an encoded matrix, ``(n, n_discrete)`` int64 (a
        category column's "missing" is the code after its categories)."""
        out = np.zeros((Z.shape[0], len(self.categorical)), dtype="int64")
        for j, b in enumerate(self.categorical):
            s = b.span
            if s.kind == "binary":
                out[:, j] = Z[:, s.start] > 0.5
                continue
            out[:, j] = np.clip(np.rint(Z[:, s.start]), 0, s.n_categories - 1)
            if b.missing is not None:
                out[Z[:, b.missing] > 0.5, j] = s.n_categories
        return out

    def expand(self, dense: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Expanded batch from its dense part and its category codes (one scatter)."""
        out = dense.new_zeros((dense.shape[0], self.width))
        out[:, : self.dense_width] = dense
        if codes.shape[1]:
            offsets = torch.as_tensor(self.cond_offsets + self.dense_width, device=codes.device)
            out.scatter_(1, codes + offsets, 1.0)
        return out

    def compact(self, X: np.ndarray, observed=()) -> np.ndarray:
        """Encoder matrix of an expanded (generated) batch: arg-max codes, 0/1 indicators.

        Columns in ``observed`` come out non-missing (the arg-max over their categories, or
        the generated number).
        """
        out = np.zeros((X.shape[0], self.compact_width))
        observed = set(observed)
        for b in self.blocks:
            s = b.span
            block = X[:, b.start : b.stop]
            if s.column in observed:
                if s.role == "missing":
                    continue  # stays 0: observed
                if b.missing is not None:
                    block = block[:, :-1]
            if s.kind == "continuous":
                out[:, s.start] = block[:, 0]
            elif s.kind == "softmax":
                out[np.arange(len(X)), s.start + np.argmax(block, axis=1)] = 1.0
            else:  # index (maybe with "missing" last) or binary: a code
                choice = np.argmax(block, axis=1)
                if b.missing is not None:
                    gone = choice == s.n_categories
                    out[:, b.missing] = gone
                    choice = np.where(gone, 0, choice)
                out[:, s.start] = choice
        return out

    def to_encoder(self, Z: np.ndarray) -> np.ndarray:
        """Generated compact rows in the encoder's units: continuous slots multiplied by
        ``continuous_scale`` (``Z`` itself when the scale is 1)."""
        if self.continuous_scale == 1.0:
            return Z
        out = np.array(Z, dtype="float64")
        for s in self.spans:
            if s.kind == "continuous":
                out[:, s.start] *= self.continuous_scale
        return out

    def category_block(self, column) -> int:
        """Position (among the discrete blocks) of a categorical column's block."""
        for j, b in enumerate(self.categorical):
            if b.span.column == column and b.span.kind == "index":
                return j
        raise ValueError(f"column {column!r} has no category block")

    def missing_slot(self, column) -> int | None:
        """Compact slot of ``column``'s missingness indicator, if it has one."""
        for s in self.spans:
            if s.column == column and s.role == "missing":
                return s.start
        return None
