"""Persistence of a fitted ``GANSynthesizer``: its state as JSON values and named arrays
(the networks as float32 weights), and the way back."""

from __future__ import annotations

import numpy as np
import torch

from tabgen.nn import build_module
from tabgen.synthesizers.gan.sampler import ConditionSampler


def get_state(model) -> tuple[dict, dict]:
    """The JSON state and the named arrays of ``model``, a fitted :class:`GANSynthesizer`."""
    state = {
        "n_epochs": int(model.n_epochs_),
        "loss_history": [float(v) for v in model.loss_history_],
        "critic_loss_history": [float(v) for v in getattr(model, "critic_loss_history_", [])],
        "sizes": [int(s) for s in model.sampler_.sizes],
        "trained": model.generator_ is not None,
        "quantiles": [[col, q] for col, q in model.quantiles_.items()],
    }
    arrays = {"condition_counts": np.asarray(model.sampler_.counts_, dtype="int64")}
    if model.generator_ is not None:
        for k, v in model.generator_.state_dict().items():
            arrays[f"generator.{k}"] = v.detach().cpu().numpy().astype("float32")
    return state, arrays


def set_state(model, state: dict, arrays: dict) -> None:
    """Restore on ``model``, a :class:`GANSynthesizer`, what :func:`get_state` saved."""
    model.layout_ = model._make_layout()
    model.n_epochs_ = int(state["n_epochs"])
    model.loss_history_ = [float(v) for v in state["loss_history"]]
    model.critic_loss_history_ = [float(v) for v in state.get("critic_loss_history", [])]
    model.sampler_ = ConditionSampler.from_counts(
        np.asarray(arrays["condition_counts"]), state["sizes"]
    )
    model.quantiles_ = {col: list(q) for col, q in state["quantiles"]}
    model.generator_ = None
    model.device_ = None  # resolved on first use (a GPU fit samples on a CPU-only machine)
    if state["trained"]:
        model.generator_ = _load_module(model._build_generator, arrays, "generator.")


def _load_module(factory, arrays: dict, prefix: str) -> torch.nn.Module:
    """A network from the float32 arrays saved under ``prefix``, frozen for inference."""
    module = build_module(factory)
    module.load_state_dict(
        {
            k[len(prefix) :]: torch.from_numpy(np.array(v, dtype="float32"))
            for k, v in arrays.items()
            if k.startswith(prefix)
        }
    )
    return module.requires_grad_(False).eval()
