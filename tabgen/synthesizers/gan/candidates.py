"""The selection's candidates drawn cheaply: one uniform number per choice, no Gumbel noise.

:func:`~tabgen.synthesizers.gan.generator.sample_compact` draws each one-hot block's choice
as ``argmax(logits + Gumbel)``: a uniform number and two logarithms per slot, then a gather
of each group of blocks out of the raw output. The discriminator selection generates four
candidates per returned row, so this is paid four times. :func:`sample_compact_cdf` draws
the same law (the softmax of the logits) by inverting its cumulative distribution with one
uniform number per block, ``exp`` and a cumulative sum per slot, on a raw output whose
columns the generator already wrote group after group (:attr:`CompactPlan.order`: the
output layer's columns permuted, see :meth:`Generator.lookup_weights`), so that every
group is a view. A fixed seed gives other rows than the Gumbel draws, from the same law.

The logits of all blocks are converted to float32, shifted by each row's largest logit and
exponentiated in one pass each (not block by block: fewer, larger operations); a block
whose weights then underflow is drawn again with its own shift (see :data:`TINY`).
"""

from __future__ import annotations

import torch

from tabgen.synthesizers.gan.generator import CompactPlan, write_choices
from tabgen.synthesizers.gan.layout import GanLayout


@torch.no_grad()
def sample_compact_cdf(
    raw: torch.Tensor,
    head: torch.Tensor | None,
    uniform: torch.Tensor,
    layout: GanLayout,
    observed=(),
) -> torch.Tensor:
    """Compact rows (float32) from the generator's output in the plan's order.

    Parameters
    ----------
    raw : Tensor of shape (n, len(plan.order))
        Logits of the one-hot blocks, columns in ``CompactPlan.of(layout, observed).order``
        (bfloat16 or float32).
    head : Tensor of shape (n, number of continuous slots) or None
        Values of the ``tanh`` heads before the ``tanh``, in the layout's order.
    uniform : Tensor of shape (n, plan.n_blocks)
        One uniform number in ``[0, 1)`` per row and block.
    layout : GanLayout
    observed : collection of str
        Columns that come out non-missing (see :func:`.generator.sample_compact`).

    Examples
    --------
    >>> from tabgen.encoders.base import Span
    >>> layout = GanLayout([Span("c", 0, 3, "softmax", n_categories=3)])
    >>> raw = torch.tensor([[0.0, 50.0, 0.0], [0.0, 0.0, 50.0]])
    >>> sample_compact_cdf(raw, None, torch.tensor([[0.5], [0.5]]), layout).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    n = raw.shape[0]
    plan = CompactPlan.of(layout, observed)
    out = torch.zeros((n, layout.compact_width), device=raw.device)
    for k, (_, o) in enumerate(plan.continuous):
        out[:, o] = torch.tanh(head[:, k])
    # one float32 copy of all the logits, shifted by each row's largest and exponentiated
    # in one pass (a block's softmax does not depend on the shift; see _by_block)
    weight = raw.to(torch.float32, copy=True)
    if weight.shape[1]:
        weight -= weight.amax(dim=1, keepdim=True)
    weight.exp_()
    for (lo, hi, first, stop), group in zip(plan.spans, plan.groups(raw.device), strict=True):
        width = group[1]
        cumulative = weight[:, lo:hi].view(n, -1, width).cumsum_(dim=2)
        total = cumulative[:, :, -1]
        choice = (cumulative <= (total * uniform[:, first:stop]).unsqueeze(2)).sum(dim=2)
        low = (total < TINY).any(dim=1)
        if bool(low.any()):
            rows = low.nonzero().squeeze(1)
            choice[rows] = _by_block(raw[rows, lo:hi], uniform[rows, first:stop], width)
        write_choices(out, choice.clamp_max_(width - 1), group)
    return out


#: A block whose weights sum below this after the row's shift (all its logits more than
#: about 69 below the row's largest) is drawn again with its own shift (:func:`_by_block`).
#: Elsewhere a slot's weight can only underflow where its probability in its block is
#: below ``exp(-18)``.
TINY = 1e-30


def _by_block(raw: torch.Tensor, uniform: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse-CDF choices of :func:`sample_compact_cdf` for a few rows of one group,
    each block shifted by its own largest logit (no underflow)."""
    logits = raw.to(torch.float32, copy=True).view(len(raw), -1, width)
    logits -= logits.amax(dim=2, keepdim=True)
    cumulative = logits.exp_().cumsum_(dim=2)
    threshold = cumulative[:, :, -1] * uniform
    return (cumulative <= threshold.unsqueeze(2)).sum(dim=2)
