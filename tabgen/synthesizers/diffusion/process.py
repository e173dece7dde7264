"""The mixed-type noising process over the table encoding.

Every encoded slot lives in one *model space* where Gaussian noise is added:

* continuous slots (quantile-normal numbers, datetimes) as they are (about unit variance);
* softmax blocks (one-hot categories) and binary slots (missingness indicators) mapped to
  ``{-1, +1}``.

The denoiser ``D(x, sigma)`` estimates the clean point. For continuous slots it is the EDM
preconditioned network output (squared-error loss). For a categorical block the clean point's
expectation is ``2 p - 1`` where ``p`` are the class probabilities given the noisy row, so the
network emits *logits* there, ``D`` returns ``2 softmax(logits) - 1`` (``2 sigmoid - 1`` for a
binary slot) and the loss is the cross-entropy: the Bayes-optimal denoiser of one-hot data,
trained with a proper scoring rule (as in continuous diffusion for categorical data). The
logits include the exact single-slot likelihood term, so the network learns only the prior
and the dependence on the rest of the row.

A known-slot mask (conditions, observed cells) can accompany the row: known slots are clean,
reach the network with the mask, are excluded from the loss and are returned unchanged.
Training draws random known subsets of whole columns for a fraction of the rows, so one
network serves unconditional sampling, conditional sampling and inpainting. The layout
comes only from the encoder's spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tabgen.synthesizers.diffusion import schedule


@dataclass(frozen=True)
class Layout:
    """Which model-space slots are continuous, categorical blocks and binary slots.

    Attributes
    ----------
    dim : int
        Number of slots.
    continuous : tuple of int
        Continuous slots.
    blocks : tuple of (int, int)
        ``(start, stop)`` of each softmax block.
    binary : tuple of int
        Binary (0/1) slots.
    slot_column : tuple of int
        Index of the column (in span order) each slot belongs to; conditioning fixes whole
        columns.
    missing : tuple of int
        The binary slots that are missingness indicators (one per column that had missing
        cells).
    """

    dim: int
    continuous: tuple
    blocks: tuple
    binary: tuple
    slot_column: tuple = ()
    missing: tuple = ()

    @property
    def n_columns(self) -> int:
        return max(self.slot_column) + 1 if self.slot_column else 0

    @classmethod
    def from_spans(cls, spans, dim: int) -> Layout:
        continuous, blocks, binary, missing = [], [], [], []
        slot_column = [0] * dim
        columns: dict = {}
        for s in spans:
            index = columns.setdefault(s.column, len(columns))
            slot_column[s.start : s.stop] = [index] * s.width
            if s.kind == "continuous":
                continuous.append(s.start)
            elif s.kind == "softmax":
                blocks.append((s.start, s.stop))
            elif s.kind == "binary":
                binary.append(s.start)
                if s.role == "missing":
                    missing.append(s.start)
            else:
                raise ValueError(f"diffusion cannot model span kind {s.kind!r} ({s.column!r})")
        return cls(
            dim,
            tuple(continuous),
            tuple(blocks),
            tuple(binary),
            tuple(slot_column),
            tuple(missing),
        )

    @property
    def discrete_mask(self) -> np.ndarray:
        """Boolean mask of the slots stored as 0/1 in the encoding."""
        mask = np.zeros(self.dim, dtype=bool)
        for a, b in self.blocks:
            mask[a:b] = True
        mask[list(self.binary)] = True
        return mask


def to_model(Z: np.ndarray, layout: Layout) -> np.ndarray:
    """Encoded matrix -> model space (0/1 slots become -1/+1)."""
    X = np.array(Z, dtype="float32", copy=True)
    mask = layout.discrete_mask
    X[:, mask] = 2.0 * X[:, mask] - 1.0
    return X


def from_model(X, layout: Layout, dtype="float64") -> np.ndarray:
    """Model space -> encoded matrix (softmax blocks one-hot, binary slots 0/1).

    ``X``: an array or a tensor (the one-hot rows are built in torch, on its device, before
    the single copy to an array of ``dtype``)."""
    X = torch.as_tensor(X).float()
    Z = X.clone()
    rows = torch.arange(len(Z), device=Z.device)
    for a, b in layout.blocks:
        pick = X[:, a:b].argmax(1)
        Z[:, a:b] = 0.0
        Z[rows, a + pick] = 1.0
    if layout.binary:
        bi = torch.tensor(layout.binary, device=Z.device)
        Z[:, bi] = (X[:, bi] > 0).float()
    return Z.cpu().numpy().astype(dtype, copy=False)


def prior_logits(Z: np.ndarray, layout: Layout) -> np.ndarray:
    """Log-frequencies of the discrete slots of the encoded matrix ``Z`` (0 elsewhere).

    Used as the initial output bias so that sampling reproduces the marginal frequencies of
    categories and missingness from the first optimiser step.
    """
    out = np.zeros(layout.dim, dtype="float32")
    if len(Z) == 0:
        return out
    for a, b in layout.blocks:
        freq = (Z[:, a:b].sum(axis=0) + 0.5) / (len(Z) + 0.5 * (b - a))
        out[a:b] = np.log(freq)
    for j in layout.binary:
        p = (Z[:, j].sum() + 0.5) / (len(Z) + 1.0)
        out[j] = np.log(p) - np.log1p(-p)
    return out


def public_prior_logits(encoder, layout: Layout) -> np.ndarray:
    """:func:`prior_logits` from the (released) encoder state only, never from the rows
    (:func:`tabgen.privacy._fit.released_output_bias`). Used by the differentially private
    fit, where the encoder has been privatized."""
    from tabgen.privacy._fit import released_output_bias

    return released_output_bias(encoder).astype("float32")  # layout.dim == encoder width


class MixedDenoiser(torch.nn.Module):
    """EDM-preconditioned denoiser ``D(x, sigma, mask)`` over the mixed layout.

    ``mask`` marks *known* slots (conditions, observed cells): they hold clean values, reach
    the network unscaled together with the mask itself, and ``D`` returns them unchanged.
    Training on random known subsets (see :func:`training_loss`) makes one network both the
    unconditional model (empty mask) and every conditional one.

    Parameters
    ----------
    network : torch.nn.Module
        ``F(inputs, c_noise) -> (n, dim)`` with ``inputs`` of width ``2 * dim`` (values,
        mask): raw outputs for continuous slots, logits for categorical blocks and binary
        slots.
    layout : Layout
    sigma_data : float
        Assumed standard deviation of the clean data.
    """

    def __init__(self, network: torch.nn.Module, layout: Layout, sigma_data: float = 1.0):
        super().__init__()
        self.network = network
        self.layout = layout
        self.sigma_data = sigma_data
        self.register_buffer("cont_idx", torch.tensor(layout.continuous, dtype=torch.long))
        self.register_buffer("bin_idx", torch.tensor(layout.binary, dtype=torch.long))
        self.register_buffer("disc_mask", torch.from_numpy(layout.discrete_mask).reshape(1, -1))
        self.register_buffer("slot_column", torch.tensor(layout.slot_column, dtype=torch.long))
        self.register_buffer("miss_idx", torch.tensor(layout.missing, dtype=torch.long))

    def raw(self, x: torch.Tensor, sigma: torch.Tensor, mask: torch.Tensor | None = None):
        """Network output and the EDM scalings at per-row noise levels ``sigma`` (n,).

        For the discrete slots the output is a logit that already includes the single-slot
        likelihood term ``2 x / sigma^2`` (the exact posterior of a ``±1`` value seen
        through Gaussian noise), so the network only learns the prior and the dependence on
        the other columns, and low-noise denoising is exact from the start.
        """
        s = sigma.reshape(-1, 1)
        c_skip, c_out, c_in, c_noise = schedule.preconditioning(s, self.sigma_data)
        if (
            mask is None
            and not torch.is_grad_enabled()
            and hasattr(self.network, "forward_unmasked")
        ):
            out = self.network.forward_unmasked(c_in * x, c_noise.reshape(-1))  # sampling
        else:
            if mask is None:
                mask = torch.zeros_like(x, dtype=torch.bool)
            inputs = torch.cat([torch.where(mask, x, c_in * x), mask.to(x.dtype)], dim=1)
            out = self.network(inputs, c_noise.reshape(-1))
        out = torch.where(self.disc_mask, out + 2.0 * x / s**2, out)
        return out, c_skip, c_out

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, mask=None) -> torch.Tensor:
        """Estimate of the clean row in model space (known slots returned as given)."""
        out, c_skip, c_out = self.raw(x, sigma, mask)
        D = torch.empty_like(x)
        ci = self.cont_idx
        D[:, ci] = c_skip * x[:, ci] + c_out * out[:, ci]
        for a, b in self.layout.blocks:
            D[:, a:b] = 2.0 * torch.softmax(out[:, a:b], dim=1) - 1.0
        if len(self.layout.binary):
            D[:, self.bin_idx] = 2.0 * torch.sigmoid(out[:, self.bin_idx]) - 1.0
        if mask is not None:
            D = torch.where(mask, x, D)
        return D

    def random_known_mask(
        self, n: int, generator: torch.Generator, cond_prob: float, device
    ) -> torch.Tensor:
        """Known-slot mask for training: a fraction ``cond_prob`` of the rows gets a random
        subset of whole columns (each kept with a per-row probability drawn uniformly).

        In those rows the missingness indicator of a column left free is also revealed, with
        a second per-row probability drawn uniformly: imputation and ``present`` conditions
        fix the indicator ("observed") and ask for the value, and this teaches the network
        that pattern. Tables without missing cells draw nothing more.
        """
        n_cols = self.layout.n_columns
        cond_rows = torch.rand(n, generator=generator, device=device) < cond_prob
        keep = torch.rand(n, 1, generator=generator, device=device)
        cols = torch.rand(n, n_cols, generator=generator, device=device) < keep
        cols &= cond_rows.reshape(-1, 1)
        mask = cols[:, self.slot_column]
        if self.miss_idx.numel():
            rate = torch.rand(n, 1, generator=generator, device=device)
            k = self.miss_idx.numel()
            reveal = torch.rand(n, k, generator=generator, device=device) < rate
            mask[:, self.miss_idx] |= reveal & cond_rows.reshape(-1, 1)
        return mask


def _masked_mean(values: torch.Tensor, weights: torch.Tensor, parallel=None, dim=None):
    """``sum(values * weights) / sum(weights)`` (over ``dim``; all of it when ``None``).

    Data-parallel (``parallel``, see :mod:`tabgen.nn.distributed`): the weights are summed
    over the global batch and the local numerator scaled by the number of ranks, so that
    the mean over the ranks of the value (and of its gradient) is the global one."""
    if dim is None:
        num, den = (values * weights).sum(), weights.sum()
    else:
        num, den = (values * weights).sum(dim), weights.sum(dim)
    if parallel is not None:
        num, den = num * parallel.world_size, parallel.sum(den)
    return num / den.clamp(min=1.0)


@dataclass(frozen=True)
class NoiseSettings:
    """What the random draws of a training step follow: noise levels
    ``ln sigma ~ N(p_mean, p_std^2)``, except a fraction ``uniform_frac`` log-uniform up to
    ``sigma_max`` (see :func:`schedule.training_sigmas`), and the share ``cond_prob`` of the
    rows that see a random subset of their columns clean (known). ``cat_weight`` scales the
    discrete slots' cross-entropy against the continuous slots' squared error in the loss."""

    p_mean: float = -1.2
    p_std: float = 1.2
    cond_prob: float = 0.0
    uniform_frac: float = 0.0
    sigma_max: float = 80.0
    cat_weight: float = 1.0


def draw_training_noise(
    denoiser: MixedDenoiser,
    x0: torch.Tensor,
    generator: torch.Generator,
    settings: NoiseSettings = NoiseSettings(),
):
    """The random draws of one training step: per-row noise levels ``sigma`` (n,), the
    Gaussian ``noise`` (n, dim) and the known-slot ``mask`` (``None`` when
    ``settings.cond_prob`` is 0 or there is a single column). Draws are made in this order
    from ``generator``."""
    n = x0.shape[0]
    device = x0.device
    sigma = schedule.training_sigmas(
        n,
        generator,
        settings.p_mean,
        settings.p_std,
        device,
        uniform_frac=settings.uniform_frac,
        sigma_max=settings.sigma_max,
    )
    noise = torch.randn(x0.shape, generator=generator, device=device)
    mask = None
    if settings.cond_prob > 0 and denoiser.layout.n_columns > 1:
        mask = denoiser.random_known_mask(n, generator, settings.cond_prob, device)
    return sigma, noise, mask


def _denoise_noised(denoiser: MixedDenoiser, x0, sigma, noise, mask):
    """Noisy rows (known slots clean), the network output, the continuous-slot regression
    target and the float mask of the scored (free) slots."""
    x = x0 + sigma.reshape(-1, 1) * noise
    if mask is not None:
        x = torch.where(mask, x0, x)
    out, c_skip, c_out = denoiser.raw(x, sigma, mask)
    free = x0.new_ones(x0.shape) if mask is None else (~mask).to(x0.dtype)
    target = None
    if denoiser.layout.continuous:
        ci = denoiser.cont_idx
        # EDM weight * (D - x0)^2 == (F - target)^2 with the preconditioned target
        target = (x0[:, ci] - c_skip * x[:, ci]) / c_out
    return out, target, free


def training_loss(
    denoiser: MixedDenoiser,
    x0: torch.Tensor,
    generator: torch.Generator,
    settings: NoiseSettings = NoiseSettings(),
    parallel=None,
    per_row: bool = False,
) -> torch.Tensor:
    """Mean loss of one batch of clean model-space rows ``x0``.

    Continuous slots: EDM-weighted squared error averaged over slots. Categorical blocks and
    binary slots: cross-entropy averaged over columns. The two parts are added. With
    ``settings.cond_prob > 0`` that fraction of the rows sees a random subset of its columns clean
    (known) and is scored on the others only.

    The averages use batch-wide denominators (free cells of each slot over the whole batch),
    so one row's share of the loss depends on the other rows' masks; DP-SGD, which clips
    each row's gradient, uses :func:`row_losses` instead.

    Data-parallel (``parallel``): ``x0`` is the global batch; the draws are made for all of
    it, this rank scores its own rows, and the denominators count the global batch.

    ``per_row`` (DP-SGD): the batch mean of :func:`row_losses` instead, for the same draws.
    """
    sigma, noise, mask = draw_training_noise(denoiser, x0, generator, settings)
    if per_row:
        rows = row_losses(denoiser, x0, sigma, noise, mask, settings.cat_weight)
        return rows.sum() / max(x0.shape[0], 1)
    if parallel is not None:
        rows = parallel.local_rows(x0.shape[0])
        x0, sigma, noise = x0[rows], sigma[rows], noise[rows]
        mask = None if mask is None else mask[rows]
    layout = denoiser.layout
    out, target, free = _denoise_noised(denoiser, x0, sigma, noise, mask)
    loss = x0.new_zeros(())
    if layout.continuous:
        ci = denoiser.cont_idx
        loss = loss + _masked_mean((out[:, ci] - target) ** 2, free[:, ci], parallel)
    n_discrete = len(layout.blocks) + len(layout.binary)
    if n_discrete:
        ce = x0.new_zeros(())
        for a, b in layout.blocks:
            labels = torch.argmax(x0[:, a:b], dim=1)
            values = F.cross_entropy(out[:, a:b], labels, reduction="none")
            ce = ce + _masked_mean(values, free[:, a], parallel)
        if len(layout.binary):
            bi = denoiser.bin_idx
            targets = (x0[:, bi] > 0).to(out.dtype)
            bce = F.binary_cross_entropy_with_logits(out[:, bi], targets, reduction="none")
            ce = ce + _masked_mean(bce, free[:, bi], parallel, dim=0).sum()
        loss = loss + settings.cat_weight * ce / n_discrete
    return loss


def row_losses(
    denoiser: MixedDenoiser,
    x0: torch.Tensor,
    sigma: torch.Tensor,
    noise: torch.Tensor,
    mask: torch.Tensor | None = None,
    cat_weight: float = 1.0,
) -> torch.Tensor:
    """Loss of every row on its own, ``(n,)``, given the draws of
    :func:`draw_training_noise`: the EDM-weighted squared error averaged over the row's free
    continuous slots plus ``cat_weight`` times the cross-entropy averaged over its free
    discrete columns (categorical blocks and missingness slots); a row with nothing free
    scores 0.

    Each value depends only on its own row, so the gradient of ``row_losses(...).mean()``
    is the mean of per-row gradients, as DP-SGD's per-sample clipping requires. Without a
    mask the mean equals :func:`training_loss` for the same draws.
    """
    layout = denoiser.layout
    out, target, free = _denoise_noised(denoiser, x0, sigma, noise, mask)
    loss = x0.new_zeros(x0.shape[0])
    if layout.continuous:
        w = free[:, denoiser.cont_idx]
        err = (out[:, denoiser.cont_idx] - target) ** 2
        loss = loss + (err * w).sum(1) / w.sum(1).clamp(min=1.0)
    if layout.blocks or layout.binary:
        total = x0.new_zeros(x0.shape[0])
        count = x0.new_zeros(x0.shape[0])
        for a, b in layout.blocks:
            labels = torch.argmax(x0[:, a:b], dim=1)
            values = F.cross_entropy(out[:, a:b], labels, reduction="none")
            total = total + values * free[:, a]
            count = count + free[:, a]
        if layout.binary:
            bi = denoiser.bin_idx
            targets = (x0[:, bi] > 0).to(out.dtype)
            bce = F.binary_cross_entropy_with_logits(out[:, bi], targets, reduction="none")
            total = total + (bce * free[:, bi]).sum(1)
            count = count + free[:, bi].sum(1)
        loss = loss + cat_weight * total / count.clamp(min=1.0)
    return loss


def private_training_loss(
    denoiser: MixedDenoiser,
    x0: torch.Tensor,
    generator: torch.Generator,
    settings: NoiseSettings = NoiseSettings(),
) -> torch.Tensor:
    """Batch mean of :func:`row_losses` with fresh draws (same draws and order as
    :func:`training_loss`; ``training_loss(..., per_row=True)``). An empty batch (Poisson
    sampling) gives 0, still attached to the graph so that the DP optimiser can take its
    (noise-only) step."""
    return training_loss(denoiser, x0, generator, settings, per_row=True)
