"""Small training helpers: frozen parameters and a default number of epochs (the loop
itself is :class:`tabgen.nn.trainer.Trainer`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch


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
