"""Shared torch building blocks for the neural synthesizers.

The device policy, generator-driven initialisation, an MLP block, a weight average, the
one trainer of every network (:mod:`tabgen.nn.trainer`) and a network's weights as arrays
(:mod:`tabgen.nn.weights`). Nothing here knows a model.
"""

from tabgen.nn.device import resolve_device
from tabgen.nn.ema import WeightAverage
from tabgen.nn.init import build_module, init_parameters
from tabgen.nn.loop import epochs_for_steps, frozen, optimizer_step
from tabgen.nn.mlp import MLP
from tabgen.nn.trainer import EarlyStopping, ShuffledBatches, Trainer, TrainingLog
from tabgen.nn.weights import load_weights, weight_arrays

__all__ = [
    "MLP",
    "EarlyStopping",
    "ShuffledBatches",
    "Trainer",
    "TrainingLog",
    "WeightAverage",
    "build_module",
    "epochs_for_steps",
    "frozen",
    "init_parameters",
    "load_weights",
    "optimizer_step",
    "resolve_device",
    "weight_arrays",
]
