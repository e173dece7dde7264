"""Compress wide one-hot blocks of an input with learned embeddings.

A column with thousands of levels would make the first layer of a network (and, through
the generator's residual concatenations, its output layer) grow as ``n_levels x width``.
Blocks wider than :data:`WIDE` go through ``Linear(n_levels, EMBED, bias=False)`` (a soft
embedding lookup, exact for one-hot rows); the other slots pass unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

#: One-hot blocks wider than this are embedded.
WIDE = 64
#: Width of the embedding of a wide block.
EMBED = 32


class WideEmbedding(nn.Module):
    """``x -> [x without the wide blocks, embed_1(block_1), ...]``.

    Parameters
    ----------
    in_dim : int
        Input width.
    wide : list of (int, int)
        ``(start, stop)`` of the blocks to embed.

    Attributes
    ----------
    out_dim : int
        Output width.

    Examples
    --------
    >>> emb = WideEmbedding(10, [(2, 9)])
    >>> emb.out_dim
    35
    """

    def __init__(self, in_dim: int, wide):
        super().__init__()
        self.wide = [(int(a), int(b)) for a, b in wide]
        inside = {i for a, b in self.wide for i in range(a, b)}
        self._narrow = [i for i in range(in_dim) if i not in inside]
        self.embed = nn.ModuleList(nn.Linear(b - a, EMBED, bias=False) for a, b in self.wide)
        self.out_dim = len(self._narrow) + EMBED * len(self.wide)
        self.reset_extra_parameters()

    def reset_extra_parameters(self) -> None:
        # column indices as a plain tensor, rebuilt after materialisation (not a parameter)
        self.narrow = torch.tensor(self._narrow, dtype=torch.long, device="cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.wide:
            return x
        if self.narrow.device != x.device:
            self.narrow = self.narrow.to(x.device)
        parts = [x.index_select(1, self.narrow)]
        parts += [emb(x[:, a:b]) for emb, (a, b) in zip(self.embed, self.wide, strict=True)]
        return torch.cat(parts, dim=1)
