"""The generator: residual blocks, then output heads driven by the layout.

Each residual block is ``Linear -> BatchNorm -> ReLU`` whose output is concatenated with its
input (CTGAN's design: later layers see every earlier representation). The heads turn the
final linear layer's output into data: ``tanh`` for continuous slots, a Gumbel-softmax for
every one-hot block (categories, mixture modes, missingness), with noise drawn from an
explicit ``torch.Generator``.
"""

from __future__ import annotations

import torch
from torch import nn

from tabgen.synthesizers.gan.embedding import WideEmbedding
from tabgen.synthesizers.gan.layout import GanLayout


class Residual(nn.Module):
    """``concat(relu(bn(linear(x))), x)``."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def reset_extra_parameters(self) -> None:
        self.bn.reset_parameters()  # ones/zeros and fresh running statistics; no randomness

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Noise and conditional vector in, raw head inputs (``layout.width`` slots) out.

    Parameters
    ----------
    in_dim : int
        Noise width plus conditional-vector width.
    wide : list of (int, int)
        Wide one-hot blocks of the conditional vector (inside the input) to embed.
    hidden : sequence of int
        Output width of each residual block.
    out_dim : int
        Width of the expanded layout.
    """

    def __init__(self, in_dim: int, wide, hidden, out_dim: int):
        super().__init__()
        self.inp = WideEmbedding(in_dim, wide)
        blocks, dim = [], self.inp.out_dim
        for h in hidden:
            blocks.append(Residual(dim, h))
            dim += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(self.inp(x)))


def gumbel_noise(shape, generator: torch.Generator, device=None) -> torch.Tensor:
    """Standard Gumbel noise from ``generator``."""
    u = torch.rand(shape, generator=generator, device=device)
    return u.clamp_(1e-10, 1.0 - 1e-7).log_().neg_().log_().neg_()  # in place: one tensor


def apply_heads(
    raw: torch.Tensor, layout: GanLayout, generator: torch.Generator, tau: float = 0.2
) -> torch.Tensor:
    """Activate raw generator output block by block: ``tanh`` or Gumbel-softmax (``tau``)."""
    noise = gumbel_noise(raw.shape, generator, raw.device)
    parts = []
    for b in layout.blocks:
        x = raw[:, b.start : b.stop]
        if b.activation == "tanh":
            parts.append(torch.tanh(x))
        else:
            parts.append(torch.softmax((x + noise[:, b.start : b.stop]) / tau, dim=1))
    return torch.cat(parts, dim=1) if parts else raw


@torch.no_grad()
def recalibrate_batchnorm(module: nn.Module, make_input, n_batches: int = 8) -> None:
    """Re-estimate BatchNorm running statistics as exact averages over ``n_batches`` inputs
    from ``make_input()`` with the final weights (the running averages of training lag
    behind the moving weights); leaves the module in eval mode."""
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm1d)]
    if not norms:
        module.eval()
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    module.train()
    for _ in range(n_batches):
        module(make_input())
    for m, mom in zip(norms, saved, strict=True):
        m.momentum = mom
    module.eval()
