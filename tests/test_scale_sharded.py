"""Sharded sampling (``tabgen.scale.sample_sharded``): in process and on a Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.scale import sample_sharded, shard_seeds, shard_sizes


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "key": [f"k{i}" for i in range(300)],
            "x": rng.normal(size=300),
            "c": rng.choice(["a", "b", "c"], 300),
        }
    )
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
    path = tmp_path_factory.mktemp("model") / "copula.tabgen"
    model.save(path)
    return path


def _parts(paths):
    return [pd.read_parquet(p) for p in paths]


def test_shard_sizes_and_seeds():
    assert shard_sizes(7, 3) == [3, 2, 2]
    assert sum(shard_sizes(1_000_003, 4)) == 1_000_003
    a = [s.generate_state(2).tolist() for s in shard_seeds(5, 3)]
    b = [s.generate_state(2).tolist() for s in shard_seeds(5, 3)]
    assert a == b and len({tuple(x) for x in a}) == 3  # reproducible, distinct
    assert shard_seeds(5, 2)[0].generate_state(1) != shard_seeds(6, 2)[0].generate_state(1)


def test_in_process_shards(model_file, tmp_path):
    paths = sample_sharded(model_file, tmp_path / "a", 1001, n_shards=3, random_state=0)
    assert [p.name for p in paths] == [f"part-0000{k}.parquet" for k in range(3)]
    parts = _parts(paths)
    assert [len(p) for p in parts] == [334, 334, 333]
    whole = pd.read_parquet(tmp_path / "a")  # read back as one dataset
    assert len(whole) == 1001 and list(whole.columns) == ["key", "x", "c"]
    # regenerated ids continue across shards: unique over the whole output
    assert whole["key"].is_unique
    # independent streams: no shard repeats another's values
    x0, x1 = parts[0]["x"].to_numpy()[:333], parts[1]["x"].to_numpy()[:333]
    assert np.mean(x0 == x1) < 0.1
    assert abs(np.corrcoef(x0, x1)[0, 1]) < 0.2
    # fixed seed: identical files; another seed: different rows
    again = _parts(sample_sharded(model_file, tmp_path / "b", 1001, n_shards=3, random_state=0))
    for p, q in zip(parts, again):
        pd.testing.assert_frame_equal(p, q)
    other = _parts(sample_sharded(model_file, tmp_path / "c", 1001, n_shards=3, random_state=1))
    assert not parts[0]["x"].equals(other[0]["x"])


def test_model_object_and_errors(model_file, tmp_path):
    model = tabgen.load(model_file)
    a = _parts(sample_sharded(model, tmp_path / "obj", 50, n_shards=2, random_state=3))
    b = _parts(sample_sharded(model_file, tmp_path / "file", 50, n_shards=2, random_state=3))
    for p, q in zip(a, b):
        pd.testing.assert_frame_equal(p, q)
    assert sorted(f.name for f in (tmp_path / "obj").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]  # the temporary model file is gone
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sample_sharded(model_file, tmp_path / "obj", 50, n_shards=2)
    paths = sample_sharded(model_file, tmp_path / "obj", 30, n_shards=1, overwrite=True)
    assert len(pd.read_parquet(tmp_path / "obj")) == 30 and len(paths) == 1
    with pytest.raises(ValueError, match="n_shards"):
        sample_sharded(model_file, tmp_path / "x", 10, n_shards=0)
    with pytest.raises(ValueError, match="larger than n"):
        sample_sharded(model_file, tmp_path / "x", 2, n_shards=3)
    with pytest.raises(FileNotFoundError):
        sample_sharded(tmp_path / "nope.tabgen", tmp_path / "x", 10)


def test_dask_local_cluster_matches_in_process(model_file, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        paths = sample_sharded(
            model_file, tmp_path / "dask", 2000, client=client, batch_size=300, random_state=7
        )
        assert len(paths) == 2  # default: one shard per worker
        parts = _parts(paths)
        assert [len(p) for p in parts] == [1000, 1000]
        assert not parts[0]["x"].equals(parts[1]["x"])
        local = _parts(
            sample_sharded(
                model_file, tmp_path / "local", 2000, n_shards=2, batch_size=300, random_state=7
            )
        )
        for p, q in zip(parts, local):  # same files whichever engine ran the shards
            pd.testing.assert_frame_equal(p, q)
