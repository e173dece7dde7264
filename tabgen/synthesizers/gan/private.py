"""Differentially private training of the GAN: only the critic reads the training rows, and
the critic is trained with DP-SGD (Opacus, :mod:`tabgen.privacy.dpsgd`).

The generator never sees a row: its only access to the data is the gradient of the critic's
score, and the critic's weights are the output of DP-SGD, so the generator, its weight
average and its re-estimated batch-norm statistics are post-processing. What changes
against :class:`~tabgen.synthesizers.gan.training.GanTrainer` and why:

* **real rows** come from the Poisson loader of :func:`~tabgen.privacy.dpsgd.make_private`
  (each row joins each batch independently with probability ``batch_size / n``), not from
  training-by-sampling: picking rows by category would break the accountant's assumption
  on how batches are drawn. Each real row gets its own conditional vector: a column drawn
  uniformly (among the columns with a released category), and the row's own category in
  it. A ``(row, condition)`` pair therefore depends on that row alone;
* **fake rows** of a critic step are ``batch_size`` rows (the expected batch, a public
  number) whose conditions are drawn from the *released* category frequencies with the same
  law (column uniformly, category by frequency), independently of the real batch: a batch
  with no real row still makes a (noise-only) step;
* **one pass, one clipped gradient per row**: real and fake rows are scored in one forward
  pass and the loss is ``sum(per-row terms) / rows``; Opacus rescales the backward pass by
  the number of rows of the pass, so each row's per-sample gradient is the gradient of its
  own term, clipped to ``max_grad_norm`` alone (a real row touches exactly one clipped
  gradient), and the optimizer divides the noisy sum by the expected batch size. The fake
  terms cost no privacy (they do not depend on the rows) but are clipped as well;
* **pac = 1**: a pack of several rows would let one added or removed row change a whole
  pack's gradient, and the rows of a pack would no longer be sampled independently;
* **no gradient penalty**: it needs a double backward through the critic, which Opacus'
  per-sample hooks cannot do. The loss is the logistic (non-saturating) GAN loss by default,
  or the Wasserstein loss with the critic's weights clipped after each step (clipping is
  post-processing of the private weights, so it is privacy-free); see :data:`LOSSES`. The
  logistic loss is the default because, under DP-SGD's clipping and noise, it kept the
  shape and trained a more useful generator than the clipped Wasserstein loss (figures
  in ``benchmarks/RESULTS.md``);
* **the generator step** back-propagates through the critic with Opacus' hooks disabled
  and the critic's parameters frozen, so that it leaves no per-sample or ordinary gradient
  in the critic (the critic's gradients are cleared again before each private step).

``epochs`` counts expected passes of the *critic* over the rows: the accountant composes
``epochs * n / batch_size`` private steps, whatever ``critic_steps`` (which only sets how
many private critic steps come before each generator step).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tabgen.nn import frozen, optimizer_step
from tabgen.nn.trainer import Privacy, Trainer, TrainingLog
from tabgen.synthesizers.gan.generator import Generator, apply_heads, recalibrate_batchnorm
from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.loss import condition_cross_entropy
from tabgen.synthesizers.gan.training import GanParts, GanRun

logger = logging.getLogger("tabgen")

#: Critic losses without gradient penalty: ``"logistic"`` (cross-entropy of real against
#: fake, non-saturating generator loss) and ``"wgan-clip"`` (Wasserstein loss with the
#: critic's weights clipped to ``[-clip_value, clip_value]`` after each step).
LOSSES = ("logistic", "wgan-clip")
#: Released category frequencies become integer condition counts in units of 1e-9.
FREQUENCY_UNITS = 10**9


@dataclass
class PrivateGanConfig:
    """Settings of :class:`PrivateGanTrainer` (taken from the estimator's parameters)."""

    epochs: int
    batch_size: int
    lr: float
    critic_steps: int
    max_time: float | None
    verbose: bool
    loss: str = "logistic"
    clip_value: float = 0.01
    ema_decay: float = 0.995


def critic_terms(real: torch.Tensor, fake: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-row critic loss terms, real rows then fake rows (scores of shape ``(n,)``)."""
    if loss == "logistic":
        return torch.cat([nn.functional.softplus(-real), nn.functional.softplus(fake)])
    return torch.cat([-real, fake])


def generator_terms(fake: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-row generator loss terms (``-log D(fake)`` or ``-D(fake)``)."""
    if loss == "logistic":
        return nn.functional.softplus(-fake)
    return -fake


@torch.no_grad()
def shrink_continuous_heads(generator: Generator, layout: GanLayout) -> None:
    """Divide the output weights and biases of the continuous slots by the layout's
    ``continuous_scale``: ``scale * tanh(raw / scale)`` then starts out as the identity on
    the encoder's (quantile-normal) units instead of spreading the first rows over the
    whole ``tanh`` range. A data-independent initialisation."""
    scale = layout.continuous_scale
    if scale == 1.0:
        return
    rows = [b.start for b in layout.dense_blocks if b.span.kind == "continuous"]
    if rows:
        generator.out.weight[rows] /= scale
        generator.out.bias[rows] /= scale


class PrivateGanTrainer(GanRun):
    """One differentially private GAN training run (see the module docstring).

    Parameters
    ----------
    parts : GanParts
        Networks (the critic packs one row), layout, training rows and generators (the CPU
        one also seeds nothing of DP-SGD: see :mod:`tabgen.privacy.dpsgd`). The sampler is
        built from the released category frequencies (``from_counts``): the law of the fake
        rows' conditions; it never indexes rows.
    config : PrivateGanConfig
        Epochs, expected batch size, learning rate, loss...
    max_grad_norm, epsilon, delta : float
        DP-SGD clipping norm and the ``(epsilon, delta)`` target of the critic's training.
    """

    def __init__(
        self, parts: GanParts, *, config: PrivateGanConfig, max_grad_norm: float,
        epsilon: float, delta: float,
    ):  # fmt: skip
        from tabgen.privacy.dpsgd import DPSGDSettings

        if parts.critic.pac != 1:
            raise ValueError(
                f"the private critic must score single rows (pac=1), got {parts.critic.pac}"
            )
        if config.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {config.loss!r}")
        super().__init__(parts, config.lr)
        self.config = config
        n = parts.dense.shape[0]
        self.batch = max(1, min(int(config.batch_size), n))  # fake rows per step (public)
        self.settings = DPSGDSettings(epsilon, delta, max_grad_norm, self.batch, config.epochs)
        self.run_ = None  # the critic's DP-SGD run (Opacus), while training
        self._usable = parts.sampler._usable  # columns with a released category (public)
        self._offsets = torch.as_tensor(parts.layout.cond_offsets, device=self.device)

    # -- batches ----------------------------------------------------------------------------
    def _one_hot(self, category: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(category), self.layout.cond_width, device=self.device)
        out[torch.arange(len(category), device=self.device), category] = 1.0
        return out

    def draw(self, n: int):
        """Generator input (noise + conditional vector), the conditional vector and the
        conditions ``(column, category)`` of ``n`` fake rows, conditions drawn from the
        released frequencies (column uniformly, then a category by frequency)."""
        noise = torch.randn(n, self.noise_dim, generator=self.device_gen, device=self.device)
        if not self.sampler.active:
            return noise, noise.new_zeros(n, 0), None, None
        col, cat = self.sampler.sample_conditions(n, self.cpu_gen, train=False)
        col, cat = col.to(self.device), cat.to(self.device)
        cond = self._one_hot(cat)
        return torch.cat([noise, cond], dim=1), cond, col, cat

    def real_batch(self, index: torch.Tensor) -> torch.Tensor:
        """Expanded real rows of a Poisson batch with their own conditional vectors: a
        column drawn uniformly per row (among the usable ones), the row's own category."""
        index = index.to(self.device)
        real = self.layout.expand(self.dense[index], self.codes[index])
        if not self.sampler.active:
            return real
        pick = torch.randint(len(self._usable), (len(index),), generator=self.cpu_gen)
        col = self._usable[pick].to(self.device)
        cat = self._offsets[col] + self.codes[index, col]
        return torch.cat([real, self._one_hot(cat)], dim=1)

    # -- steps ------------------------------------------------------------------------------
    def critic_step(self, index: torch.Tensor) -> torch.Tensor:
        """One DP-SGD step of the critic on a Poisson batch of real rows plus
        ``batch_size`` fake rows."""
        run, cfg = self.run_, self.config
        real = self.real_batch(index)
        z, cond, _, _ = self.draw(self.batch)
        with torch.no_grad():  # the critic's loss does not reach the generator
            fake = apply_heads(self.generator(z), self.layout, self.device_gen)
        x = torch.cat([real, torch.cat([fake, cond], dim=1)], dim=0)
        scores = run.module(x, self.device_gen).reshape(-1)
        b = real.shape[0]
        terms = critic_terms(scores[:b], scores[b:], cfg.loss)
        # Opacus multiplies the backward pass by the rows of the pass ("mean" reduction):
        # each row's per-sample gradient is then the gradient of its own term
        loss = terms.sum() / x.shape[0]
        optimizer_step(run.optimizer, loss)  # clears what the generator step left
        if cfg.loss == "wgan-clip":  # post-processing of the private weights
            with torch.no_grad():
                for p in self.critic.parameters():
                    p.clamp_(-cfg.clip_value, cfg.clip_value)
        return terms.detach().mean()

    def generator_step(self) -> torch.Tensor:
        """One ordinary step of the generator through the (frozen, unhooked) critic."""
        z, cond, col, cat = self.draw(self.batch)
        raw = self.generator(z)
        fake = apply_heads(raw, self.layout, self.device_gen)
        ce = (
            condition_cross_entropy(raw, self.layout, col, cat)
            if col is not None
            else raw.new_zeros(())
        )
        gsm = self.run_.module
        gsm.disable_hooks()
        try:
            with frozen(self.critic):
                score = self.critic(torch.cat([fake, cond], dim=1), self.device_gen).reshape(-1)
                loss = generator_terms(score, self.config.loss).mean() + ce
                self.opt_g.zero_grad(set_to_none=True)
                loss.backward()
                self.opt_g.step()
        finally:
            gsm.enable_hooks()
        self.run_.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def step(self, index: torch.Tensor, trainer: Trainer) -> dict:
        """One private critic step on a Poisson batch, and a generator step after every
        ``critic_steps`` of them."""
        losses = {"critic": self.critic_step(index)}
        if (trainer.step + 1) % self.config.critic_steps == 0:
            losses["generator"] = self.generator_step()
        return losses

    def run(self) -> tuple[TrainingLog, dict]:
        """Train for ``config.epochs`` expected passes of the critic; returns the log (mean
        generator loss per epoch) and the privacy report of the critic's DP-SGD."""
        cfg = self.config
        trainer = Trainer(
            self.step,
            epochs=cfg.epochs,
            optimizers={"generator": self.opt_g, "critic": self.opt_d},
            average=self.generator,
            ema_decay=cfg.ema_decay,
            average_after="generator",
            max_time=cfg.max_time,
            verbose=cfg.verbose,
            privacy=Privacy(self.critic, "critic", self.dense, self.settings),
            name="gan (DP)",
        )
        self.average, self.run_ = trainer.average, trainer.private
        self.generator.train()
        self.run_.module.train()
        log = trainer.run()
        self.run_.module.eval()
        self.generator.eval()
        report = trainer.privacy_report()
        report["generator_steps"] = int(log.counts.get("generator", 0))
        return log, report

    def sampling_generator(self) -> Generator:
        """The trained generator's weight average, frozen, with its batch-norm statistics
        re-estimated: it is what samples."""
        average = self.average.module
        # generated rows only: post-processing of the private critic's output
        recalibrate_batchnorm(average, lambda: self.draw(self.batch)[0])
        return average.requires_grad_(False)


def train_private(
    parts: GanParts, config: PrivateGanConfig, max_grad_norm: float, budget: dict
) -> tuple[TrainingLog, dict, nn.Module]:
    """Train ``parts`` with DP-SGD on the critic within ``budget`` (its ``epsilon_model``
    and ``delta_model``).

    Returns
    -------
    log : TrainingLog
        Epochs run and loss history.
    report : dict
        The privacy report, with the GAN's private network, loss and pac added.
    generator : torch.nn.Module
        The generator to sample from.
    """
    trainer = PrivateGanTrainer(
        parts,
        config=config,
        max_grad_norm=max_grad_norm,
        epsilon=budget["epsilon_model"],
        delta=budget["delta_model"],
    )
    log, report = trainer.run()
    generator = trainer.sampling_generator()
    report.update(private_network="critic", loss=config.loss, pac=1)
    return log, report, generator


def released_counts(encoder, layout: GanLayout) -> np.ndarray:
    """Condition counts of the discrete blocks from the released (DP) encoder state:
    category frequencies times the observed rate, then the missing rate, in units of
    :data:`FREQUENCY_UNITS`."""
    parts = []
    for b in layout.categorical:
        enc = encoder.encoders_[b.span.column]
        rate = float(enc.missing_.rate_) if enc.missing_.enabled_ else 0.0
        if b.span.kind == "index":
            probs = (1.0 - rate) * np.asarray(enc.frequencies_, dtype="float64")
            if b.missing is not None:
                probs = np.append(probs, rate)
        else:  # the two-way missingness block of a number
            probs = np.array([1.0 - rate, rate])
        parts.append(np.rint(probs * FREQUENCY_UNITS).astype("int64"))
    return np.concatenate(parts) if parts else np.zeros(0, "int64")


def released_quantiles(schema, encoder) -> dict:
    """101 quantiles of every numeric column from its released CDF (DP mode)."""
    out = {}
    for spec in schema:
        if spec.kind in ("numerical", "integer"):
            cdf = encoder.encoders_[spec.name].cdf_
            out[spec.name] = cdf.ppf(np.linspace(0, 1, 101)).tolist()
    return out
