"""The negative ELBO, read from the layout: per-slot reconstruction terms plus a KL term.

* continuous slots: Gaussian negative log-likelihood with a learned per-slot log-scale,
  skipped where the column is missing (the value slot then holds a neutral fill);
* softmax blocks: cross-entropy, skipped where the column is missing;
* binary slots (missingness indicators): binary cross-entropy;
* KL divergence of the diagonal Gaussian posterior from the (conditional, learned) diagonal
  Gaussian prior, weighted by ``beta`` (warmed up linearly from 0 by :func:`beta_at`).

Every term is summed over the slots of a row (nats per row); ``weights`` (``(n, dim)``, 0 or 1)
switch off the slots fixed by a condition.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tabgen.synthesizers.vae.layout import Layout

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _observed(x: torch.Tensor, missing_slots) -> torch.Tensor:
    """``(n, k)`` float: 1 where the column of each listed slot is observed."""
    obs = torch.ones(x.shape[0], len(missing_slots), dtype=x.dtype, device=x.device)
    for k, m in enumerate(missing_slots):
        if m >= 0:
            obs[:, k] = 1.0 - x[:, m]
    return obs


def reconstruction_nll(
    out: torch.Tensor,
    x: torch.Tensor,
    log_scale: torch.Tensor,
    layout: Layout,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-row negative log-likelihood of ``x`` under the decoder output ``out``.

    Parameters
    ----------
    out : Tensor of shape (n, dim)
        Decoder output (means for continuous slots, logits elsewhere).
    x : Tensor of shape (n, dim)
        Encoded rows.
    log_scale : Tensor of shape (n_continuous,) or (n, n_continuous)
        Log standard deviation of each continuous slot (per slot or per row).
    layout : Layout
    weights : Tensor of shape (n, dim), optional
        Per-slot weights (0 switches a slot off; a block uses the weight of its first slot).

    Returns
    -------
    Tensor of shape (n,)
    """
    n = x.shape[0]
    total = torch.zeros(n, dtype=out.dtype, device=out.device)
    if layout.continuous:
        idx = torch.as_tensor(layout.continuous, device=x.device)
        z = (x[:, idx] - out[:, idx]) * torch.exp(-log_scale)
        nll = 0.5 * z**2 + log_scale + _HALF_LOG_2PI
        w = _observed(x, layout.continuous_missing)
        if weights is not None:
            w = w * weights[:, idx]
        total = total + (nll * w).sum(dim=1)
    if layout.blocks:
        obs = _observed(x, layout.blocks_missing)
        for k, (a, b) in enumerate(layout.blocks):
            ce = -(x[:, a:b] * F.log_softmax(out[:, a:b], dim=1)).sum(dim=1)
            w = obs[:, k] if weights is None else obs[:, k] * weights[:, a]
            total = total + ce * w
    if layout.binary:
        idx = torch.as_tensor(layout.binary, device=x.device)
        bce = F.binary_cross_entropy_with_logits(out[:, idx], x[:, idx], reduction="none")
        if weights is not None:
            bce = bce * weights[:, idx]
        total = total + bce.sum(dim=1)
    return total


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-row ``KL(N(mu, exp(logvar)) || N(0, I))`` summed over latent dimensions."""
    return 0.5 * (mu**2 + torch.exp(logvar) - 1.0 - logvar).sum(dim=1)


def kl_gaussians(mu, logvar, prior_mu, prior_logvar) -> torch.Tensor:
    """Per-row ``KL(N(mu, exp(logvar)) || N(prior_mu, exp(prior_logvar)))`` (diagonal),
    summed over latent dimensions."""
    ratio = torch.exp(logvar - prior_logvar)
    diff = (mu - prior_mu) ** 2 * torch.exp(-prior_logvar)
    return 0.5 * (ratio + diff - 1.0 - (logvar - prior_logvar)).sum(dim=1)


def beta_at(step: int, total_steps: int, beta: float, warmup: float) -> float:
    """KL weight at optimiser step ``step``: linear from 0 to ``beta`` over the first
    ``warmup`` fraction of training, then ``beta``.

    Examples
    --------
    >>> beta_at(0, 100, 1.0, 0.5), beta_at(25, 100, 1.0, 0.5), beta_at(80, 100, 1.0, 0.5)
    (0.0, 0.5, 1.0)
    """
    ramp = warmup * total_steps
    if ramp <= 0:
        return float(beta)
    return float(beta) * min(1.0, step / ramp)


def negative_elbo(
    out, x, log_scale, posterior, prior, layout: Layout, beta: float, weights=None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(loss, reconstruction, kl)``: the batch means, ``loss = rec + beta * kl``.

    ``posterior`` and ``prior`` are ``(mean, log-variance)`` pairs.
    """
    rec = reconstruction_nll(out, x, log_scale, layout, weights).mean()
    kl = kl_gaussians(*posterior, *prior).mean()
    return rec + beta * kl, rec, kl
