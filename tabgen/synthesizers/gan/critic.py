"""The critic: a PacGAN discriminator over packs of ``pac`` rows.

Rows (with their conditional vectors) are first reduced to features, then ``pac``
consecutive rows are concatenated and scored together, so the critic can see a lack of
diversity (mode collapse) that single rows do not show. Wide one-hot blocks (a column with
hundreds or thousands of levels) go through a small learned embedding before packing
(:class:`~tabgen.synthesizers.gan.embedding.WideEmbedding`), so that the first layer does
not grow as ``pac x n_levels x width``.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from tabgen.synthesizers.gan.embedding import WideEmbedding


class Critic(nn.Module):
    """Score packs of rows (WGAN critic: unbounded real-valued output).

    Parameters
    ----------
    in_dim : int
        Width of one row: expanded layout plus conditional vector.
    wide : list of (int, int)
        ``(start, stop)`` of the one-hot blocks to embed.
    hidden : sequence of int
        Hidden widths (``Linear -> LeakyReLU(0.2) -> dropout``).
    pac : int
        Rows per pack.
    dropout : float
        Dropout rate (drawn from the generator passed to ``forward``).
    """

    def __init__(self, in_dim: int, wide, hidden, pac: int, dropout: float = 0.5):
        super().__init__()
        self.pac = pac
        self.dropout = dropout
        self.rows = WideEmbedding(in_dim, wide)
        row_dim = self.rows.out_dim
        dims = [row_dim * pac, *hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.out = nn.Linear(dims[-1], 1)

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None, parallel=None
    ) -> torch.Tensor:
        """Scores of the packs of ``x``; dropout draws from ``generator`` (none without it).

        Data-parallel (``parallel``, see :mod:`tabgen.nn.distributed`): ``x`` is this rank's
        slice of a global batch, and the dropout masks are drawn for the global batch and
        sliced, as one process would draw them."""
        h = self.rows(x).reshape(x.shape[0] // self.pac, -1)
        for layer in self.hidden:
            h = nn.functional.leaky_relu(layer(h), 0.2)
            if generator is not None and self.dropout > 0:
                shape = h.shape
                if parallel is not None:
                    shape = (shape[0] * parallel.world_size, shape[1])
                keep = torch.rand(shape, generator=generator, device=h.device) >= self.dropout
                if parallel is not None:
                    keep = keep[parallel.local_rows(shape[0])]
                h = h * keep / (1.0 - self.dropout)
        return self.out(h)
