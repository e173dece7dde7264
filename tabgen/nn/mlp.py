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
        return self._body(self.act(self.inp(x)))

    def forward_shared_tail(self, x: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
        """``forward(cat([x, tail repeated on every row], dim=1))`` with the tail's part of
        the first layer computed once (``tail``: one row), e.g. a condition vector that is
        the same for a whole batch.

        Examples
        --------
        >>> net = MLP(5, 2, hidden=8)
        >>> x, tail = torch.randn(3, 3), torch.randn(1, 2)
        >>> full = net(torch.cat([x, tail.expand(3, -1)], dim=1))
        >>> torch.allclose(net.forward_shared_tail(x, tail), full, atol=1e-6)
        True
        """
        k = x.shape[1]
        weight = self.inp.weight
        bias = self.inp.bias + tail.reshape(1, -1) @ weight[:, k:].T
        return self._body(self.act(torch.addmm(bias, x, weight[:, :k].T)))

    def _body(self, h: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            h = h + self.act(layer(h)) if self.residual else self.act(layer(h))
        return self.out(h)
