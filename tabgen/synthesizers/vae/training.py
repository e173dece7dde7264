"""The training loop: minibatch ELBO steps with a warmed-up KL weight and a time budget."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tabgen.nn import TrainingLog, WeightAverage, run_epochs
from tabgen.synthesizers.vae.conditioning import ConditionBuilder
from tabgen.synthesizers.vae.decoder import Decoder
from tabgen.synthesizers.vae.encoder import Encoder, reparameterize
from tabgen.synthesizers.vae.layout import Layout
from tabgen.synthesizers.vae.loss import beta_at, negative_elbo


@dataclass
class TrainConfig:
    """Settings of :func:`train` (taken from the estimator's parameters)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    beta: float
    beta_warmup: float
    cond_fraction: float
    ema_decay: float
    max_time: float | None
    verbose: bool


def train(
    encoder: Encoder,
    decoder: Decoder,
    X: torch.Tensor,
    layout: Layout,
    config: TrainConfig,
    generator: torch.Generator,
) -> tuple[TrainingLog, Decoder]:
    """Fit ``encoder`` and ``decoder`` on the encoded rows ``X``.

    Adam with a cosine learning-rate decay; the KL weight rises linearly from 0 to
    ``config.beta`` over the first ``config.beta_warmup`` of the steps. Returns the training
    log and the decoder to sample from (a weight average when ``config.ema_decay > 0``).
    """
    builder = ConditionBuilder(layout, X.device)
    observed = builder.observed(X)
    n = X.shape[0]
    per_epoch = max(n // max(1, min(config.batch_size, n)), 1)
    total = config.epochs * per_epoch
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))
    )
    ema = WeightAverage(decoder, config.ema_decay) if config.ema_decay > 0 else None
    encoder.train()
    decoder.train()

    def step(index, epoch, step_no):
        xb = X[index]
        include = builder.training_mask(observed[index], generator, config.cond_fraction)
        cond = builder.vector(xb, include)
        mu, logvar = encoder(xb, cond)
        z = reparameterize(mu, logvar, generator)
        out, log_scale = decoder(z, cond)
        beta = beta_at(step_no, total, config.beta, config.beta_warmup)
        prior = decoder.prior_params(cond)
        loss, _rec, _kl = negative_elbo(
            out,
            xb,
            log_scale,
            (mu, logvar),
            prior,
            layout,
            beta,
            builder.free_slots(include),
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if ema is not None:
            ema.update()
        return float(loss.detach())

    log = run_epochs(
        step,
        n,
        epochs=config.epochs,
        batch_size=config.batch_size,
        generator=generator,
        max_time=config.max_time,
        verbose=config.verbose,
        name="vae",
    )
    encoder.eval()
    decoder.eval()
    sampler = ema.module if ema is not None else decoder
    return log, sampler.requires_grad_(False).eval()
