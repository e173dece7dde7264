"""The adversarial step: critic steps, then one generator step, on batches drawn by the
condition sampler; epochs, weight average, time budget and progress come from
:class:`tabgen.nn.trainer.Trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tabgen.nn import frozen
from tabgen.nn.trainer import ShuffledBatches, Trainer, TrainingLog
from tabgen.synthesizers.gan.critic import Critic
from tabgen.synthesizers.gan.generator import Generator, apply_heads, recalibrate_batchnorm
from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.loss import condition_cross_entropy, critic_loss, generator_loss
from tabgen.synthesizers.gan.sampler import ConditionSampler


@dataclass
class GanParts:
    """What every GAN training run works on.

    Attributes
    ----------
    generator, critic : torch.nn.Module
        The networks, already on the device of ``dense``.
    layout : GanLayout
        The expanded layout.
    sampler : ConditionSampler
        Conditions (and, for ordinary training, matching rows).
    dense, codes : torch.Tensor
        The training rows: dense expanded part (float32) and category codes (int64).
    noise_dim : int
        Width of the generator's noise.
    cpu_gen, device_gen : torch.Generator
        Randomness for the sampler (CPU) and for noise, dropout and penalties (device).
    """

    generator: Generator
    critic: Critic
    layout: GanLayout
    sampler: ConditionSampler
    dense: torch.Tensor
    codes: torch.Tensor
    noise_dim: int
    cpu_gen: torch.Generator
    device_gen: torch.Generator


class GanRun:
    """The state both GAN trainers share: the parts as attributes, Adam for each network
    (betas 0.5, 0.9) and, once trained, the generator's weight average ``average``."""

    def __init__(self, parts: GanParts, lr: float):
        for name in GanParts.__dataclass_fields__:
            setattr(self, name, getattr(parts, name))
        self.device = parts.dense.device
        adam = {"lr": lr, "betas": (0.5, 0.9), "weight_decay": 1e-6}
        self.opt_g = torch.optim.Adam(parts.generator.parameters(), **adam)
        self.opt_d = torch.optim.Adam(parts.critic.parameters(), **adam)
        self.average = None  # the generator's weight average, once trained


class GanTrainer(GanRun):
    """One WGAN-GP training run.

    Parameters
    ----------
    parts : GanParts
        Networks, layout, sampler, training rows and generators.
    batch_size : int
        Rows per step (a multiple of the critic's ``pac``).
    lr : float
        Adam learning rate of both networks.
    critic_steps : int
        Critic updates per generator update.
    ema_decay : float
        Decay of the running average of the generator's weights (``average``), which is
        what samples in the end: it smooths the oscillations of adversarial training.
    """

    def __init__(
        self, parts: GanParts, *, batch_size: int, lr: float, critic_steps: int,
        ema_decay: float = 0.995,
    ):  # fmt: skip
        super().__init__(parts, lr)
        self.batch_size = batch_size
        self.critic_steps = critic_steps
        self.ema_decay = ema_decay

    # -- batches ----------------------------------------------------------------------------
    def draw(self, n: int, *, with_rows: bool):
        """Noise + conditional vector, the conditions, and (optionally) matching real rows."""
        noise = torch.randn(n, self.noise_dim, generator=self.device_gen, device=self.device)
        if self.sampler.active:
            col, cat = self.sampler.sample_conditions(n, self.cpu_gen)
            cond = self.sampler.condition_vectors(cat).to(self.device)
            rows = self.sampler.sample_rows(cat, self.cpu_gen) if with_rows else None
        else:
            col = cat = None
            cond = torch.zeros(n, 0, device=self.device)
            rows = torch.randint(self.dense.shape[0], (n,), generator=self.cpu_gen)
        real = None
        if with_rows:
            rows = rows.to(self.device)
            real = self.layout.expand(self.dense[rows], self.codes[rows])
        return torch.cat([noise, cond], dim=1), cond, col, cat, real

    # -- one step ---------------------------------------------------------------------------
    def step(self, index, trainer) -> dict:
        """Critic updates then a generator update; returns both losses (the rows come from
        the condition sampler, not from ``index``).

        The generator update scores the fake batch of the last critic update again (with
        the updated critic) instead of drawing a fresh one: one generator forward pass per
        step instead of two, the graph kept from the critic step.
        """
        b, parallel = self.batch_size, trainer.parallel
        for k in range(self.critic_steps):
            z, cond, col, cat, real = self.draw(b, with_rows=True)
            last = k == self.critic_steps - 1
            with torch.set_grad_enabled(last):  # only the last batch trains the generator
                raw = self.generator(z)
                fake = apply_heads(raw, self.layout, self.device_gen)
            # data-parallel: the generator runs on the global batch on every rank (its
            # batch norm sees the whole batch); the critic scores this rank's rows
            real, fake_rows, cond_rows = trainer.local(real, fake, cond)
            loss_d = critic_loss(
                self.critic,
                torch.cat([real, cond_rows], dim=1),
                torch.cat([fake_rows.detach(), cond_rows], dim=1),
                self.device_gen,
                parallel=parallel,
            )
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
        ce = (
            condition_cross_entropy(raw, self.layout, col.to(self.device), cat.to(self.device))
            if col is not None
            else raw.new_zeros(())
        )
        with frozen(self.critic):  # the generator's loss needs no critic gradients
            score = self.critic(torch.cat([fake_rows, cond_rows], dim=1), self.device_gen, parallel)
            loss_g = generator_loss(score, ce)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        self.opt_g.step()
        return {"generator": loss_g, "critic": loss_d}

    def run(self, *, epochs: int, max_time, verbose: bool) -> TrainingLog:
        """Train for ``epochs`` passes (``n_rows // batch_size`` steps each, at least one)."""
        self.generator.train()
        self.critic.train()
        # the shuffles drive nothing (the sampler picks the rows) but keep the seeded stream
        trainer = Trainer(
            self.step,
            ShuffledBatches(self.dense.shape[0], self.batch_size, self.cpu_gen),
            epochs=epochs,
            optimizers={"generator": self.opt_g, "critic": self.opt_d},
            average=self.generator,
            ema_decay=self.ema_decay,
            max_time=max_time,
            verbose=verbose,
            rows=self.dense,
            name="gan",
        )
        if trainer.parallel is not None and self.batch_size % (
            trainer.parallel.world_size * self.critic.pac
        ):
            raise ValueError(
                f"batch_size={self.batch_size} must be a multiple of pac={self.critic.pac} "
                f"times the {trainer.parallel.world_size} data-parallel processes"
            )
        self.average = trainer.average
        return trainer.run()

    def sampling_generator(self) -> Generator:
        """The trained generator's weight average, frozen, with its batch-norm statistics
        re-estimated: it is what samples."""
        average = self.average.module
        # statistics of training-like batches (conditions by log-frequency): estimating them
        # on generation-like batches (true frequencies) measured worse on Adult
        recalibrate_batchnorm(average, lambda: self.draw(int(self.batch_size), with_rows=False)[0])
        return average.requires_grad_(False)
