"""The VAE's training, ordinary or differentially private, on the shared trainer
(:class:`tabgen.nn.trainer.Trainer`): minibatch ELBO steps with a warmed-up KL weight."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from tabgen.nn.loop import optimizer_step
from tabgen.nn.trainer import Privacy, ShuffledBatches, Trainer, TrainingLog, cosine
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


def train(
    encoder: Encoder,
    decoder: Decoder,
    X,
    layout: Layout,
    config: TrainConfig,
    generator: torch.Generator,
    privacy=None,
) -> tuple[TrainingLog, Decoder, dict | None]:
    """Fit ``encoder`` and ``decoder`` on the encoded rows ``X`` (a tensor, or an
    :class:`~tabgen.nn.rows.ArrayRows` reading minibatches off a disk-backed matrix).

    Adam with a cosine learning-rate decay; the KL weight rises linearly from 0 to
    ``config.beta`` over the first ``config.beta_warmup`` of the steps. Returns the training
    log, the decoder to sample from (a weight average when ``config.ema_decay > 0``) and,
    with ``privacy``, the privacy report (else ``None``).

    Inside a ``torch.distributed`` process group of several processes (``torchrun``),
    training is data-parallel (:mod:`tabgen.nn.distributed`): every rank draws the shuffles,
    condition masks and latent noise of the whole batch, keeps its slice of the rows, and
    ``DistributedDataParallel`` averages the gradients, so that the result equals
    single-process training with the same seed and ``batch_size`` up to float rounding.

    With ``privacy`` (a :class:`~tabgen.privacy.dpsgd.DPSGDSettings`: DP-SGD through Opacus)
    both networks see the rows, so both are privatized: encoder, decoder (with its
    conditional prior) and the log-scales form one module whose per-sample gradients are
    clipped to ``max_grad_norm`` and noised; batches are Poisson samples of expected size
    ``config.batch_size``. The condition masks are drawn per row inside each step. The
    weight average of the decoder is post-processing.
    """
    builder = ConditionBuilder(layout, X.device)
    if privacy is None:
        joint = _JointVAE(encoder, decoder)
        params = list(encoder.parameters()) + list(decoder.parameters())
        observed = None  # per batch (X may be read off disk)
    else:
        joint = _PrivateVAE(encoder, decoder)
        params = [p for p in joint.parameters() if p.requires_grad]
        observed = builder.observed(X)
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)

    def step(index, trainer):
        xb = X[index]
        seen = builder.observed(xb) if observed is None else observed[index]
        include = builder.training_mask(seen, generator, config.cond_fraction)
        eps = torch.randn(
            (xb.shape[0], encoder.latent_dim), generator=generator, device=X.device, dtype=X.dtype
        )
        # data-parallel: the same draws on every rank; each keeps its rows
        xb, include, eps = trainer.local(xb, include, eps)
        cond = builder.vector(xb, include)
        model = trainer.module if privacy is None else trainer.private.module
        out, log_scale, posterior, prior = model(xb, cond, eps)
        beta = beta_at(trainer.step, trainer.total_steps, config.beta, config.beta_warmup)
        loss, _rec, _kl = negative_elbo(
            out, xb, log_scale, posterior, prior, layout, beta, builder.free_slots(include)
        )
        optimizer_step(trainer.optimizers["vae"], loss)
        if privacy is not None:
            joint.sync_scale()
        return loss if xb.shape[0] else None  # an empty Poisson batch has no loss

    dp = privacy is not None
    trainer = Trainer(
        step,
        None if dp else ShuffledBatches(X.shape[0], config.batch_size, generator),
        epochs=config.epochs,
        optimizers={"vae": opt},
        lr_at=cosine(config.lr),
        average=decoder if config.ema_decay > 0 else None,  # copied before Opacus' hooks
        ema_decay=config.ema_decay,
        max_time=config.max_time,
        verbose=config.verbose,
        privacy=Privacy(joint, "vae", X, privacy) if dp else None,
        wrap=None if dp else joint,
        rows=X,
        name="vae (DP)" if dp else "vae",
    )
    encoder.train()
    decoder.train()
    if dp:
        trainer.private.module.train()
    log = trainer.run()
    report = trainer.privacy_report() if dp else None
    if dp:
        trainer.private.module.eval()
    encoder.eval()
    decoder.eval()
    sampler = trainer.average.module if trainer.average is not None else decoder
    return log, sampler.requires_grad_(False).eval(), report
