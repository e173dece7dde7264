"""Few-step sampling: EDM's Heun solver and DPM-Solver++(2M), with inpainting.

Inpainting: the known slots (conditions, observed cells) hold their clean values throughout
and are passed to the denoiser with their mask; the denoiser was trained on random known
subsets, so it returns the conditional estimate of the free slots and leaves the known ones
unchanged (their ODE velocity is 0). A conditioned category is therefore reproduced exactly,
by construction.
"""

from __future__ import annotations

import itertools
import math

import torch

from tabgen._progress import each


@torch.no_grad()
def solve(
    denoiser,
    n: int,
    dim: int,
    sigmas: torch.Tensor,
    generator: torch.Generator,
    *,
    method: str = "heun",
    known: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    churn: float = 0.0,
    batch_size: int = 16384,
    device="cpu",
    low_precision: bool = False,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw ``n`` rows by integrating the probability-flow ODE from ``sigmas[0]`` to 0.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma, mask) -> x0_hat`` with ``sigma`` of shape ``(rows,)`` and ``mask``
        the known slots (or ``None``).
    n, dim : int
        Rows and slots to produce.
    sigmas : torch.Tensor
        Decreasing noise levels ending at 0 (see :func:`schedule.karras_sigmas`).
    generator : torch.Generator
        Source of all the randomness (on ``device``).
    method : {"heun", "dpm"}, default="heun"
        EDM's Heun solver (:func:`_heun_steps`, two denoiser evaluations per step) or the
        multistep DPM-Solver++(2M) (:func:`_dpm_steps`, one).
    known, mask : torch.Tensor of shape (n, dim), optional
        Clean values of the conditioned slots and the boolean mask of those slots.
    churn : float
        Heun only: EDM's ``S_churn``. Before each step the free slots get fresh noise
        raising the level by the factor ``1 + min(churn / n_steps, sqrt(2) - 1)``; it makes
        the solver stochastic and self-correcting (errors of early steps are partly
        forgotten). 0 gives the deterministic probability-flow ODE.
    batch_size : int
        Rows evaluated at once (memory bound only; the result depends on it only through
        float rounding).
    low_precision : bool
        Evaluate the denoiser's matrix products in bfloat16 (float32 elsewhere: the
        solver's arithmetic, the preconditioning, the category probabilities). Several
        times faster where bfloat16 is native
        (:func:`tabgen.nn.device.low_precision_fast`); the
        rounding it adds is far below the solver's own discretisation error.
    noise : torch.Tensor of shape (n, dim), optional
        The unit-variance starting noise (scaled by ``sigmas[0]``) instead of a draw from
        ``generator``.

    Returns
    -------
    torch.Tensor of shape (n, dim)
        Samples in model space, on ``device``.
    """
    if method not in ("heun", "dpm"):
        raise ValueError(f"method must be 'heun' or 'dpm', got {method!r}")
    if method == "dpm" and churn:
        raise ValueError("churn applies to the Heun solver only")
    sigmas, x, known, mask = _start(n, dim, sigmas, generator, known, mask, device, noise)
    D = _batched(denoiser, mask, batch_size, device, low_precision)
    if method == "heun":
        x = _heun_steps(x, D, sigmas, churn, mask, generator, device)
    else:
        x = _dpm_steps(x, D, sigmas)
    if known is not None:
        x = torch.where(mask, known, x)
    return x


def _heun_steps(x, D, sigmas: list, churn: float, mask, generator, device) -> torch.Tensor:
    """Heun's method over ``sigmas`` with EDM's churn (see :func:`solve`)."""
    gamma = min(churn / max(len(sigmas) - 1, 1), 2**0.5 - 1)
    for s_cur, s_next in each(list(itertools.pairwise(sigmas)), rows=x.shape[0]):
        if gamma > 0:
            s_hat = s_cur * (1 + gamma)
            eps = torch.randn(x.shape, generator=generator, device=device)
            x_hat = x + (s_hat**2 - s_cur**2) ** 0.5 * eps
            x = x_hat if mask is None else torch.where(mask, x, x_hat)
            s_cur = s_hat
        d = (x - D(x, s_cur)) / s_cur
        x_next = x + (s_next - s_cur) * d
        if s_next > 0:
            d2 = (x_next - D(x_next, s_next)) / s_next
            x_next = x + (s_next - s_cur) * 0.5 * (d + d2)
        x = x_next
    return x


def _dpm_steps(x, D, sigmas: list) -> torch.Tensor:
    """The second-order multistep solver DPM-Solver++(2M) (Lu et al., 2022) in the EDM
    parametrisation: one denoiser evaluation per step instead of Heun's two, the second
    order coming from the previous step's estimate (deterministic given the initial noise).

    With ``lambda = -log(sigma)`` and ``h = lambda_next - lambda``, a step is
    ``x_next = (sigma_next / sigma) x + (1 - sigma_next / sigma) D_eff``, where ``D_eff``
    is the current clean-row estimate ``D`` on the first step and
    ``(1 + 1 / (2 r)) D - 1 / (2 r) D_prev`` afterwards (``r = h_prev / h``); the last step
    (to ``sigma = 0``) returns ``D``.
    """
    previous, h_previous = None, None
    for s_cur, s_next in each(list(itertools.pairwise(sigmas)), rows=x.shape[0]):
        denoised = D(x, s_cur)
        if s_next <= 0:
            return denoised
        h = math.log(s_cur / s_next)
        estimate = denoised
        if previous is not None:
            r = h_previous / h
            estimate = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * previous
        ratio = s_next / s_cur
        x = ratio * x + (1 - ratio) * estimate
        previous, h_previous = denoised, h
    return x


def _start(n: int, dim: int, sigmas, generator, known, mask, device, noise=None):
    """Noise levels as floats, the starting rows (prior noise at ``sigmas[0]``: ``noise``
    or a draw, known slots set) and ``known`` / ``mask`` on ``device``."""
    sigmas = [float(s) for s in sigmas]
    if (known is None) != (mask is None):
        raise ValueError("known and mask must be given together")
    if mask is not None:
        mask = mask.to(device=device, dtype=torch.bool)
        known = known.to(device=device, dtype=torch.float32)
    if noise is None:
        noise = torch.randn((n, dim), generator=generator, device=device)
    x = noise.to(device=device, dtype=torch.float32) * sigmas[0]
    if known is not None:
        x = torch.where(mask, known, x)
    return sigmas, x, known, mask


def _batched(denoiser, mask, batch_size: int, device, low_precision: bool = False):
    """``D(x, s)``: the denoiser at one noise level ``s`` over ``x`` in row chunks
    (float32; its matrix products in bfloat16 with ``low_precision``)."""
    kind = torch.device(device).type

    def D(x, s):
        parts = []
        for a in range(0, x.shape[0], batch_size):
            chunk = x[a : a + batch_size]
            sig = torch.full((chunk.shape[0],), s, device=device)
            sub = None if mask is None else mask[a : a + batch_size]
            with torch.autocast(kind, dtype=torch.bfloat16, enabled=low_precision):
                parts.append(denoiser(chunk, sig, sub).float())
        return torch.cat(parts) if parts else x.clone()

    return D
