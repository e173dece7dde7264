"""Sampling throughput (#30): the batches of ``sample_to_file`` and the GAN's candidate
batches computed by worker threads give the same rows as one thread; the selection's
candidates drawn by inverse CDF (one uniform per choice) from the softmax law."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen._parallel import AHEAD, default_workers, ordered_map
from tabgen.synthesizers.gan.candidates import sample_compact_cdf
from tabgen.synthesizers.gan.generator import CompactPlan

TINY = {**tabgen.GANSynthesizer._test_params(), "epochs": 1}


def _table(n=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(),
            "job": rng.choice(["a", "b", "c"], n),
            "gain": np.where(rng.random(n) < 0.7, 0.0, rng.exponential(1000, n)),
            "city": pd.Series(rng.choice(["x", "y", None], n), dtype=object),
        }
    )


@pytest.fixture(scope="module")
def gan():
    return tabgen.GANSynthesizer(**TINY, random_state=0).fit(_table())


@pytest.fixture
def torch_threads():
    """Restore torch's thread count after a test that changes it."""
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


def test_ordered_map_keeps_order_and_bounds_the_items_in_flight():
    taken = []

    def items():
        for i in range(20):
            taken.append(i)
            yield i

    out = ordered_map(lambda x: x * 10, items(), workers=3)
    assert next(out) == 0
    assert len(taken) <= 1 + AHEAD * 3  # the first result and the jobs submitted after it
    assert list(out) == [10 * i for i in range(1, 20)]


def test_ordered_map_raises_a_jobs_error_and_runs_serially_with_one_worker():
    def job(x):
        if x == 3:
            raise ValueError("bad item 3")
        return threading.get_ident()

    with pytest.raises(ValueError, match="bad item 3"):
        list(ordered_map(job, range(6), workers=2))
    assert set(ordered_map(job, range(3), workers=1)) == {threading.get_ident()}


def test_workers_use_one_torch_thread_and_the_caller_keeps_its_own(torch_threads):
    torch.set_num_threads(2)
    assert default_workers() == 2
    seen = list(ordered_map(lambda _: torch.get_num_threads(), range(4), workers=2))
    assert seen == [1, 1, 1, 1]
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    assert default_workers() == 1


