"""Small training helpers: frozen parameters, one optimiser step and a default number of
epochs (the loop itself is :class:`tabgen.nn.trainer.Trainer`)."""

from __future__ import annotations

import math
import warnings
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


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """Clear ``optimizer``'s gradients, back-propagate ``loss`` and take one step.

    Opacus' warning that a full backward hook fires on the first layer (expected: the
    inputs need no gradient) is silenced; the same call serves private and ordinary models.

    Examples
    --------
    >>> layer = torch.nn.Linear(1, 1, bias=False)
    >>> torch.nn.init.ones_(layer.weight)
    Parameter containing:
    tensor([[1.]], requires_grad=True)
    >>> optimizer_step(torch.optim.SGD(layer.parameters(), lr=0.5), layer(torch.ones(1, 1)).sum())
    >>> layer.weight.item()
    0.5
    """
    optimizer.zero_grad(set_to_none=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        loss.backward()
    optimizer.step()


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
