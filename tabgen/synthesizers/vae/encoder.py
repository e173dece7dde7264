"""The inference network ``q(z | row, condition)``."""

from __future__ import annotations

import torch
from torch import nn

from tabgen.nn import MLP

#: Bounds of the predicted log-variance (keeps ``exp`` finite early in training).
LOGVAR_MIN, LOGVAR_MAX = -12.0, 6.0


class Encoder(nn.Module):
    """MLP from ``[row, condition vector]`` to the mean and log-variance of a diagonal
    Gaussian over the latent.

    Parameters
    ----------
    dim : int
        Width of the encoded row.
    cond_width : int
        Width of the condition vector.
    latent_dim, hidden, n_layers : int
        Latent size, hidden width, number of hidden layers.
    """

    def __init__(self, dim: int, cond_width: int, latent_dim: int, hidden: int, n_layers: int):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = MLP(dim + cond_width, 2 * latent_dim, hidden=hidden, n_layers=n_layers)

    def forward(self, x: torch.Tensor, cond: torch.Tensor):
        h = self.net(torch.cat([x, cond], dim=1))
        mu, logvar = h.split(self.latent_dim, dim=1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)


def reparameterize(mu, logvar, generator: torch.Generator) -> torch.Tensor:
    """``mu + sigma * eps`` with ``eps`` from ``generator``."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
