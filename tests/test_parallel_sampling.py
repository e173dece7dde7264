"""Sampling on several threads (#30): the batches of ``sample_to_file`` and the GAN's
candidate batches computed by worker threads give the same rows as one thread."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen._parallel import default_workers, ordered_map

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
    assert len(taken) <= 4  # the first result and at most 3 jobs after it
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
