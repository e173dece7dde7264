"""A network's weights as named float32 numpy arrays (what :mod:`tabgen.persistence` saves),
and back into a network frozen for inference."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def weight_arrays(module: nn.Module, prefix: str = "") -> dict[str, np.ndarray]:
    """``{prefix + name: float32 array}`` of every entry of ``module``'s state dict (on CPU).

    Examples
    --------
    >>> arrays = weight_arrays(nn.Linear(3, 2), "head.")
    >>> sorted(arrays), arrays["head.weight"].dtype
    (['head.bias', 'head.weight'], dtype('float32'))
    """
    return {
        prefix + k: v.detach().cpu().numpy().astype("float32")
        for k, v in module.state_dict().items()
    }


def load_weights(module: nn.Module, arrays: dict, prefix: str = "") -> nn.Module:
    """Load into ``module`` the arrays of ``arrays`` whose names start with ``prefix`` (the
    prefix removed; the others are ignored) and return it frozen: no gradients, eval mode.

    Examples
    --------
    >>> a = nn.Linear(3, 2)
    >>> b = load_weights(nn.Linear(3, 2), weight_arrays(a, "a.") | {"x.bias": 0}, "a.")
    >>> bool(torch.equal(a.weight, b.weight)), b.training, b.weight.requires_grad
    (True, False, False)
    """
    module.load_state_dict(
        {
            k[len(prefix) :]: torch.from_numpy(np.array(v, dtype="float32"))
            for k, v in arrays.items()
            if k.startswith(prefix)
        }
    )
    return module.requires_grad_(False).eval()
