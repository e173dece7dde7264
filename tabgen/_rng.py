"""Explicit randomness: one numpy ``Generator`` (and, for torch models, one
``torch.Generator``) per call, passed down. Global RNG state is never read or changed."""

from __future__ import annotations

import numbers

import numpy as np


def check_random_state(seed) -> np.random.Generator:
    """Turn ``None``, an int, a ``SeedSequence``, a ``Generator`` or a ``RandomState`` into a
    ``numpy.random.Generator``.

    ``None`` gives fresh OS entropy; an int gives a reproducible stream; a ``Generator`` is
    used as is (so the caller's stream advances).
    """
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {seed}")
        if isinstance(seed, bool):
            raise TypeError("random_state must be None, an int or a Generator, got a bool")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int, a numpy Generator or RandomState, got {seed!r}"
    )


def spawn_seed(rng: np.random.Generator) -> int:
    """A 63-bit integer seed drawn from ``rng`` (for a child generator, e.g. torch's)."""
    return int(rng.integers(0, 2**63 - 1))


def torch_generator(rng: np.random.Generator, device="cpu"):
    """A ``torch.Generator`` on ``device`` seeded from ``rng``."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(spawn_seed(rng))
    return gen