def test_concurrent_blocks_restore_torchs_thread_count(torch_threads):
    torch.set_num_threads(2)
    gate = threading.Barrier(2)

    def run():
        def job(x):
            gate.wait(timeout=10) if x == 0 else None
            return x

        list(ordered_map(job, range(4), workers=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = []
    fresh = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    fresh.start()
    fresh.join()
    assert seen == [2] and torch.get_num_threads() == 2


def _read(path) -> pd.DataFrame:
    return tabgen.read_table(path)


@pytest.mark.parametrize("name", ["copula", "gan"])
def test_files_are_the_same_whatever_n_jobs(name, gan, tmp_path, torch_threads):
    model = gan if name == "gan" else tabgen.GaussianCopulaSynthesizer(random_state=0)
    if name == "copula":
        model.fit(_table())
    files = {}
    for jobs in (1, 3):
        files[jobs] = tabgen.sample_to_file(
            model, tmp_path / f"{name}{jobs}.parquet", 1000, batch_size=300,
            random_state=4, n_jobs=jobs,
        )  # fmt: skip
    pd.testing.assert_frame_equal(_read(files[1]), _read(files[3]))
    # the default (torch's thread count) too, and the CSV writer
    torch.set_num_threads(2)
    default = tabgen.sample_to_file(model, tmp_path / "d.csv", 1000, batch_size=300, random_state=4)
    csv = tabgen.sample_to_file(
        model, tmp_path / "one.csv", 1000, batch_size=300, random_state=4, n_jobs=1
    )
    assert default.read_text() == csv.read_text()


def test_n_jobs_is_checked(gan, tmp_path):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or None, got 0"):
        tabgen.sample_to_file(gan, tmp_path / "a.parquet", 10, random_state=0, n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs=2 needs a random_state"):
        tabgen.sample_to_file(gan, tmp_path / "b.parquet", 10, n_jobs=2)
    assert not (tmp_path / "b.parquet").exists()


def test_gan_candidates_on_two_threads_equal_one_thread(gan, torch_threads):
    rows = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        # 40,000 candidates: several generator batches, so both workers take some
        rows[threads] = gan.sample(10_000, random_state=2)
    pd.testing.assert_frame_equal(rows[1], rows[2])
    assert torch.get_num_threads() == 2


def _reference_cdf(raw, layout, uniform, observed=()):
    """Block by block: the first slot whose cumulative softmax reaches ``u`` (the oracle)."""
    n = raw.shape[0]
    out = torch.zeros((n, layout.compact_width))
    plan = CompactPlan.of(layout, observed)
    order = {slot: i for i, slot in enumerate(plan.order)}
    block = {}  # first slot of a block -> its uniform column, group by group
    for (_, _, first, _), group in zip(plan.spans, plan.groups("cpu"), strict=True):
        cols, width = group[0].tolist(), group[1]
        for j in range(len(cols) // width):
            block[cols[j * width]] = first + j
    for b in layout.blocks:
        s = b.span
        if s.kind == "continuous":
            continue
        keep = s.column not in observed
        if not keep and s.role == "missing":
            continue
        width = b.width - (0 if keep or b.missing is None else 1)
        logits = raw[:, [order[b.start + k] for k in range(width)]].double()
        cum = torch.softmax(logits, dim=1).cumsum(1)
        u = uniform[:, block[b.start]].double().unsqueeze(1)
        choice = (cum < u - 1e-6).sum(1).clamp_max(width - 1)
        if s.kind == "softmax":
            out[torch.arange(n), s.start + choice] = 1.0
        elif b.missing is not None and keep:
            gone = choice == s.n_categories
            out[:, b.missing] = gone.float()
            out[:, s.start] = torch.where(gone, 0, choice).float()
        else:
            out[:, s.start] = choice.float()
    return out


@pytest.mark.parametrize("observed", [(), ("city", "gain")])
def test_inverse_cdf_choices_equal_the_block_by_block_oracle(gan, observed):
    plan = CompactPlan.of(gan.layout_, observed)
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(3000, len(plan.order), generator=gen) * 2
    uniform = torch.rand(3000, plan.n_blocks, generator=gen)
    got = sample_compact_cdf(
        raw, torch.zeros(3000, len(plan.continuous)), uniform, gan.layout_, observed
    )
    expected = _reference_cdf(raw, gan.layout_, uniform, observed)
    cont = [o for _, o in plan.continuous]
    other = [j for j in range(gan.layout_.compact_width) if j not in cont]
    # float32 against float64 cumulative sums: a uniform within 1e-6 of a boundary may differ
    assert (got[:, other] != expected[:, other]).any(dim=1).float().mean() < 1e-3


def test_blocks_far_below_the_rows_largest_logit_are_drawn_by_their_own_law(gan):
    # one group's logits 250 above the others: after the row's shift the other blocks'
    # weights underflow to 0 and are drawn again block by block (else: their last slot)
    plan = CompactPlan.of(gan.layout_, ())
    gen = torch.Generator().manual_seed(5)
    raw = torch.randn(2000, len(plan.order), generator=gen) * 2
    lo, hi = plan.spans[0][:2]
    raw[:1000, lo:hi] += 250.0
    uniform = torch.rand(2000, plan.n_blocks, generator=gen)
    got = sample_compact_cdf(raw, torch.zeros(2000, len(plan.continuous)), uniform, gan.layout_)
    expected = _reference_cdf(raw, gan.layout_, uniform)
    cont = [o for _, o in plan.continuous]
    other = [j for j in range(gan.layout_.compact_width) if j not in cont]
    assert (got[:, other] != expected[:, other]).any(dim=1).float().mean() < 1e-3


def test_inverse_cdf_draws_follow_the_softmax_law():
    from tabgen.encoders.base import Span
    from tabgen.synthesizers.gan.layout import GanLayout

    layout = GanLayout([Span("c", 0, 4, "softmax", n_categories=4)])
    logits = torch.tensor([1.0, -0.5, 2.0, 0.0])
    n = 40_000
    uniform = torch.rand(n, 1, generator=torch.Generator().manual_seed(3))
    rows = sample_compact_cdf(logits.expand(n, 4).bfloat16(), None, uniform, layout)
    share = rows.mean(0)
    expected = torch.softmax(logits.bfloat16().float(), 0)
    assert (share - expected).abs().max() < 0.01


def test_output_columns_in_the_plans_order_equal_the_full_output(gan):
    G, layout = gan.generator_, gan.layout_
    plan = CompactPlan.of(layout, ())
    gen = torch.Generator().manual_seed(1)
    _, category = gan.sampler_.sample_conditions(2000, gen, train=False)
    noise = torch.randn(2000, gan.embedding_dim, generator=gen)
    weights = G.inference_weights()
    tanh = [b.start for b in layout.blocks if b.activation == "tanh"]
    full, head = G.infer_lookup_parts(noise, category, G.lookup_weights(weights, tanh, 32))
    some, head2 = G.infer_lookup_parts(
        noise, category, G.lookup_weights(weights, tanh, 32, columns=plan.order)
    )
    assert torch.equal(full[:, plan.order], some) and torch.equal(head, head2)


def test_row_blocks_hold_slices_across_blocks_and_gather_any_rows():
    from tabgen.synthesizers.gan.networks import RowBlocks

    full = np.arange(30, dtype="float32").reshape(10, 3)
    blocks = RowBlocks(10, 3, "float32", rows_per_block=4)
    for a, b in [(0, 3), (3, 9), (9, 10)]:  # slices straddling the blocks' edges
        blocks[a:b] = full[a:b]
    assert len(blocks.blocks) == 3 and len(blocks) == 10
    rows = np.array([9, 0, 4, 3, 8, 4])
    np.testing.assert_array_equal(blocks[rows], full[rows])
    np.testing.assert_array_equal(np.asarray(blocks), full)


def test_bfloat16_selection_passes_hold_about_the_same_bytes_of_candidates():
    from tabgen.synthesizers.gan.estimator import SELECTION_BYTES, _selection_rows
    from tabgen.synthesizers.postprocess.selection import CHUNK

    rows = _selection_rows(4, 59)
    assert rows % 1024 == 0 and 4 * 4 * 59 * rows <= SELECTION_BYTES
    assert 4 * 4 * 59 * (rows + 1024) > SELECTION_BYTES
    assert _selection_rows(4, 10**6) == 1024  # very wide rows: still a whole batch
    assert _selection_rows(2, 1) == CHUNK  # narrow rows: at most CHUNK
