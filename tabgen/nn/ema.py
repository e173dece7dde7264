"""Exponential moving average of a module's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """Keep ``average = decay * average + (1 - decay) * weights`` after every step.

    The decay warms up as ``min(decay, (1 + step) / (10 + step))`` so that early averages
    are not dominated by the random initialisation.

    Parameters
    ----------
    module : torch.nn.Module
        The trained module (its current weights start the average).
    decay : float
        Target decay in ``[0, 1)``; 0 copies the weights.

    Examples
    --------
    >>> net = nn.Linear(2, 1)
    >>> ema = WeightAverage(net, decay=0.9)
    >>> ema.update()
    >>> ema.module is not net
    True
    """

    def __init__(self, module: nn.Module, decay: float):
        self.decay = float(decay)
        self.module = copy.deepcopy(module).requires_grad_(False).eval()
        self._src = list(module.parameters())
        self._dst = list(self.module.parameters())
        self.step = 0

    @torch.no_grad()
    def update(self) -> None:
        decay = min(self.decay, (1.0 + self.step) / (10.0 + self.step))
        torch._foreach_lerp_(self._dst, self._src, 1.0 - decay)
        self.step += 1
