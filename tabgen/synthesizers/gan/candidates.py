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
    for (lo, hi, first, stop), group in zip(plan.spans, plan.groups(raw.device), strict=True):
        width = group[1]
        # a float32 copy, worked on in place (``raw`` is left as it is)
        logits = raw[:, lo:hi].to(torch.float32, copy=True).view(n, -1, width)
        logits -= logits.amax(dim=2, keepdim=True)
        cumulative = logits.exp_().cumsum_(dim=2)
        threshold = cumulative[:, :, -1] * uniform[:, first:stop]
        choice = (cumulative <= threshold.unsqueeze(2)).sum(dim=2).clamp_max_(width - 1)
        write_choices(out, choice, group)
    return out
