"""A plain MLP block: ``Linear -> SiLU`` layers, optional residual connections."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """``in_dim -> hidden (x n_layers) -> out_dim`` with SiLU activations.

    Parameters
    ----------
    in_dim, out_dim : int
        Input and output widths.
    hidden : int
        Width of the hidden layers.
    n_layers : int
        Number of hidden layers (at least 1).
    residual : bool
        Add a skip connection around every hidden layer after the first.

    Examples
    --------
    >>> net = MLP(4, 2, hidden=8, n_layers=2)
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self, in_dim: int, out_dim: int, *, hidden: int = 256, n_layers: int = 2, residual=True
    ):
        super().__init__()
        self.residual = residual
        self.inp = nn.Linear(in_dim, hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(n_layers - 1))
        self.act = nn.SiLU()
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(x))
        for layer in self.layers:
            h = h + self.act(layer(h)) if self.residual else self.act(layer(h))
        return self.out(h)
