"""The denoiser network: an MLP with a noise-level embedding, sized for CPUs."""

from __future__ import annotations

import math

import torch
from torch import nn

_FREQ_SCALE = 1.0  # standard deviation of the initial periodic frequencies


class NoiseEmbedding(nn.Module):
    """Sinusoidal features of the (log) noise level followed by a small MLP."""

    def __init__(self, dim: int, n_freq: int = 64):
        super().__init__()
        self.n_freq = n_freq
        freqs = torch.exp(-math.log(1000.0) * torch.arange(n_freq // 2) / (n_freq // 2))
        self.register_buffer("freqs", freqs, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(n_freq, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        c_noise = c_noise.reshape(-1, 1)
        n = c_noise.shape[0]
        if n > 1 and not torch.is_grad_enabled() and bool((c_noise == c_noise[0]).all()):
            # sampling: one noise level for the whole batch, embedded once
            return self._embed(c_noise[:1]).expand(n, -1)
        return self._embed(c_noise)

    def _embed(self, c_noise: torch.Tensor) -> torch.Tensor:
        # c_noise = ln(sigma) / 4 spans about [-2, 1.5]; scale so low frequencies resolve it
        args = 100.0 * c_noise * self.freqs.reshape(1, -1)
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=1))


class MLPDenoiser(nn.Module):
    """``F(x, c_noise)``: input projection plus noise embedding, then residual SiLU layers.

    Plain ``Linear -> SiLU`` layers of one width (no normalisation, no expansion) keep a
    forward pass cheap on CPUs, where the sampler evaluates the network ``2 n_steps - 1``
    times per row.

    Parameters
    ----------
    dim : int
        Width of the encoded row (the output; the input is ``2 * dim``: values and the
        known-slot mask).
    hidden : int
        Width of the hidden layers.
    n_layers : int
        Number of residual hidden layers.
    continuous : tuple of int
        The continuous slots, whose values also enter through periodic features.
    n_periodic : int
        Learned frequencies per continuous slot (0: none): ``cos`` and ``sin`` of
        ``2 pi f x`` for each, projected to the hidden width and added to the input
        projection (periodic embeddings let an MLP resolve narrow ranges of a number).
    """

    def __init__(
        self,
        dim: int,
        hidden: int = 256,
        n_layers: int = 3,
        continuous: tuple = (),
        n_periodic: int = 0,
    ):
        super().__init__()
        self.dim, self.hidden, self.n_layers = dim, hidden, n_layers
        self.proj = nn.Linear(2 * dim, hidden)
        self.embed = NoiseEmbedding(hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(n_layers))
        self.act = nn.SiLU()
        self.out = nn.Sequential(nn.Linear(hidden, dim))
        self.periodic = None  # registered last: the other layers are drawn as without it
        if n_periodic and len(continuous):
            self.register_buffer("cont_idx", torch.tensor(continuous, dtype=torch.long))
            self.freqs = nn.Parameter(torch.zeros(len(continuous), n_periodic))
            self.periodic = nn.Linear(2 * n_periodic * len(continuous), hidden)

    @torch.no_grad()
    def set_output_bias(self, bias) -> None:
        """Start the output layer at ``bias`` (e.g. the log-frequencies of categories)."""
        self.out[-1].bias.copy_(torch.as_tensor(bias, dtype=self.out[-1].bias.dtype))

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self._body(self._periodic(self.proj(x), x), c_noise)

    def _periodic(self, projected: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        if self.periodic is None:
            return projected
        args = (2 * math.pi) * values[:, self.cont_idx].float().unsqueeze(2) * self.freqs
        features = torch.cat([torch.cos(args), torch.sin(args)], dim=2).flatten(1)
        return projected + self.periodic(features)

    def forward_unmasked(self, values: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """``forward`` for inputs whose mask half is all zeros (unconditional sampling),
        given only the ``dim`` values: the mask half of the input projection is skipped."""
        w = self.proj.weight
        projected = nn.functional.linear(values, w[:, : self.dim], self.proj.bias)
        return self._body(self._periodic(projected, values), c_noise)

    def _body(self, projected: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        h = self.act(projected + self.embed(c_noise))
        for layer in self.layers:
            h = h + self.act(layer(h))
        return self.out(h)


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every ``Linear`` from ``generator`` (no global RNG is read).

    Weights and biases are uniform in ``±1/sqrt(fan_in)`` (PyTorch's default scale); the
    final output layer of :class:`MLPDenoiser` is zeroed so that training starts from the
    skip connection.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(max(m.in_features, 1))
            m.weight.copy_((torch.rand(m.weight.shape, generator=generator) * 2 - 1) * bound)
            if m.bias is not None:
                m.bias.copy_((torch.rand(m.bias.shape, generator=generator) * 2 - 1) * bound)
    if isinstance(module, MLPDenoiser):
        nn.init.zeros_(module.out[-1].weight)
        nn.init.zeros_(module.out[-1].bias)
    for m in module.modules():  # drawn last: the other draws are as without them
        if isinstance(m, MLPDenoiser) and m.periodic is not None:
            m.freqs.copy_(torch.randn(m.freqs.shape, generator=generator) * _FREQ_SCALE)
