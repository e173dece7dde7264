"""The GAN's two networks built from the layout, and the generator run in chunks to produce
compact rows."""

from __future__ import annotations

import numpy as np
import torch

from tabgen._progress import chunks
from tabgen.synthesizers.gan.candidates import sample_compact_cdf
from tabgen.synthesizers.gan.critic import Critic
from tabgen.synthesizers.gan.embedding import WIDE
from tabgen.synthesizers.gan.generator import CompactPlan, Generator, sample_compact
from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.sampler import ConditionSampler

#: Slots (rows x expanded width) generated per forward pass when sampling.
CHUNK_SLOTS = 4_000_000
#: Rows per forward pass of the selection's candidates (bfloat16, one uniform per choice):
#: batches whose intermediate products (a few KB a row, the discriminator's included) stay
#: in the processor's cache, which made the candidates about a fifth cheaper than 16,384.
CANDIDATE_ROWS = 4_096


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

    On the CPU, batches are computed by several threads where torch has several
    (:func:`tabgen._parallel.ordered_map`); their random draws are taken in order by the
    calling thread, so the rows are the same whatever the number of threads.
    """
    dtype = "float64" if score is None else "float32"
    out = np.empty((n, layout.compact_width), dtype=dtype)
    scores = np.empty(n, dtype="float64")
    for a, b, rows, s in _compact_chunks(
        generator, layout, sampler, noise_dim, category, n, gens, observed, low_precision, score
    ):
        out[a:b] = rows
        if score is not None:
            scores[a:b] = s
    return out if score is None else (out, scores)


def _compact_chunks(
    generator, layout, sampler, noise_dim, category, n, gens, observed, low_precision, score
):
    """``(start, stop, compact rows as an array, their scores or None)`` of ``n`` generated
    rows, batch by batch (see :func:`generate_compact`)."""
    from tabgen._parallel import default_workers, ordered_map

    cpu_gen, gen = gens
    if category is None and sampler.active:
        _, category = sampler.sample_conditions(n, cpu_gen, train=False)
    chunk = int(np.clip(CHUNK_SLOTS // max(layout.width, 1), 256, 16_384))
    weights = generator.inference_weights()
    # the selection's candidates (bfloat16, conditional vectors): one uniform per choice
    lookup = low_precision and sampler.active
    if lookup:
        chunk = min(chunk, CANDIDATE_ROWS)
    plan = CompactPlan.of(layout, observed)
    plan.groups(gen.device)  # built here, not by the workers
    low = None
    if low_precision:
        tanh = [b.start for b in layout.blocks if b.activation == "tanh"]
        if lookup:
            low = generator.lookup_weights(weights, tanh, noise_dim, columns=plan.order)
        else:
            low = generator.low_precision_weights(weights, tanh)
    dtype = "float64" if score is None else "float32"
    draw_width = plan.n_blocks if lookup else layout.width

    def draws():  # in this thread, in the order of a one-thread run
        for a in chunks(n, chunk):
            b = min(a + chunk, n)
            noise = torch.randn(b - a, noise_dim, generator=gen, device=gen.device)
            uniform = torch.rand((b - a, draw_width), generator=gen, device=gen.device)
            yield a, b, noise, uniform

    def compute(item):
        a, b, noise, uniform = item
        with torch.no_grad():
            if lookup:
                cat = torch.as_tensor(category[a:b], dtype=torch.long, device=noise.device)
                raw, head = generator.infer_lookup_parts(noise, cat, low)
                rows = sample_compact_cdf(raw, head, uniform, layout, observed)
            else:
                if sampler.active:
                    cond = sampler.condition_vectors(category[a:b]).to(noise.device)
                else:
                    cond = noise.new_zeros(b - a, 0)
                x = torch.cat([noise, cond], dim=1)
                raw = generator.infer_low(x, low) if low_precision else generator.infer(x, weights)
                rows = sample_compact(raw, layout, None, observed, uniform=uniform)
            rows = rows.cpu().numpy().astype(dtype, copy=False)
        return a, b, rows, None if score is None else score(rows.astype("float64"))

    workers = default_workers() if gen.device.type == "cpu" else 1
    yield from ordered_map(compute, draws(), workers)
