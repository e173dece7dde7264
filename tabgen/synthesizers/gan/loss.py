"""WGAN-GP losses and the conditional cross-entropy term.

* critic: ``E[D(fake)] - E[D(real)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]`` with
  ``x_hat`` on segments between real and fake packs (one mixing weight per pack);
* generator: ``-E[D(fake)]`` plus the cross-entropy between the generator's logits of the
  conditioned column and the asked category (so that the condition is obeyed).
"""

from __future__ import annotations

import torch
from torch import nn

from tabgen.synthesizers.gan.layout import GanLayout


def interpolate_packs(
    real: torch.Tensor, fake: torch.Tensor, pac: int, generator: torch.Generator, parallel=None
) -> torch.Tensor:
    """Rows on the segments between real and fake packs, one mixing weight per pack of
    ``pac`` rows (data-parallel: the weights are drawn for the global batch and sliced)."""
    n_packs = real.shape[0] // pac
    if parallel is None:
        alpha = torch.rand(n_packs, 1, 1, generator=generator, device=real.device)
    else:
        every = n_packs * parallel.world_size
        alpha = torch.rand(every, 1, 1, generator=generator, device=real.device)
        alpha = alpha[parallel.local_rows(every)]
    alpha = alpha.expand(n_packs, pac, real.shape[1]).reshape(real.shape)
    return alpha * real + (1 - alpha) * fake


def gradient_penalty(
    critic: nn.Module, mixed: torch.Tensor, generator: torch.Generator, parallel=None
) -> torch.Tensor:
    """``mean((||grad D(mixed)||_2 - 1)^2)`` over the critic's packs of the rows ``mixed``
    (see :func:`interpolate_packs`)."""
    mixed = mixed.requires_grad_(True)
    score = critic(mixed, generator, parallel)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    norm = grad.reshape(mixed.shape[0] // critic.pac, -1).norm(2, dim=1)
    return ((norm - 1) ** 2).mean()


def critic_loss(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator,
    gp_weight: float = 10.0,
    parallel=None,
) -> torch.Tensor:
    """Wasserstein critic loss with gradient penalty (``fake`` is detached); data-parallel
    (``parallel``): ``real`` and ``fake`` are this rank's rows of the global batch."""
    fake = fake.detach()
    wasserstein = (
        critic(fake, generator, parallel).mean() - critic(real, generator, parallel).mean()
    )
    mixed = interpolate_packs(real, fake, critic.pac, generator, parallel)
    return wasserstein + gp_weight * gradient_penalty(critic, mixed, generator, parallel)


def condition_cross_entropy(
    raw: torch.Tensor, layout: GanLayout, column: torch.Tensor, category: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of the conditioned column's logits against the asked category.

    ``column`` is the categorical column index of each row, ``category`` the index in the
    concatenated conditional vector.
    """
    if not layout.categorical:
        return raw.new_zeros(())
    total = raw.new_zeros(())
    offsets = torch.as_tensor(layout.cond_offsets, device=raw.device)
    for j, b in enumerate(layout.categorical):
        rows = torch.nonzero(column == j).reshape(-1)
        if len(rows):
            logits = raw[rows, b.start : b.stop]
            target = category[rows] - offsets[j]
            total = total + nn.functional.cross_entropy(logits, target, reduction="sum")
    return total / raw.shape[0]


def generator_loss(fake_score: torch.Tensor, cross_entropy: torch.Tensor) -> torch.Tensor:
    """``-E[D(fake)] + cross-entropy``."""
    return -fake_score.mean() + cross_entropy
