"""Differentially private training of the diffusion denoiser (DP-SGD through Opacus)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from tabgen.nn.trainer import Privacy, Trainer, warmup_linear
from tabgen.synthesizers.diffusion import process


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
    from tabgen.privacy.dpsgd import DPSGDSettings

    def step(index, trainer):
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
        opt = trainer.optimizers["denoiser"]
        opt.zero_grad(set_to_none=True)
        with warnings.catch_warnings():  # Opacus' hook on the first layer: expected
            warnings.filterwarnings("ignore", message="Full backward hook is firing")
            loss.backward()
        opt.step()
        return loss if xb.shape[0] else None  # an empty Poisson batch has no loss

    opt = torch.optim.AdamW(list(model.parameters()), lr=config.lr, weight_decay=0.0)
    settings = DPSGDSettings(
        config.epsilon, config.delta, config.max_grad_norm, config.batch_size, config.epochs
    )
    trainer = Trainer(
        step,
        epochs=config.epochs,
        optimizers={"denoiser": opt},
        lr_at=warmup_linear(config.lr, config.lr_warmup),
        average=model,
        ema_decay=config.ema_decay,
        max_time=config.max_time,
        verbose=config.verbose,
        show_loss=False,  # the raw loss reads the rows without noise
        privacy=Privacy(model, "denoiser", X, settings),
        parallel=None,
        name="diffusion (DP)",
    )
    trainer.private.module.train()
    log = trainer.run()
    report = trainer.privacy_report()
    report["private_network"] = "denoiser"
    trainer.private.module.eval()
    return PrivateResult(trainer.average.module, log.losses, log.n_epochs, report)
