"""A one-step student of the diffusion sampler (distillation of the probability-flow ODE).

Sampling the trained denoiser integrates an ODE: each starting noise ``z`` is carried to
one row ``x0 = ODE(z)`` by ``n_steps`` network evaluations (``2 n_steps - 1`` with Heun's
method). That map is deterministic, so a network can learn it directly (knowledge
distillation, Luhman & Luhman, 2021): after the fit, the teacher solves the ODE for a set
of noise draws, and a student of the teacher's shape, started from the teacher's weights
and evaluated at the top noise level, is trained to return ``x0`` from ``z`` in one
evaluation: squared error on the continuous slots, cross-entropy against the teacher's
category (and missingness) on the discrete ones, as in the denoiser's own loss.

The pairs are drawn from noise, never from the training rows: the student only
post-processes the teacher (no further privacy cost in a differentially private fit). It is
used for unconditional rows only; conditional sampling and inpainting keep the teacher's
solver. Where the student cannot tell which category the teacher would reach, its
probabilities are spread: :func:`one_step` draws the category from them (the most probable
one would give all such rows the mode), and the discriminator selection, fitted afterwards
on the student's own rows, removes most incoherent combinations. The ablation is in
``benchmarks/RESULTS.md`` (``bench_diffusion_speed.py``). The fit takes as many optimiser
steps for it as the denoiser's fit took; under a time budget (``DistillConfig.max_time``,
what the fit's ``max_time`` leaves after the denoiser) the teacher solves pairs for at most
a share of it and the student's learning-rate schedule is shortened, after a few timed
steps, to the steps the rest of the budget allows.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tabgen._progress import chunks
from tabgen.synthesizers.diffusion import process
from tabgen.synthesizers.diffusion.sampler import solve

#: Under a time budget: most of it spent solving pairs, and the timed steps that size the rest.
_PAIRS_TIME_SHARE = 0.4
_PROBE_STEPS = 10
_now = time.monotonic  # the clock of the budget (replaced in tests)


@dataclass(frozen=True)
class DistillConfig:
    """Settings of :func:`distill`.

    Attributes
    ----------
    pairs : int
        Noise draws solved by the teacher (the student's training set).
    steps : int
        Optimiser steps of the student.
    sigma_max : float
        Top noise level: the teacher starts its solver there and the student is evaluated
        there.
    teacher_sigmas : torch.Tensor
        The teacher solver's noise levels (from ``sigma_max`` down to 0).
    teacher_method : {"heun", "dpm"}
        The teacher's solver (see :func:`.sampler.solve`).
    batch_size : int
        Pairs per optimiser step.
    lr : float
        Peak AdamW learning rate (short linear warm-up, then linear decay to 0).
    low_precision : bool
        bfloat16 matrix products (teacher solves and student steps), where native.
    max_time : float, optional
        Seconds for the whole distillation: the teacher solves pairs (in chunks of
        ``pair_chunk``, at least one) for at most ``_PAIRS_TIME_SHARE`` of it, and the
        student's schedule ends when the rest runs out (``None``: no bound).
    pair_chunk : int
        Pairs solved at a time.
    """

    pairs: int
    steps: int
    sigma_max: float
    teacher_sigmas: torch.Tensor
    teacher_method: str = "heun"
    batch_size: int = 1024
    lr: float = 1e-3
    low_precision: bool = False
    max_time: float | None = None
    pair_chunk: int = 16_384


def distill(
    teacher: process.MixedDenoiser,
    config: DistillConfig,
    generator: torch.Generator,
    device="cpu",
) -> process.MixedDenoiser:
    """The one-step student of ``teacher`` (frozen, eval mode), trained on
    ``config.pairs`` teacher solutions (fewer when ``config.max_time`` runs short); all
    draws come from ``generator``."""
    start = _now()
    deadline = None if config.max_time is None else start + config.max_time
    dim = teacher.layout.dim
    z = torch.randn((config.pairs, dim), generator=generator, device=device)
    pairs_until = None if deadline is None else start + _PAIRS_TIME_SHARE * config.max_time
    x0 = _teacher_solutions(teacher, z, config, generator, device, pairs_until)
    z = z[: len(x0)]
    n_pairs = len(x0)
    student = copy.deepcopy(teacher).requires_grad_(True).train()
    kind = torch.device(device).type
    fused = True if kind in ("cpu", "cuda") else None
    opt = torch.optim.AdamW(student.parameters(), lr=config.lr, weight_decay=0.0, fused=fused)
    warmup = max(1, min(50, config.steps // 10))
    batch = min(config.batch_size, n_pairs)
    total = config.steps
    step, probe_start = 0, _now()
    while step < total:
        if deadline is not None and step == _PROBE_STEPS:  # size the schedule to the budget
            per_step = max(_now() - probe_start, 1e-9) / _PROBE_STEPS
            total = min(total, step + max(1, math.floor((deadline - _now()) / per_step)))
        for group in opt.param_groups:
            group["lr"] = config.lr * min(1.0, (step + 1) / warmup) * (1 - step / total)
        rows = torch.randint(0, n_pairs, (batch,), generator=generator, device=device)
        with torch.autocast(kind, dtype=torch.bfloat16, enabled=config.low_precision):
            loss = student_loss(student, z[rows], x0[rows], config.sigma_max)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if deadline is not None and _now() > deadline:
            break
    return student.requires_grad_(False).eval()


@torch.no_grad()
def _teacher_solutions(
    teacher, z, config: DistillConfig, generator, device, until: float | None = None
) -> torch.Tensor:
    """The teacher's ODE solutions from the unit noise ``z`` (model space, float32), in
    chunks of ``config.pair_chunk`` rows; with ``until`` (a time of :func:`_now`) no chunk
    starts after it (the first always runs): the solutions of the first rows of ``z``."""
    n, dim = z.shape
    parts = []
    for a in range(0, n, config.pair_chunk):
        if parts and until is not None and _now() > until:
            break
        rows = z[a : a + config.pair_chunk]
        x = solve(
            teacher,
            len(rows),
            dim,
            config.teacher_sigmas,
            generator,
            method=config.teacher_method,
            device=device,
            low_precision=config.low_precision,
            noise=rows,
        )
        parts.append(x.float())
    return torch.cat(parts)


def student_loss(
    student: process.MixedDenoiser, z: torch.Tensor, x0: torch.Tensor, sigma_max: float
) -> torch.Tensor:
    """Distillation loss of a batch: the student's one-step estimate from noise ``z`` (unit
    scale) against the teacher's rows ``x0``: mean squared error over the continuous slots
    plus the cross-entropy against the teacher's category of each block and the teacher's
    value of each binary slot, averaged over those columns."""
    layout = student.layout
    x = z * sigma_max
    out, c_skip, c_out = student.raw(x, torch.full((len(z),), sigma_max, device=z.device))
    out = out.float()
    loss = out.new_zeros(())
    if layout.continuous:
        ci = student.cont_idx
        loss = loss + F.mse_loss(c_skip * x[:, ci] + c_out * out[:, ci], x0[:, ci])
    n_discrete = len(layout.blocks) + len(layout.binary)
    if n_discrete:
        ce = out.new_zeros(())
        for a, b in layout.blocks:
            ce = ce + F.cross_entropy(out[:, a:b], x0[:, a:b].argmax(1))
        if layout.binary:
            bi = student.bin_idx
            targets = (x0[:, bi] > 0).to(out.dtype)
            bce = F.binary_cross_entropy_with_logits(out[:, bi], targets, reduction="none")
            ce = ce + bce.mean(0).sum()
        loss = loss + ce / n_discrete
    return loss


@torch.no_grad()
def one_step(
    student: process.MixedDenoiser,
    n: int,
    sigma_max: float,
    generator: torch.Generator,
    *,
    batch_size: int = 16384,
    device="cpu",
    low_precision: bool = False,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` rows (model space, float32) from the student: unit noise (``noise`` or a draw
    from ``generator``) scaled to ``sigma_max``, one evaluation, then each category (and
    binary slot) drawn from the student's probabilities (:func:`draw_discrete`)."""
    sigmas = torch.tensor([sigma_max, 0.0], dtype=torch.float64)
    x = solve(
        student,
        n,
        student.layout.dim,
        sigmas,
        generator,
        method="dpm",
        batch_size=batch_size,
        device=device,
        low_precision=low_precision,
        noise=noise,
    )
    return draw_discrete(x, student.layout, generator)


