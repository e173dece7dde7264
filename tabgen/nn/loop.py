"""A minibatch training loop with a time budget and progress logging."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

logger = logging.getLogger("tabgen")


@contextmanager
def frozen(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Inside the block, ``module``'s parameters take no gradient (a loss can still
    back-propagate through it to its inputs); they are trainable again after it, error or
    not.

    Examples
    --------
    >>> critic = torch.nn.Linear(2, 1)
    >>> with frozen(critic):
    ...     critic.weight.requires_grad
    False
    >>> critic.weight.requires_grad
    True
    """
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


def epochs_for_steps(n_rows: int, batch_size: int, steps: int, bounds: tuple[int, int]) -> int:
    """Epochs that give about ``steps`` optimiser steps, clipped to ``bounds``.

    An epoch is ``n_rows // batch`` steps (at least one) with ``batch = min(batch_size,
    n_rows)``, so small tables get more epochs: a default in steps trains a 2,000-row table
    as much as a 50,000-row one, where a default in epochs would train it 25 times less.

    Examples
    --------
    >>> epochs_for_steps(4_000, 1024, 8_000, (300, 10_000))
    2667
    >>> epochs_for_steps(50_000, 1024, 8_000, (300, 10_000))
    300
    """
    per_epoch = max(n_rows // max(min(int(batch_size), n_rows), 1), 1)
    return int(min(max(math.ceil(steps / per_epoch), bounds[0]), bounds[1]))


@dataclass
class TrainingLog:
    """What a call to :func:`run_epochs` did.

    Attributes
    ----------
    losses : list of float
        Mean loss of each epoch run.
    n_epochs, n_steps : int
        Epochs and optimiser steps run.
    stopped_early : bool
        Whether ``max_time`` ended training before the last epoch.
    seconds : float
        Wall time of the loop.
    """

    losses: list = field(default_factory=list)
    n_epochs: int = 0
    n_steps: int = 0
    stopped_early: bool = False
    seconds: float = 0.0


def run_epochs(
    step: Callable[[torch.Tensor, int, int], float],
    n_rows: int,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    max_time: float | None = None,
    verbose: bool = False,
    name: str = "model",
    n_logs: int = 20,
) -> TrainingLog:
    """Run ``epochs`` passes of shuffled minibatches, calling ``step(index, epoch, step_no)``.

    Rows are shuffled with ``generator`` each epoch; the ragged last batch is dropped (so that
    every step sees ``min(batch_size, n_rows)`` rows). ``step`` does one optimiser step on the
    rows ``index`` (a long tensor on ``generator``'s device) and returns its loss as a float.
    Training stops cleanly after the step that exceeds ``max_time`` seconds.

    Parameters
    ----------
    step : callable
        ``step(index, epoch, step_no) -> float``.
    n_rows : int
        Training rows.
    epochs, batch_size : int
        Passes and rows per step.
    generator : torch.Generator
        Source of the shuffles.
    max_time : float, optional
        Time budget in seconds.
    verbose : bool
        Log progress at INFO on the ``"tabgen"`` logger about ``n_logs`` times.
    name : str
        Prefix of the log lines.

    Returns
    -------
    TrainingLog

    Examples
    --------
    >>> seen = []
    >>> log = run_epochs(lambda idx, e, s: seen.append(len(idx)) or 0.0, 10, epochs=2,
    ...                  batch_size=4, generator=torch.Generator().manual_seed(0))
    >>> log.n_epochs, log.n_steps, seen
    (2, 4, [4, 4, 4, 4])
    """
    batch = max(1, min(batch_size, n_rows))
    per_epoch = max(n_rows // batch, 1)
    log_every = max(1, epochs // max(n_logs, 1))
    result = TrainingLog()
    start = time.monotonic()
    for epoch in range(epochs):
        perm = torch.randperm(n_rows, generator=generator, device=generator.device)
        total = 0.0
        for b in range(per_epoch):
            total += float(step(perm[b * batch : (b + 1) * batch], epoch, result.n_steps))
            result.n_steps += 1
            if max_time is not None and time.monotonic() - start > max_time:
                result.stopped_early = epoch + 1 < epochs or b + 1 < per_epoch
                break
        result.losses.append(total / (b + 1))
        result.n_epochs = epoch + 1
        elapsed = time.monotonic() - start
        if result.stopped_early:
            if verbose:
                logger.info(
                    "%s: max_time=%ss reached after %d epochs (%d steps)",
                    name,
                    max_time,
                    result.n_epochs,
                    result.n_steps,
                )
            break
        if verbose and ((epoch + 1) % log_every == 0 or epoch + 1 == epochs):
            logger.info(
                "%s: epoch %d/%d  loss %.4f  (%.1fs)",
                name,
                epoch + 1,
                epochs,
                result.losses[-1],
                elapsed,
            )
    result.seconds = time.monotonic() - start
    return result
