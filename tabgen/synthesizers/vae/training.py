"""The training loop: minibatch ELBO steps with a warmed-up KL weight and a time budget."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from tabgen.nn import TrainingLog, WeightAverage, run_epochs
from tabgen.nn.distributed import data_parallel
from tabgen.nn.rows import checksum
from tabgen.synthesizers.vae.conditioning import ConditionBuilder
from tabgen.synthesizers.vae.decoder import Decoder
from tabgen.synthesizers.vae.encoder import Encoder
from tabgen.synthesizers.vae.layout import Layout
from tabgen.synthesizers.vae.loss import beta_at, negative_elbo

logger = logging.getLogger("tabgen")


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


class _JointVAE(nn.Module):
    """Encoder and decoder as one module (the unit ``DistributedDataParallel`` wraps): one
    forward pass from rows, condition vectors and latent noise to the ELBO's inputs."""

    def __init__(self, encoder: Encoder, decoder: Decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, xb: torch.Tensor, cond: torch.Tensor, eps: torch.Tensor):
        mu, logvar = self.encoder(xb, cond)
        z = mu + torch.exp(0.5 * logvar) * eps  # reparameterisation with given noise
        out, log_scale = self.decoder(z, cond)
        return out, log_scale, (mu, logvar), self.decoder.prior_params(cond)