def draw_discrete(x: torch.Tensor, layout: process.Layout, generator) -> torch.Tensor:
    """``x`` (model space) with each softmax block replaced by a one-hot row (``±1``) drawn
    from its probabilities ``(x + 1) / 2`` and each binary slot drawn likewise.

    The student's category probabilities estimate where the teacher's ODE would take each
    noise draw; where it cannot tell, taking the most probable category would give every
    such row the mode, while drawing keeps the frequencies (and the selection removes the
    incoherent combinations: figures in ``benchmarks/RESULTS.md``).
    """
    x = x.clone()
    n = x.shape[0]
    rows = torch.arange(n, device=x.device)
    for a, b in layout.blocks:  # inverse CDF: one uniform draw per row and block
        cdf = torch.cumsum((x[:, a:b] + 1) / 2, dim=1)
        u = torch.rand((n, 1), generator=generator, device=x.device) * cdf[:, -1:]
        pick = (cdf < u).sum(1).clamp_(max=b - a - 1)
        x[:, a:b] = -1.0
        x[rows, a + pick] = 1.0
    if layout.binary:
        bi = torch.tensor(layout.binary, device=x.device)
        u = torch.rand((n, len(bi)), generator=generator, device=x.device)
        x[:, bi] = torch.where(u < (x[:, bi] + 1) / 2, 1.0, -1.0)
    return x


def student_rows(student, n: int, sigma_max: float, generator, device, low_precision, chunk):
    """``n`` encoded rows (float32) of ``student`` (:func:`one_step`), ``chunk`` rows at a
    time so that each chunk's arrays stay in cache (each advances an open progress bar)."""
    out = np.empty((n, student.layout.dim), dtype="float32")
    for a in chunks(n, chunk):
        m = min(chunk, n - a)
        X = one_step(student, m, sigma_max, generator, device=device, low_precision=low_precision)
        out[a : a + m] = process.from_model(X, student.layout, dtype="float32")
    return out
