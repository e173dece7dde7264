"""The one training loop of every network: batches, a model's step, schedule, weight
average, time budget, early stopping, loss history, progress; DP-SGD and data-parallel
training as options.

A model supplies a *step function* ``step(index, trainer) -> losses``: it reads the rows
``index`` (a long tensor of row numbers, on the device of the batch source's generator), runs
its forward and backward passes and steps its optimisers (``trainer.optimizers``; several for
the GAN's critic/generator alternation), and returns its losses: a tensor or float, or a
dict ``{network: loss}`` (``None`` for a network that did not step this time, e.g. on an empty
Poisson batch). Everything else lives here:

* **batches**: :class:`ShuffledBatches` (one shuffle per epoch, in memory or over an
  :class:`~tabgen.nn.rows.ArrayRows` read off a memory-mapped file) or, with ``privacy``,
  Opacus' Poisson loader (:mod:`tabgen.privacy.dpsgd`);
* **learning rate**: ``lr_at(step, total_steps)`` sets every optimiser's rate before each
  step (:func:`warmup_linear`, :func:`cosine`);
* **weight average**: ``average`` gets a :class:`~tabgen.nn.ema.WeightAverage` updated after
  each step of its network (``average_after``);
* **budget and stopping**: ``max_time`` ends training after the step that exceeds it
  (``fit_schedule``: the learning-rate schedule is first shortened to end within it);
  ``stop(log)`` after an epoch ends it early (:class:`EarlyStopping`);
* **history and progress**: the mean loss of each epoch per network (:class:`TrainingLog`);
  ``progress(Progress)`` after every epoch, and a progress bar with ``verbose``;
* **DP-SGD** (``privacy``): the named optimiser's network is wrapped by Opacus (per-sample
  clipping, noise, Poisson batches); the step reads ``trainer.private`` (the
  :class:`~tabgen.privacy.dpsgd.DPSGDRun`) and :meth:`Trainer.privacy_report` says what was
  spent;
* **data-parallel** (``parallel``, under ``torchrun``; :mod:`tabgen.nn.distributed`): every
  rank draws the randomness of the whole global batch and keeps its rows
  (:meth:`Trainer.local`); gradients are averaged over the ranks, by
  ``DistributedDataParallel`` around the module ``wrap`` (``trainer.module``) or, without
  ``wrap``, before every optimiser step; losses are averaged over the processes and only
  rank 0 logs. Batch means over the local rows then average to the global batch mean;
  a loss with other denominators sums them over the ranks (``trainer.parallel.sum``).

The step function draws its randomness from generators it owns, in the order it chooses, so
that moving a model onto the trainer keeps its fixed-seed results.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from tabgen.nn.ema import WeightAverage

logger = logging.getLogger("tabgen")

#: The step function of a model: ``step(index, trainer) -> loss or {network: loss}``.
StepFunction = Callable[[torch.Tensor, "Trainer"], object]
#: Steps timed before ``fit_schedule`` sizes the schedule to the budget.
SCHEDULE_PROBE = 20


# -- batch sources ---------------------------------------------------------------------------
class ShuffledBatches:
    """Row indices of shuffled minibatches, one new shuffle per epoch.

    Parameters
    ----------
    n_rows : int
        Training rows.
    batch_size : int
        Rows per batch (capped at ``n_rows``).
    generator : torch.Generator
        Source of the shuffles (the indices live on its device).
    drop_last : bool, default=True
        Drop the ragged last batch (every step then sees the same number of rows); at
        least one batch per epoch either way.

    Examples
    --------
    >>> batches = ShuffledBatches(10, 4, torch.Generator().manual_seed(0))
    >>> len(batches), [len(b) for b in batches]
    (2, [4, 4])
    >>> [len(b) for b in ShuffledBatches(10, 4, torch.Generator(), drop_last=False)]
    [4, 4, 2]
    """

    def __init__(self, n_rows: int, batch_size: int, generator: torch.Generator, *,
                 drop_last: bool = True):  # fmt: skip
        self.n_rows = int(n_rows)
        self.batch_size = max(1, min(int(batch_size), self.n_rows))
        self.generator = generator
        self.drop_last = drop_last

    def __len__(self) -> int:
        if self.drop_last:
            return max(self.n_rows // self.batch_size, 1)
        return max(math.ceil(self.n_rows / self.batch_size), 1)

    def __iter__(self) -> Iterator[torch.Tensor]:
        gen = self.generator
        perm = torch.randperm(self.n_rows, generator=gen, device=gen.device)
        b = self.batch_size
        for k in range(len(self)):
            yield perm[k * b : (k + 1) * b]


class PoissonBatches:
    """Row indices of the Poisson batches of a DP-SGD run (each row joins each batch
    independently; a batch may be empty)."""

    def __init__(self, loader):
        self.loader = loader
        self.batch_size = max(1, round(loader.sample_rate * len(loader.dataset)))

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        for (index,) in self.loader:
            yield index


# -- learning-rate schedules -----------------------------------------------------------------
def warmup_linear(lr: float, warmup: int) -> Callable[[int, int], float]:
    """Linear warm-up over ``min(warmup, total // 10)`` steps (at least one), then linear
    decay to 0 at the last step.

    Examples
    --------
    >>> at = warmup_linear(1.0, 10)
    >>> [round(at(s, 100), 3) for s in (0, 9, 50, 99)]
    [0.1, 0.91, 0.5, 0.01]
    """

    def at(step: int, total: int) -> float:
        w = min(warmup, max(total // 10, 1))
        return lr * min(1.0, (step + 1) / w) * max(0.0, 1.0 - step / total)

    return at


def cosine(lr: float) -> Callable[[int, int], float]:
    """Cosine decay from ``lr`` to 0 over the run.

    Examples
    --------
    >>> at = cosine(1.0)
    >>> [round(at(s, 4), 3) for s in range(5)]
    [1.0, 0.854, 0.5, 0.146, 0.0]
    """

    def at(step: int, total: int) -> float:
        return lr * (0.5 * (1.0 + math.cos(math.pi * min(step, total) / total)))

    return at


# -- log, progress, early stopping -----------------------------------------------------------
@dataclass
class TrainingLog:
    """What a training run did.

    Attributes
    ----------
    history : dict of str to list of float
        Mean loss of each epoch for each network (over the steps that stepped it).
    n_epochs, n_steps : int
        Epochs and steps (step-function calls) run.
    counts : dict of str to int
        Steps that stepped each network.
    stopped_early : bool
        Whether ``max_time`` or ``stop`` ended training before the last epoch.
    seconds : float
        Wall time of the loop.
    """

    history: dict = field(default_factory=dict)
    n_epochs: int = 0
    n_steps: int = 0
    counts: dict = field(default_factory=dict)
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def losses(self) -> list:
        """The history of the first network (the model's main loss)."""
        return next(iter(self.history.values()), [])


@dataclass(frozen=True)
class Progress:
    """What the progress hook receives after each epoch."""

    name: str
    epoch: int  # epochs done
    total: int  # epochs planned
    step: int  # steps done
    loss: dict  # mean loss of this epoch per network
    seconds: float
    stopped: bool  # the time budget or early stopping ended training here


class LogProgress:
    """The ``verbose`` progress hook: a log line about ``n_logs`` times on the ``"tabgen"``
    logger (without losses when ``show_loss`` is false, as in DP training where the raw
    losses are not private)."""

    def __init__(self, n_logs: int = 20, show_loss: bool = True):
        self.n_logs = n_logs
        self.show_loss = show_loss

    def __call__(self, p: Progress) -> None:
        every = max(1, p.total // max(self.n_logs, 1))
        if not (p.stopped or p.epoch % every == 0 or p.epoch == p.total):
            return
        loss = "  ".join(f"{k} loss {v:.4f}" for k, v in p.loss.items()) if self.show_loss else ""
        logger.info(
            "%s: epoch %d/%d  %s  (%d steps, %.1fs)%s",
            p.name,
            p.epoch,
            p.total,
            loss,
            p.step,
            p.seconds,
            "  stopped" if p.stopped else "",
        )


class EarlyStopping:
    """Stop when ``score()`` (lower is better, e.g. a held-out loss) has not improved by
    ``min_delta`` for ``patience`` epochs; :meth:`restore` then loads the best weights of
    ``module`` seen after an improvement.

    Use it as the trainer's ``stop``; ``best`` starts at the score before training.
    """

    def __init__(self, score: Callable[[], float], module: nn.Module, *, patience: int = 3,
                 min_delta: float = 1e-4):  # fmt: skip
        self.score, self.module = score, module
        self.patience, self.min_delta = patience, min_delta
        self.best = score()
        self.best_state = None
        self.bad = 0

    def __call__(self, log: TrainingLog) -> bool:
        value = self.score()
        if value < self.best - self.min_delta:
            self.best, self.bad = value, 0
            self.best_state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
            return False
        self.bad += 1
        return self.bad >= self.patience

    def restore(self) -> None:
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)


# -- the trainer -----------------------------------------------------------------------------
@dataclass
class Privacy:
    """DP-SGD option: train ``optimizer``'s network (``module``) with DP-SGD over ``rows``."""

    module: nn.Module
    optimizer: str
    rows: object  # the training rows (their number and device)
    settings: object  # tabgen.privacy.dpsgd.DPSGDSettings


class Trainer:
    """One training run (see the module docstring).

    Parameters
    ----------
    step : callable
        ``step(index, trainer) -> loss or {network: loss}``.
    batches : ShuffledBatches, optional
        Batches of an ordinary run (with ``privacy``, the Poisson loader replaces them).
    epochs : int
        Passes over the batches.
    optimizers : dict of str to torch.optim.Optimizer
        The model's optimisers, by network.
    lr_at : callable, optional
        ``lr_at(step, total_steps) -> learning rate`` of every optimiser before each step.
    average : torch.nn.Module, optional
        A network whose weight average (``ema_decay``) is kept in ``trainer.average``.
    average_after : str, optional
        Update the average only after steps that return a loss for this network.
    max_time : float, optional
        Time budget in seconds (not with data-parallel training).
    fit_schedule : bool, default=False
        With ``max_time``: after ``SCHEDULE_PROBE`` steps, shorten ``total_steps`` (what
        ``lr_at`` sees) to the steps the rest of the budget allows at the pace so far, and
        end there, so that the learning-rate schedule runs to its end within the budget
        instead of being cut off.
    stop : callable, optional
        ``stop(log) -> bool`` after each epoch, e.g. :class:`EarlyStopping`.
    progress : callable, optional
        ``progress(Progress)`` after each epoch; ``verbose`` adds a progress bar
        (:class:`~tabgen._progress.ProgressBar`, on stderr; no logging) with the losses
        unless ``show_loss`` is false (default: not in DP runs). :class:`LogProgress` is the
        hook for log lines instead.
    privacy : Privacy, optional
        Train one optimiser's network with DP-SGD.
    parallel : DataParallel or None or "auto"
        Data-parallel context (``"auto"``: :func:`~tabgen.nn.distributed.data_parallel`).
    wrap : torch.nn.Module, optional
        The module to wrap in ``DistributedDataParallel`` (``trainer.module``).
    rows : tensor or ArrayRows, optional
        The training rows, checked to be the same on every rank.
    name : str
        Prefix of log lines.
    """

    def __init__(
        self,
        step: StepFunction,
        batches=None,
        *,
        epochs: int,
        optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
        lr_at: Callable[[int, int], float] | None = None,
        average: nn.Module | None = None,
        ema_decay: float = 0.0,
        average_after: str | None = None,
        max_time: float | None = None,
        fit_schedule: bool = False,
        stop: Callable[[TrainingLog], bool] | None = None,
        progress: Callable[[Progress], None] | None = None,
        verbose: bool = False,
        show_loss: bool | None = None,
        privacy: Privacy | None = None,
        parallel="auto",
        wrap: nn.Module | None = None,
        rows=None,
        name: str = "model",
    ):
        self._step = step
        self.epochs = int(epochs)
        self.optimizers = dict(optimizers or {})
        self.lr_at = lr_at
        self.max_time = max_time
        self.fit_schedule = bool(fit_schedule) and max_time is not None
        self.stop = stop
        self.name = name
        # the average copies the network before Opacus puts its hooks on it
        self.average = WeightAverage(average, ema_decay) if average is not None else None
        self.average_after = average_after
        self.private = None
        if privacy is not None:
            from tabgen.privacy.dpsgd import make_private

            self.private = make_private(
                privacy.module, self.optimizers[privacy.optimizer], privacy.rows, privacy.settings
            )
            self.optimizers[privacy.optimizer] = self.private.optimizer
            batches = PoissonBatches(self.private.loader)
        if batches is None:
            raise ValueError("a Trainer needs batches (or privacy, which brings its own)")
        self.batches = batches
        self.parallel = _parallel(parallel)
        self.module = wrap
        if self.parallel is not None:
            self._check_parallel(rows)
            if wrap is not None:
                self.module = self.parallel.wrap(wrap)
            else:  # every optimiser steps on the gradients averaged over the ranks
                for opt in self.optimizers.values():
                    opt.register_step_pre_hook(self._average_gradients)
        hooks = [progress] if progress is not None else []
        if show_loss is None:  # a DP run's raw losses read the rows without noise
            show_loss = privacy is None
        if verbose and (self.parallel is None or self.parallel.rank == 0):
            from tabgen._progress import ProgressBar

            hooks.append(ProgressBar(name, show_loss=show_loss))
        from tabgen._progress import watchers  # callers following this thread's runs (UI)

        self.hooks = hooks + watchers(show_loss)
        self.step = 0  # steps done
        self.epoch = 0  # the current epoch (0-based)
        self.total_steps = max(self.epochs * len(batches), 1)

    def _check_parallel(self, rows) -> None:
        from tabgen.nn.rows import checksum

        if self.max_time is not None:  # ranks would stop at different steps
            raise ValueError("max_time is not supported in data-parallel training; use epochs")
        if self.private is not None:
            raise ValueError("DP-SGD does not train data-parallel; use one process")
        self.parallel.check_batch(self.batches.batch_size)
        if rows is not None:
            self.parallel.check_same(
                "training data", [rows.shape[0], rows.shape[1], checksum(rows)]
            )

    def _average_gradients(self, optimizer, args, kwargs) -> None:
        self.parallel.average_gradients(p for g in optimizer.param_groups for p in g["params"])

    def local(self, *tensors: torch.Tensor):
        """This process' rows of tensors holding a whole global batch (the tensors
        themselves when training alone)."""
        if self.parallel is None:
            return tensors if len(tensors) > 1 else tensors[0]
        rows = self.parallel.local_rows(tensors[0].shape[0])
        out = tuple(t[rows] for t in tensors)
        return out if len(out) > 1 else out[0]

    def privacy_report(self) -> dict:
        """What the DP-SGD run spent (see :meth:`~tabgen.privacy.dpsgd.DPSGDRun.report`)."""
        return self.private.report(self.step)

    def _losses(self, out) -> dict:
        if not isinstance(out, Mapping):
            out = {"loss": out}
        values = {}
        for k, v in out.items():
            if v is None:
                continue
            v = v.detach() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
            if self.parallel is not None:
                v = self.parallel.mean(v)
            values[k] = v.to(torch.float64)
        return values

    def run(self) -> TrainingLog:
        """Train for ``epochs`` passes (or until the budget or ``stop`` ends it)."""
        try:
            return self._run()
        finally:  # a bar left open by an error would garble the next output
            for hook in self.hooks:
                close = getattr(hook, "close", None)
                if callable(close):
                    close()

    def _fit_schedule(self, elapsed: float) -> None:
        """Shorten ``total_steps`` to what ``max_time`` allows at the pace of ``elapsed``
        seconds for the steps so far (never below the next step)."""
        per_step = max(elapsed, 1e-9) / self.step
        allowed = self.step + math.floor(max(self.max_time - elapsed, 0.0) / per_step)
        self.total_steps = max(self.step + 1, min(self.total_steps, allowed))

    def _run(self) -> TrainingLog:
        log = TrainingLog()
        start = time.monotonic()
        for epoch in range(self.epochs):
            self.epoch = epoch
            sums: dict = {}
            counts: dict = {}
            stopped = False
            last = len(self.batches) - 1
            for b, index in enumerate(self.batches):
                if self.lr_at is not None:
                    lr = self.lr_at(self.step, self.total_steps)
                    for opt in self.optimizers.values():
                        for group in opt.param_groups:
                            group["lr"] = lr
                losses = self._losses(self._step(index, self))
                for k, v in losses.items():
                    sums[k] = sums[k] + v if k in sums else v
                    counts[k] = counts.get(k, 0) + 1
                if self.average is not None and (
                    self.average_after is None or self.average_after in losses
                ):
                    self.average.update()
                self.step += 1
                if self.fit_schedule and self.step == SCHEDULE_PROBE:
                    self._fit_schedule(time.monotonic() - start)
                over = self.max_time is not None and time.monotonic() - start > self.max_time
                if over or self.step >= self.total_steps:
                    stopped = epoch + 1 < self.epochs or b < last
                    break
            for k in [*log.history, *(k for k in sums if k not in log.history)]:
                mean = float(sums[k]) / counts[k] if k in sums else float("nan")
                log.history.setdefault(k, [float("nan")] * epoch).append(mean)
                log.counts[k] = log.counts.get(k, 0) + counts.get(k, 0)
            log.n_epochs = epoch + 1
            log.n_steps = self.step
            if not stopped and self.stop is not None and epoch + 1 < self.epochs:
                stopped = bool(self.stop(log))
            log.stopped_early = stopped
            if self.hooks:
                p = Progress(
                    self.name,
                    epoch + 1,
                    self.epochs,
                    self.step,
                    {k: v[-1] for k, v in log.history.items()},
                    time.monotonic() - start,
                    stopped,
                )
                for hook in self.hooks:
                    hook(p)
            if stopped:
                break
        log.seconds = time.monotonic() - start
        return log


def _parallel(parallel):
    if parallel == "auto":
        from tabgen.nn.distributed import data_parallel

        return data_parallel()
    return parallel
