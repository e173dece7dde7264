"""The GAN's two networks built from the layout, and the generator run in chunks to produce
compact rows."""

from __future__ import annotations

import numpy as np
import torch

from tabgen._progress import chunks
from tabgen.synthesizers.gan.critic import Critic
from tabgen.synthesizers.gan.embedding import WIDE
from tabgen.synthesizers.gan.generator import Generator, sample_compact
from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.sampler import ConditionSampler

#: Slots (rows x expanded width) generated per forward pass when sampling.
CHUNK_SLOTS = 4_000_000


def wide_condition_blocks(layout: GanLayout, at: int) -> list:
    """``(start, stop)`` of the wide category blocks of a conditional vector at ``at``."""
    return [
        (at + b.start - layout.dense_width, at + b.stop - layout.dense_width)
        for b in layout.categorical
        if b.width > WIDE
    ]


def build_generator(layout: GanLayout, noise_dim: int, hidden) -> Generator:
    """The generator: noise and conditional vector in, the expanded layout out."""
    wide = wide_condition_blocks(layout, noise_dim)
    return Generator(noise_dim + layout.cond_width, wide, list(hidden), layout.width)


def build_critic(layout: GanLayout, hidden, pac: int) -> Critic:
    """The critic over packs of ``pac`` expanded rows with their conditional vectors."""
    in_dim = layout.width + layout.cond_width
    wide = [(b.start, b.stop) for b in layout.categorical if b.width > WIDE]
    wide += wide_condition_blocks(layout, layout.width)
    return Critic(in_dim, wide, list(hidden), pac)


def generate_compact(
    generator: Generator,
    layout: GanLayout,
    sampler: ConditionSampler,
    noise_dim: int,
    category,
    n: int,
    gens,
    observed=(),
    low_precision: bool = False,
    score=None,
):
    """Compact rows (see :meth:`GanLayout.to_encoder`) of ``n`` generated rows; ``category``
    fixes each row's conditional vector (``None``: drawn from the training frequencies);
    ``gens`` is the ``(cpu, device)`` pair of generators; ``observed`` columns come out
    non-missing. ``low_precision``: the generator's products in bfloat16
    (:meth:`Generator.infer_low`, or :meth:`Generator.infer_lookup` with a conditional
    vector; the same random draws).

    ``score`` (float64 compact rows of one batch -> one float per row): each batch is
    scored as soon as it is generated, and the result is ``(rows as float32, scores)``
    (the same values; a float32 matrix is half the memory, and the batch is scored while
    it is in cache).
    """
    dtype = "float64" if score is None else "float32"
    out = np.empty((n, layout.compact_width), dtype=dtype)
    scores = np.empty(n, dtype="float64")
    for a, b, rows in _compact_chunks(
        generator, layout, sampler, noise_dim, category, n, gens, observed, low_precision
    ):
        out[a:b] = rows.cpu().numpy()
        if score is not None:
            scores[a:b] = score(out[a:b].astype("float64"))
    return out if score is None else (out, scores)


def _compact_chunks(
    generator, layout, sampler, noise_dim, category, n, gens, observed, low_precision
):
    """``(start, stop, compact rows as a tensor)`` of ``n`` generated rows, batch by batch
    (see :func:`generate_compact`)."""
    cpu_gen, gen = gens
    if category is None and sampler.active:
        _, category = sampler.sample_conditions(n, cpu_gen, train=False)
    chunk = int(np.clip(CHUNK_SLOTS // max(layout.width, 1), 256, 16_384))
    weights = generator.inference_weights()
    lookup = low_precision and sampler.active
    if low_precision:
        tanh = [b.start for b in layout.blocks if b.activation == "tanh"]
        if lookup:
            low = generator.lookup_weights(weights, tanh, noise_dim)
        else:
            low = generator.low_precision_weights(weights, tanh)
    with torch.no_grad():
        for a in chunks(n, chunk):
            b = min(a + chunk, n)
            noise = torch.randn(b - a, noise_dim, generator=gen, device=gen.device)
            if lookup:
                cat = torch.as_tensor(category[a:b], dtype=torch.long, device=noise.device)
                raw = generator.infer_lookup(noise, cat, low)
            else:
                if sampler.active:
                    cond = sampler.condition_vectors(category[a:b]).to(noise.device)
                else:
                    cond = noise.new_zeros(b - a, 0)
                x = torch.cat([noise, cond], dim=1)
                raw = generator.infer_low(x, low) if low_precision else generator.infer(x, weights)
            yield a, b, sample_compact(raw, layout, gen, observed)
