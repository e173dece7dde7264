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
#: Largest block of :class:`RowBlocks` (below glibc's largest mmap threshold, 32 MiB).
BLOCK_BYTES = 8 * 2**20
#: Rows per forward pass of the selection's candidates on the CPU (bfloat16, one uniform per
#: choice): batches whose intermediate products (a few KB a row, the discriminator's included) stay
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
    it is in cache), the rows as a :class:`RowBlocks`.

    On the CPU, batches are computed by several threads where torch has several
    (:func:`tabgen._parallel.ordered_map`); their random draws are taken in order by the
    calling thread, so the rows are the same whatever the number of threads.
    """
    if score is None:
        out = np.empty((n, layout.compact_width), dtype="float64")
    else:
        out = RowBlocks(n, layout.compact_width, "float32")
    scores = np.empty(n, dtype="float64")
    for a, b, rows, s in _compact_chunks(
        generator, layout, sampler, noise_dim, category, n, gens, observed, low_precision, score
    ):
        out[a:b] = rows
        if score is not None:
            scores[a:b] = s
    return out if score is None else (out, scores)


class RowBlocks:
    """A matrix of ``n`` rows kept in blocks of at most :data:`BLOCK_BYTES`: the selection's
    candidates (four times the rows asked for), of which only the kept rows are read back.

    One array of tens of MiB is mapped afresh by ``malloc`` for every batch and its pages
    are faulted in (zeroed by the kernel) as the rows are written: that took about a sixth
    of the GAN's sampling time. Blocks below glibc's mmap threshold are reused from the heap
    instead. Rows are written by slices (``blocks[a:b] = rows``) and read by an array of row
    numbers (``blocks[rows]``); ``np.asarray(blocks)`` gives the whole matrix.

    Examples
    --------
    >>> m = RowBlocks(5, 2, "float32", rows_per_block=2)
    >>> m[0:5] = np.arange(10).reshape(5, 2)
    >>> m[np.array([4, 0, 3])].tolist()
    [[8.0, 9.0], [0.0, 1.0], [6.0, 7.0]]
    """

    def __init__(self, n: int, width: int, dtype, rows_per_block: int | None = None):
        self.dtype = np.dtype(dtype)
        self.shape = (int(n), int(width))
        if rows_per_block is None:
            rows_per_block = BLOCK_BYTES // max(1, width * self.dtype.itemsize)
        self.per = max(1, int(rows_per_block))
        self.blocks = [
            np.empty((min(self.per, n - a), width), self.dtype) for a in range(0, n, self.per)
        ]

    def __len__(self) -> int:
        return self.shape[0]

    def __setitem__(self, key: slice, rows: np.ndarray) -> None:
        a, b, _ = key.indices(self.shape[0])
        while a < b:
            j, at = divmod(a, self.per)
            stop = min(b, (j + 1) * self.per)
            self.blocks[j][at : at + stop - a] = rows[: stop - a]
            rows, a = rows[stop - a :], stop

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows)
        out = np.empty((len(rows), self.shape[1]), self.dtype)
        which = rows // self.per
        for j, block in enumerate(self.blocks):
            here = which == j
            out[here] = block[rows[here] - j * self.per]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate(self.blocks) if self.blocks else np.empty(self.shape, self.dtype)
        return whole if dtype is None else whole.astype(dtype)


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
    if lookup and gen.device.type == "cpu":  # a cache-sized batch (a GPU wants large ones)
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
