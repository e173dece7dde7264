"""Persistence of a fitted ``GANSynthesizer``: its state as JSON values and named arrays
(the networks as float32 weights), and the way back."""

from __future__ import annotations

import numpy as np

from tabgen.nn import build_module, load_weights, weight_arrays
from tabgen.synthesizers.gan.sampler import ConditionSampler


def get_state(model) -> tuple[dict, dict]:
    """The JSON state and the named arrays of ``model``, a fitted :class:`GANSynthesizer`."""
    state = {
        **model._training_state(),
        "sizes": [int(s) for s in model.sampler_.sizes],
        "trained": model.generator_ is not None,
        "quantiles": [[col, q] for col, q in model.quantiles_.items()],
    }
    arrays = {"condition_counts": np.asarray(model.sampler_.counts_, dtype="int64")}
    if model.generator_ is not None:
        arrays.update(weight_arrays(model.generator_, "generator."))
    return state, arrays


def set_state(model, state: dict, arrays: dict) -> None:
    """Restore on ``model``, a :class:`GANSynthesizer`, what :func:`get_state` saved."""
    model.layout_ = model._make_layout()
    model._restore_training(state)  # the device is resolved on first use
    model.sampler_ = ConditionSampler.from_counts(
        np.asarray(arrays["condition_counts"]), state["sizes"]
    )
    model.quantiles_ = {col: list(q) for col, q in state["quantiles"]}
    model.generator_ = None
    if state["trained"]:
        model.generator_ = load_weights(build_module(model._build_generator), arrays, "generator.")
