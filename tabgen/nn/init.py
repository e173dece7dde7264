"""Build modules without touching torch's global RNG and initialise them from a generator."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every ``Linear`` and ``LayerNorm`` of ``module`` from ``generator``.

    ``Linear`` weights and biases are uniform in ``±1/sqrt(fan_in)`` (PyTorch's default
    scale); ``LayerNorm`` gets unit weight and zero bias. Other parameters are left as they
    are (set them explicitly). The global RNG is never read.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(max(m.in_features, 1))
            w = torch.rand(m.weight.shape, generator=generator, device=generator.device)
            m.weight.copy_((w * 2 - 1) * bound)
            if m.bias is not None:
                b = torch.rand(m.bias.shape, generator=generator, device=generator.device)
                m.bias.copy_((b * 2 - 1) * bound)
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            m.weight.fill_(1.0)
            if m.bias is not None:
                m.bias.zero_()


def build_module(
    factory: Callable[[], nn.Module], generator: torch.Generator | None = None
) -> nn.Module:
    """``factory()`` built on the meta device (so PyTorch's default initialisation, which
    reads the global RNG, never runs), then materialised on CPU and initialised from
    ``generator`` with :func:`init_parameters` (left uninitialised when ``generator`` is
    ``None``, e.g. before ``load_state_dict``).

    The factory must leave no parameter that :func:`init_parameters` does not set, other than
    those its module initialises in a ``reset_extra_parameters()`` method (called if present).

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> a = build_module(lambda: nn.Linear(3, 2), gen)
    >>> b = build_module(lambda: nn.Linear(3, 2), torch.Generator().manual_seed(0))
    >>> bool(torch.equal(a.weight, b.weight))
    True
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    if generator is None:
        return module
    init_parameters(module, generator)
    for m in module.modules():
        reset = getattr(m, "reset_extra_parameters", None)
        if callable(reset):
            reset()
    return module
