"""Differentially private training of the diffusion denoiser (DP-SGD through Opacus)."""

from __future__ import annotations

import copy
import logging
import time
import warnings
from dataclasses import dataclass

import torch

from tabgen.synthesizers.diffusion import process

logger = logging.getLogger("tabgen")


@dataclass
class PrivateConfig:
    """Settings of :func:`train_private` (from the estimator's parameters and constants)."""

    epochs: int
    batch_size: int
    lr: float
    ema_decay: float
    cond_fraction: float
    max_time: float | None
    verbose: bool
    max_grad_norm: float
    epsilon: float
    delta: float
    lr_warmup: int
    p_mean: float
    p_std: float
    uniform_frac: float
    sigma_max: float


@dataclass
class PrivateResult:
    """What :func:`train_private` hands back."""

    denoiser: process.MixedDenoiser  # the weight average, to sample from
    losses: list
    n_epochs: int
    report: dict


def train_private(
    model: process.MixedDenoiser,
    X: torch.Tensor,
    generator: torch.Generator,
    config: PrivateConfig,
) -> PrivateResult:
    """DP-SGD version of the estimator's training loop (see :mod:`tabgen.privacy.dpsgd`).

    * The private module is the whole :class:`~process.MixedDenoiser` (the MLP holds every
      trainable parameter, all in ``nn.Linear`` layers; the rest are buffers), so Opacus
      computes per-sample gradients of every weight, clips each to ``max_grad_norm``, adds
      Gaussian noise calibrated to ``(epsilon, delta)`` for ``epochs`` expected passes
      (``epochs / sample rate`` steps, RDP accountant) and averages over the *expected*
      batch size.
    * Batches are Poisson samples (each row joins each step with probability
      ``batch_size / n``): their size varies and may be 0; an empty batch still takes its
      noise-only optimiser step, as the accountant assumes.
    * The loss is :func:`process.private_training_loss`, the batch mean of per-row losses
      (:func:`process.row_losses`): each row's per-sample gradient is the gradient of its own
      loss, unlike the batch-wide averages of :func:`process.training_loss`. The noise
      levels, the Gaussian noise and the known-column masks are drawn per row inside the
      step, independently of the data.
    * Learning rate: the ordinary fit's schedule (linear warm-up over ``lr_warmup`` steps,
      at most a tenth of the run, then linear decay to 0) over the expected number of
      steps: the late small steps average out much of the injected noise.
    * The exponential moving average of the weights (``ema_decay``, the copy used for
      sampling) only reads the released iterates: post-processing, no extra privacy cost.

    ``max_time`` stops after the step that exceeds it; the report then accounts for the
    steps actually taken (less ``epsilon`` spent than the target).
    """
    from tabgen.privacy.dpsgd import DPSGDSettings, make_private

    ema_model = copy.deepcopy(model).requires_grad_(False).eval()  # before Opacus' hooks
    ema_params = list(ema_model.parameters())
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    settings = DPSGDSettings(
        config.epsilon, config.delta, config.max_grad_norm, config.batch_size, config.epochs
    )
    run = make_private(model, opt, X, settings)
    per_epoch = max(len(run.loader), 1)
    total = max(config.epochs * per_epoch, 1)
    warmup = min(config.lr_warmup, max(total // 10, 1))
    run.module.train()
    losses: list[float] = []
    steps = 0
    n_epochs = 0
    stopped = False
    start = time.monotonic()
    log_every = max(1, config.epochs // 20)
    for epoch in range(config.epochs):
        running, counted = 0.0, 0
        for (index,) in run.loader:
            lr = config.lr * min(1.0, (steps + 1) / warmup) * max(0.0, 1.0 - steps / total)
            for group in run.optimizer.param_groups:
                group["lr"] = lr
            xb = X[index]
            # the wrapped module's own method: Opacus' hooks sit on its Linear layers
            loss = process.private_training_loss(
                model,
                xb,
                generator,
                config.p_mean,
                config.p_std,
                cond_prob=config.cond_fraction,
                uniform_frac=config.uniform_frac,
                sigma_max=config.sigma_max,
            )
            run.optimizer.zero_grad(set_to_none=True)
            with warnings.catch_warnings():  # Opacus' hook on the first layer: expected
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                loss.backward()
            run.optimizer.step()
            decay = min(config.ema_decay, (1.0 + steps) / (10.0 + steps))
            with torch.no_grad():
                for e, p in zip(ema_params, params):
                    e.lerp_(p, 1.0 - decay)
            steps += 1
            if xb.shape[0]:
                running += float(loss.detach())
                counted += 1
            if config.max_time is not None and time.monotonic() - start > config.max_time:
                stopped = True
                break
        losses.append(running / max(counted, 1))
        n_epochs = epoch + 1
        if config.verbose and (stopped or n_epochs % log_every == 0 or n_epochs == config.epochs):
            logger.info(  # no loss: it reads the rows without noise
                "diffusion (DP): epoch %d/%d  %d private steps  (%.1fs)",
                n_epochs,
                config.epochs,
                steps,
                time.monotonic() - start,
            )
        if stopped:
            break
    report = run.report(steps)
    report["private_network"] = "denoiser"
    run.module.eval()
    return PrivateResult(ema_model, losses, n_epochs, report)
