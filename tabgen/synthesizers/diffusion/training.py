"""The denoiser's training, ordinary or differentially private, on the shared trainer
(:class:`tabgen.nn.trainer.Trainer`).

One step: draw noise levels, Gaussian noise and known-column masks for the batch, score the
denoiser, take an AdamW step; the learning rate warms up linearly then decays linearly to 0,
and the weight average (``ema_decay``) is what samples.

DP-SGD (``privacy``, see :mod:`tabgen.privacy.dpsgd`):

* the private module is the whole :class:`~process.MixedDenoiser` (the MLP holds every
  trainable parameter, all in ``nn.Linear`` layers; the rest are buffers), so Opacus computes
  per-sample gradients of every weight, clips each to ``max_grad_norm``, adds Gaussian noise
  calibrated to ``(epsilon, delta)`` for ``epochs`` expected passes (``epochs / sample rate``
  steps, RDP accountant) and averages over the *expected* batch size;
* batches are Poisson samples (each row joins each step with probability ``batch_size / n``):
  their size varies and may be 0; an empty batch still takes its noise-only step, as the
  accountant assumes;
* the loss is :func:`process.private_training_loss`, the batch mean of per-row losses
  (:func:`process.row_losses`): each row's per-sample gradient is the gradient of its own
  loss, unlike the batch-wide averages of :func:`process.training_loss`; the draws are made
  per row inside the step, independently of the data;
* the learning-rate schedule runs over the expected number of steps (the late small steps
  average out much of the injected noise); the weight average only reads the released
  iterates: post-processing, no extra privacy cost;
* ``max_time`` stops after the step that exceeds it; the report then accounts for the steps
  actually taken (less ``epsilon`` spent than the target). (Ordinary fits instead shorten
  the learning-rate schedule to the steps the budget allows, measured on the first steps:
  ``Trainer(fit_schedule=True)``.)

Data-parallel training (``torchrun``) needs nothing here beyond passing ``trainer.parallel`` to
the loss, which draws for the global batch and scores this rank's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tabgen.nn.loop import optimizer_step
from tabgen.nn.trainer import Privacy, ShuffledBatches, Trainer, TrainingLog, warmup_linear
from tabgen.synthesizers.diffusion import process


@dataclass
class TrainConfig:
    """Settings of :func:`train` (from the estimator's parameters and constants)."""

    epochs: int
    batch_size: int
    lr: float
    ema_decay: float
    max_time: float | None
    verbose: bool
    lr_warmup: int
    noise: process.NoiseSettings
    low_precision: bool = False


def train(
    model: process.MixedDenoiser,
    X: torch.Tensor,
    generator: torch.Generator,
    config: TrainConfig,
    privacy=None,
) -> tuple[TrainingLog, process.MixedDenoiser, dict | None]:
    """Train ``model`` on the model-space rows ``X``; returns the log, the weight average to
    sample from and, with ``privacy`` (a :class:`~tabgen.privacy.dpsgd.DPSGDSettings`), the
    privacy report of the run (else ``None``)."""

    kind = X.device.type
    low = config.low_precision and privacy is None

    def step(index, trainer):
        xb = X[index]
        # under DP: the wrapped module's own method (Opacus' hooks sit on its Linear layers)
        with torch.autocast(kind, dtype=torch.bfloat16, enabled=low):
            loss = process.training_loss(
                model,
                xb,
                generator,
                config.noise,
                parallel=trainer.parallel,
                per_row=privacy is not None,
            )
        optimizer_step(trainer.optimizers["denoiser"], loss)
        return loss if xb.shape[0] else None  # an empty Poisson batch has no loss

    # fused AdamW (one kernel for all parameters) where torch has it; Opacus' optimiser
    # wraps the plain one
    fused = True if privacy is None and kind in ("cpu", "cuda") else None
    opt = torch.optim.AdamW(list(model.parameters()), lr=config.lr, weight_decay=0.0, fused=fused)
    trainer = Trainer(
        step,
        None if privacy is not None else ShuffledBatches(X.shape[0], config.batch_size, generator),
        epochs=config.epochs,
        optimizers={"denoiser": opt},
        lr_at=warmup_linear(config.lr, config.lr_warmup),
        average=model,
        ema_decay=config.ema_decay,
        max_time=config.max_time,
        fit_schedule=privacy is None,  # the decay ends within max_time
        verbose=config.verbose,
        privacy=None if privacy is None else Privacy(model, "denoiser", X, privacy),
        rows=X,
        name="diffusion" if privacy is None else "diffusion (DP)",
    )
    report = None
    if privacy is None:
        log = trainer.run()
    else:
        trainer.private.module.train()
        log = trainer.run()
        report = trainer.privacy_report()
        report["private_network"] = "denoiser"
        trainer.private.module.eval()
    return log, trainer.average.module, report
