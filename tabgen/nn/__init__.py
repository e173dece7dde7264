"""Shared torch building blocks for the neural synthesizers.

Device resolution, generator-driven initialisation, an MLP block, a weight average and a
training-loop helper with a time budget and progress logging. Nothing here knows a model.
"""

from tabgen.nn.device import resolve_device
from tabgen.nn.ema import WeightAverage
from tabgen.nn.init import build_module, init_parameters
from tabgen.nn.loop import TrainingLog, epochs_for_steps, frozen, run_epochs
from tabgen.nn.mlp import MLP

__all__ = [
    "MLP",
    "TrainingLog",
    "WeightAverage",
    "build_module",
    "epochs_for_steps",
    "frozen",
    "init_parameters",
    "resolve_device",
    "run_epochs",
]
