"""The generative side ``p(z | condition) p(row | z, condition)`` and drawing rows from it.

The conditional prior is a diagonal Gaussian predicted from the condition vector (the
standard normal at initialisation). The decoder emits one raw value per encoded slot: the
mean of a Gaussian for continuous slots (with a learned per-slot log-scale), logits for
softmax blocks and binary slots.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from tabgen.nn import MLP
from tabgen.synthesizers.vae.layout import Layout

#: Bounds of the learned log-scale of continuous slots (sigma in [0.005, 1]).
LOG_SCALE_MIN, LOG_SCALE_MAX = math.log(0.005), 0.0
LOG_SCALE_INIT = math.log(0.3)


class Decoder(nn.Module):
    """Conditional prior (condition vector -> latent Gaussian) and an MLP from
    ``[z, condition vector]`` to the per-slot output parameters.

    A learned prior ``p(z | c)`` (rather than a fixed standard normal) is what makes
    conditions effective: the encoder may keep information about the conditioned columns in
    ``z``, and sampling then draws ``z`` from the region that matches the condition.

    Parameters
    ----------
    dim : int
        Width of the encoded row.
    n_continuous : int
        Number of continuous slots (one learned log-scale each).
    cond_width : int
        Width of the condition vector.
    latent_dim, hidden, n_layers : int
        Latent size, hidden width, number of hidden layers.
    per_row_scale : bool
        Predict the scale of every continuous slot per row (heteroscedastic), as an offset
        of the learned per-slot log-scale; otherwise one scale per slot.
    """

    def __init__(
        self,
        dim: int,
        n_continuous: int,
        cond_width: int,
        latent_dim: int,
        hidden: int,
        n_layers: int,
        per_row_scale: bool = False,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.dim = dim
        self.per_row = per_row_scale
        n_out = dim + (n_continuous if per_row_scale else 0)
        self.net = MLP(latent_dim + cond_width, n_out, hidden=hidden, n_layers=n_layers)
        self.prior = MLP(cond_width, 2 * latent_dim, hidden=hidden, n_layers=1)
        self.log_scale = nn.Parameter(torch.empty(n_continuous))

    @torch.no_grad()
    def reset_extra_parameters(self) -> None:
        self.log_scale.fill_(LOG_SCALE_INIT)
        self.prior.out.weight.zero_()  # the prior starts as the standard normal
        self.prior.out.bias.zero_()

    def prior_params(self, cond: torch.Tensor):
        """Mean and log-variance of ``p(z | cond)``."""
        mu, logvar = self.prior(cond).split(self.latent_dim, dim=1)
        return mu, logvar.clamp(-8.0, 4.0)

    def sample_latent(
        self, cond: torch.Tensor, generator: torch.Generator, *, shared: bool = False
    ) -> torch.Tensor:
        """``z ~ p(z | cond)``; ``shared=True`` declares every row of ``cond`` equal (no
        condition), so that the prior is evaluated once and broadcast."""
        if shared and cond.shape[0] > 1:
            mu, logvar = (p.expand(cond.shape[0], -1) for p in self.prior_params(cond[:1]))
        else:
            mu, logvar = self.prior_params(cond)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    @torch.no_grad()
    def set_output_bias(self, bias) -> None:
        """Start the output layer at ``bias`` (see :func:`prior_bias`)."""
        self.net.out.bias[: self.dim].copy_(torch.as_tensor(bias, dtype=self.net.out.bias.dtype))

    def forward(
        self,
        z: torch.Tensor,
        cond: torch.Tensor,
        log_scale: torch.Tensor | None = None,
        *,
        shared: bool = False,
    ):
        """``(out, log_scale)``: per-slot outputs ``(n, dim)`` and the bounded log-scales of
        the continuous slots (``(n_continuous,)``, or ``(n, n_continuous)`` per row).

        ``log_scale`` replaces the learned per-slot log-scale (DP training passes a per-row
        copy, ``(n, n_continuous)``, so that it gets per-sample gradients). ``shared=True``
        declares every row of ``cond`` equal (sampling without conditions): its share of
        the first layer is then computed once.
        """
        base = self.log_scale if log_scale is None else log_scale
        if shared and cond.shape[0] > 1:
            h = self.net.forward_shared_tail(z, cond[:1])
        else:
            h = self.net(torch.cat([z, cond], dim=1))
        if not self.per_row:
            return h, base.clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)
        out, extra = h[:, : self.dim], h[:, self.dim :]
        return out, (base + extra).clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)


def public_prior_bias(encoder, layout: Layout) -> np.ndarray:
    """Output biases from the (released) encoder state only, never from the rows
    (:func:`tabgen.privacy._fit.released_output_bias`). Used by differentially private
    training instead of :func:`prior_bias`."""
    from tabgen.privacy._fit import released_output_bias

    return released_output_bias(encoder)  # layout.dim == encoder width


def prior_bias(Z: np.ndarray, layout: Layout, chunk: int = 100_000) -> np.ndarray:
    """Output biases that reproduce the marginals before any training: the mean of each
    continuous slot, the log-frequencies of each category block, the logit of each binary
    slot's rate (so that even a briefly trained decoder keeps the missing rates).

    ``Z`` is read ``chunk`` rows at a time (it may be a disk-backed ``numpy.memmap``)."""
    n_cont, n_blocks = len(layout.continuous), len(layout.blocks)
    sums, counts = np.zeros(n_cont), np.zeros(n_cont)
    freqs = [np.zeros(b - a) for a, b in layout.blocks]
    ones = np.zeros(len(layout.binary))
    for start in range(0, len(Z), chunk):
        block = np.asarray(Z[start : start + chunk], dtype="float64")
        everyone = np.ones(len(block), dtype=bool)
        for k, (j, m) in enumerate(zip(layout.continuous, layout.continuous_missing)):
            obs = block[:, m] < 0.5 if m >= 0 else everyone
            sums[k] += block[obs, j].sum()
            counts[k] += obs.sum()
        for k, ((a, b), m) in enumerate(zip(layout.blocks, layout.blocks_missing)):
            obs = block[:, m] < 0.5 if m >= 0 else everyone
            freqs[k] += block[obs, a:b].sum(axis=0)
        for k, j in enumerate(layout.binary):
            ones[k] += block[:, j].sum()
    bias = np.zeros(layout.dim)
    for k, j in enumerate(layout.continuous):
        bias[j] = sums[k] / counts[k] if counts[k] else 0.0
    for k in range(n_blocks):
        a, b = layout.blocks[k]
        freq = freqs[k] + 0.5
        bias[a:b] = np.log(freq / freq.sum())
    for k, j in enumerate(layout.binary):
        p = (ones[k] + 0.5) / (len(Z) + 1.0)
        bias[j] = np.log(p / (1 - p))
    return bias


@torch.no_grad()
def draw_rows(
    out: torch.Tensor, log_scale: torch.Tensor, layout: Layout, generator: torch.Generator
) -> torch.Tensor:
    """Sample encoded rows from decoder outputs.

    Continuous slots: ``mean + sigma * eps``; softmax blocks: a category drawn from the
    softmax (:func:`draw_categories`), written one-hot; binary slots: Bernoulli of the sigmoid.
    """
    n = out.shape[0]
    rows = torch.zeros_like(out)
    dev = out.device
    if layout.continuous:
        idx = torch.as_tensor(layout.continuous, device=dev)
        eps = torch.randn(n, len(idx), generator=generator, device=dev, dtype=out.dtype)
        rows[:, idx] = out[:, idx] + torch.exp(log_scale) * eps
    for a, b in layout.blocks:
        pick = draw_categories(out[:, a:b], generator)
        rows[:, a:b].scatter_(1, pick[:, None], 1.0)
    if layout.binary:
        idx = torch.as_tensor(layout.binary, device=dev)
        u = torch.rand(n, len(idx), generator=generator, device=dev, dtype=out.dtype)
        rows[:, idx] = (u < torch.sigmoid(out[:, idx])).to(out.dtype)
    return rows


def draw_categories(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One category per row from ``softmax(logits)``, by inverting the cumulative weights
    with one uniform per row (cheaper than ``torch.multinomial`` on CPU for the few
    categories of a table column). A category of weight 0 is never drawn.

    Examples
    --------
    >>> logits = torch.log(torch.tensor([[0.2, 0.0, 0.8]])).expand(10_000, 3)
    >>> pick = draw_categories(logits, torch.Generator().manual_seed(0))
    >>> counts = torch.bincount(pick, minlength=3)
    >>> int(counts[1]), bool(abs(int(counts[2]) - 8_000) < 200)
    (0, True)
    """
    weights = torch.exp(logits - logits.amax(dim=1, keepdim=True))
    cum = torch.cumsum(weights, dim=1)
    u = torch.rand((logits.shape[0], 1), generator=generator, device=logits.device, dtype=cum.dtype)
    pick = torch.searchsorted(cum, u * cum[:, -1:], right=True)
    return pick.clamp_(max=logits.shape[1] - 1).squeeze(1)
