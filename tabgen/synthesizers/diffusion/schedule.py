"""Noise levels of the EDM (Karras et al., 2022) formulation, as pure functions.

The forward process adds Gaussian noise of standard deviation ``sigma`` to the clean data;
training draws ``ln sigma ~ N(p_mean, p_std^2)``; sampling walks down a decreasing grid of
noise levels ``sigma_max -> sigma_min -> 0`` spaced by the ``rho``-power rule.
"""

from __future__ import annotations

import math

import torch


def karras_sigmas(
    n_steps: int,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
) -> torch.Tensor:
    """Decreasing sampling grid of ``n_steps`` noise levels followed by a final 0.

    Parameters
    ----------
    n_steps : int
        Number of solver steps (at least 1).
    sigma_min, sigma_max : float
        Smallest and largest nonzero noise level.
    rho : float
        Spacing exponent; larger values concentrate steps at low noise.

    Returns
    -------
    torch.Tensor of shape (n_steps + 1,)
        ``float64`` noise levels, strictly decreasing, the last one 0.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
    i = torch.arange(n_steps, dtype=torch.float64)
    frac = i / max(n_steps - 1, 1)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + frac * (lo - hi)) ** rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)])


def training_sigmas(
    n: int,
    generator: torch.Generator,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    device="cpu",
    *,
    uniform_frac: float = 0.0,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
) -> torch.Tensor:
    """``n`` training noise levels (float32): ``ln sigma ~ N(p_mean, p_std^2)``, except a
    fraction ``uniform_frac`` drawn log-uniformly in ``[sigma_min, sigma_max]`` so that the
    whole sampling range is trained (the high levels matter for conditional sampling)."""
    z = torch.randn(n, generator=generator, device=device)
    sigma = torch.exp(p_mean + p_std * z)
    if uniform_frac > 0:
        u = torch.rand(n, generator=generator, device=device)
        pick = torch.rand(n, generator=generator, device=device) < uniform_frac
        lo, hi = math.log(sigma_min), math.log(sigma_max)
        sigma = torch.where(pick, torch.exp(lo + (hi - lo) * u), sigma)
    return sigma


def preconditioning(sigma: torch.Tensor, sigma_data: float = 1.0):
    """EDM scalings ``(c_skip, c_out, c_in, c_noise)`` for noise levels ``sigma``.

    The denoiser is ``D(x) = c_skip * x + c_out * F(c_in * x, c_noise)``, so that the network
    ``F`` sees unit-variance inputs and predicts a unit-variance target at every level.
    """
    sd2 = sigma_data**2
    s2 = sigma**2
    c_skip = sd2 / (s2 + sd2)
    c_out = sigma * sigma_data / torch.sqrt(s2 + sd2)
    c_in = 1.0 / torch.sqrt(s2 + sd2)
    c_noise = torch.log(sigma) / 4.0
    return c_skip, c_out, c_in, c_noise


def loss_weight(sigma: torch.Tensor, sigma_data: float = 1.0) -> torch.Tensor:
    """EDM weight ``(sigma^2 + sigma_data^2) / (sigma * sigma_data)^2`` of the squared error."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