def train(
    encoder: Encoder,
    decoder: Decoder,
    X: torch.Tensor,
    layout: Layout,
    config: TrainConfig,
    generator: torch.Generator,
) -> tuple[TrainingLog, Decoder]:
    """Fit ``encoder`` and ``decoder`` on the encoded rows ``X`` (a tensor, or an
    :class:`~tabgen.nn.rows.ArrayRows` reading minibatches off a disk-backed matrix).

    Adam with a cosine learning-rate decay; the KL weight rises linearly from 0 to
    ``config.beta`` over the first ``config.beta_warmup`` of the steps. Returns the training
    log and the decoder to sample from (a weight average when ``config.ema_decay > 0``).

    Inside a ``torch.distributed`` process group of several processes (``torchrun``),
    training is data-parallel (:mod:`tabgen.nn.distributed`): every rank draws the shuffles,
    condition masks and latent noise of the whole batch, keeps its slice of the rows, and
    ``DistributedDataParallel`` averages the gradients, so that the result equals
    single-process training with the same seed and ``batch_size`` up to float rounding.
    """
    builder = ConditionBuilder(layout, X.device)
    n = X.shape[0]
    batch = max(1, min(config.batch_size, n))
    per_epoch = max(n // batch, 1)
    total = config.epochs * per_epoch
    parallel = data_parallel()
    joint = _JointVAE(encoder, decoder)
    model = joint
    if parallel is not None:
        if config.max_time is not None:  # ranks would stop at different steps
            raise ValueError("max_time is not supported in data-parallel training; use epochs")
        parallel.check_batch(batch)
        parallel.check_same("training data", [n, X.shape[1], checksum(X)])
        model = parallel.wrap(joint)
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
        include = builder.training_mask(builder.observed(xb), generator, config.cond_fraction)
        eps = torch.randn(
            (xb.shape[0], encoder.latent_dim), generator=generator, device=X.device, dtype=X.dtype
        )
        if parallel is not None:  # the same draws on every rank; each keeps its rows
            rows = parallel.local_rows(xb.shape[0])
            xb, include, eps = xb[rows], include[rows], eps[rows]
        cond = builder.vector(xb, include)
        out, log_scale, posterior, prior = model(xb, cond, eps)
        beta = beta_at(step_no, total, config.beta, config.beta_warmup)
        loss, _rec, _kl = negative_elbo(
            out,
            xb,
            log_scale,
            posterior,
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
        value = loss.detach()
        return float(value if parallel is None else parallel.mean(value))

    log = run_epochs(
        step,
        n,
        epochs=config.epochs,
        batch_size=config.batch_size,
        generator=generator,
        max_time=config.max_time,
        verbose=config.verbose and (parallel is None or parallel.rank == 0),
        name="vae",
    )
    encoder.eval()
    decoder.eval()
    sampler = ema.module if ema is not None else decoder
    return log, sampler.requires_grad_(False).eval()


class _PrivateVAE(nn.Module):
    """Encoder, decoder and a per-row copy of the decoder's log-scales as one module, the
    unit that Opacus wraps: every trainable parameter then sits in a layer with per-sample
    gradients (``nn.Linear``). The log-scale is ``Linear(1, k)`` applied to a column of ones,
    so that its per-sample gradient is defined; it is copied back into the decoder after
    every step."""

    def __init__(self, encoder: Encoder, decoder: Decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        k = decoder.log_scale.numel()
        self.scale = nn.Linear(1, k, bias=False).to(decoder.log_scale.device)
        with torch.no_grad():
            self.scale.weight.copy_(decoder.log_scale.detach()[:, None])
        decoder.log_scale.requires_grad_(False)

    def forward(self, xb: torch.Tensor, cond: torch.Tensor, eps: torch.Tensor):
        mu, logvar = self.encoder(xb, cond)
        z = mu + torch.exp(0.5 * logvar) * eps
        ones = torch.ones(xb.shape[0], 1, dtype=xb.dtype, device=xb.device)
        out, log_scale = self.decoder(z, cond, log_scale=self.scale(ones))
        prior = self.decoder.prior_params(cond)
        return out, log_scale, (mu, logvar), prior

    @torch.no_grad()
    def sync_scale(self) -> None:
        self.decoder.log_scale.copy_(self.scale.weight[:, 0])


def train_private(
    encoder: Encoder,
    decoder: Decoder,
    X: torch.Tensor,
    layout: Layout,
    config: TrainConfig,
    generator: torch.Generator,
    max_grad_norm: float,
    epsilon: float,
    delta: float,
) -> tuple[TrainingLog, Decoder, dict]:
    """DP-SGD version of :func:`train` (Opacus; see :mod:`tabgen.privacy.dpsgd`).

    Both networks see the rows, so both are privatized: encoder, decoder (with its
    conditional prior) and the log-scales form one module whose per-sample gradients are
    clipped to ``max_grad_norm`` and noised; batches are Poisson samples of expected size
    ``config.batch_size``. The condition masks are drawn per row inside each step. The
    weight average of the decoder is post-processing. Returns the log, the decoder to
    sample from and the privacy report of the run.
    """
    import time

    from tabgen.privacy.dpsgd import DPSGDSettings, make_private

    builder = ConditionBuilder(layout, X.device)
    observed = builder.observed(X)
    joint = _PrivateVAE(encoder, decoder)
    params = [p for p in joint.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    ema = WeightAverage(decoder, config.ema_decay) if config.ema_decay > 0 else None  # before hooks
    settings = DPSGDSettings(epsilon, delta, max_grad_norm, config.batch_size, config.epochs)
    run = make_private(joint, opt, X, settings)
    total = max(config.epochs * len(run.loader), 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        run.optimizer, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))
    )
    run.module.train()
    log = TrainingLog()
    start = time.monotonic()
    for epoch in range(config.epochs):
        losses = []
        for (index,) in run.loader:
            xb = X[index]
            include = builder.training_mask(observed[index], generator, config.cond_fraction)
            cond = builder.vector(xb, include)
            eps = torch.randn(
                (xb.shape[0], encoder.latent_dim),
                generator=generator,
                device=X.device,
                dtype=X.dtype,
            )
            out, log_scale, posterior, prior = run.module(xb, cond, eps)
            beta = beta_at(log.n_steps, total, config.beta, config.beta_warmup)
            loss, _rec, _kl = negative_elbo(
                out, xb, log_scale, posterior, prior, layout, beta, builder.free_slots(include)
            )
            run.optimizer.zero_grad(set_to_none=True)
            with warnings.catch_warnings():  # Opacus' hooks on the first layer: expected
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                loss.backward()
            run.optimizer.step()
            sched.step()
            joint.sync_scale()
            if ema is not None:
                ema.update()
            log.n_steps += 1
            if xb.shape[0]:
                losses.append(float(loss.detach()))
            if config.max_time is not None and time.monotonic() - start > config.max_time:
                log.stopped_early = True
                break
        log.losses.append(sum(losses) / max(len(losses), 1))
        log.n_epochs = epoch + 1
        if config.verbose:
            logger.info(  # no loss: it reads the rows without noise
                "vae (DP): epoch %d/%d  %d private steps", epoch + 1, config.epochs, log.n_steps
            )
        if log.stopped_early:
            break
    log.seconds = time.monotonic() - start
    report = run.report(log.n_steps)
    run.module.eval()
    decoder.eval()
    sampler = ema.module if ema is not None else decoder
    return log, sampler.requires_grad_(False).eval(), report
