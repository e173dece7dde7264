"""The masked condition vector: ``[values of the chosen columns, include flags]``.

During training each row gets a random subset of its observed columns as its condition
(none for about half the rows, otherwise one column or a random-size subset); encoder and
decoder both read the condition vector, so the decoder learns ``p(row | chosen columns)`` for
every subset. At sampling time a condition on any categorical or numeric columns is the same
vector, so conditioning is native: no rejection is needed.
"""

from __future__ import annotations

import torch

from tabgen.synthesizers.vae.layout import Layout


class ConditionBuilder:
    """Builds condition vectors and training masks for one layout.

    Parameters
    ----------
    layout : Layout
        The VAE layout.
    device : torch.device
        Where the index tensors live.
    """

    def __init__(self, layout: Layout, device):
        self.layout = layout
        self.slots = torch.as_tensor(layout.cond_slots, dtype=torch.long, device=device)
        self.slot_column = torch.as_tensor(layout.cond_slot_column, dtype=torch.long, device=device)
        self.cover = torch.as_tensor(layout.cond_cover(), dtype=torch.float32, device=device)

    @property
    def width(self) -> int:
        return self.layout.cond_width

    def observed(self, X: torch.Tensor) -> torch.Tensor:
        """``(n, n_cond)`` bool: which condition columns are observed in each row."""
        obs = torch.ones(X.shape[0], self.layout.n_cond, dtype=torch.bool, device=X.device)
        for j, m in enumerate(self.layout.cond_missing):
            if m >= 0:
                obs[:, j] = X[:, m] < 0.5
        return obs

    def vector(self, X: torch.Tensor, include: torch.Tensor) -> torch.Tensor:
        """The condition vector of rows ``X`` with columns ``include`` ``(n, n_cond)`` fixed."""
        inc = include.to(X.dtype)
        values = X[:, self.slots] * inc[:, self.slot_column]
        return torch.cat([values, inc], dim=1)

    def free_slots(self, include: torch.Tensor) -> torch.Tensor:
        """``(n, dim)`` weights: 0 on the slots fixed by the condition, 1 elsewhere."""
        fixed = include.to(self.cover.dtype) @ self.cover
        return 1.0 - fixed.clamp(max=1.0)

    def training_mask(
        self, observed: torch.Tensor, generator: torch.Generator, p_condition: float
    ) -> torch.Tensor:
        """Random condition columns per row (only observed cells can be conditions).

        With probability ``1 - p_condition`` a row has no condition; otherwise half of the
        conditioned rows fix one column chosen uniformly (the CTGAN-style single-column
        condition used by class-conditional sampling), the other half each column with a
        per-row probability drawn uniformly in (0, 1) (several columns at once).
        """
        n, c = observed.shape
        dev = observed.device
        if c == 0 or p_condition <= 0:
            return torch.zeros(n, c, dtype=torch.bool, device=dev)
        u = torch.rand(n, generator=generator, device=dev)
        pick = torch.randint(0, c, (n,), generator=generator, device=dev)
        single = torch.nn.functional.one_hot(pick, c).bool()
        rate = torch.rand(n, 1, generator=generator, device=dev)
        subset = torch.rand(n, c, generator=generator, device=dev) < rate
        half = p_condition / 2
        mask = torch.where((u < half)[:, None], single, subset)
        mask &= (u < p_condition)[:, None]
        return mask & observed
