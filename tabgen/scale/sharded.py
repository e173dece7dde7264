"""Sharded sampling: many writers, one Parquet dataset, independent per-shard streams.

The rows are split into ``n_shards`` contiguous shards; shard ``k`` is written by one task
to ``part-0000k.parquet`` with :func:`tabgen.sample_to_file`, from a random stream of its
own (``SeedSequence(random_state).spawn(n_shards)[k]``: statistically independent of the
other shards, and the same whatever engine or worker runs it). The tasks run on a Dask
cluster when a ``dask.distributed.Client`` is given, one after the other in this process
otherwise; both give identical files.
"""

from __future__ import annotations

import numbers
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tabgen._rng import check_random_state, spawn_seed

#: Name of shard ``k`` (read back as one table by ``pyarrow.dataset``/``pandas``).
PART_NAME = "part-{:05d}.parquet"


def shard_sizes(n: int, n_shards: int) -> list[int]:
    """Rows of each shard: as even as possible, the first ones one row larger.

    Examples
    --------
    >>> shard_sizes(10, 3)
    [4, 3, 3]
    """
    base, extra = divmod(n, n_shards)
    return [base + (k < extra) for k in range(n_shards)]


def shard_seeds(random_state, n_shards: int) -> list[np.random.SeedSequence]:
    """Independent child seeds of ``random_state`` (``SeedSequence.spawn``).

    An int or a ``SeedSequence`` gives reproducible seeds; ``None`` fresh entropy; a
    ``Generator`` (or ``RandomState``) is advanced by one draw.

    Examples
    --------
    >>> a, b = shard_seeds(0, 2)
    >>> a.spawn_key, b.spawn_key, a.entropy == b.entropy == 0
    ((0,), (1,), True)
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        root = random_state if random_state is not None else np.random.SeedSequence()
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        check_random_state(random_state)  # rejects negative values
        root = np.random.SeedSequence(int(random_state))
    else:
        root = np.random.SeedSequence(spawn_seed(check_random_state(random_state)))
    return root.spawn(n_shards)


_LOADED: dict = {}  # per worker process: the last model loaded, by (path, mtime)


def _load_cached(model_file: str):
    from tabgen.persistence import load

    path = Path(model_file)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load(path)
    return _LOADED[key]


def write_shard(
    model_file: str,
    path: str,
    n: int,
    seed: np.random.SeedSequence,
    *,
    batch_size: int,
    id_offset: int,
    conditions: dict | None = None,
) -> tuple[str, int]:
    """Task body: load the model (once per process) and stream ``n`` rows to ``path``."""
    from tabgen.io import sample_to_file

    model = _load_cached(model_file)
    sample_to_file(
        model,
        path,
        n,
        batch_size=batch_size,
        conditions=conditions,
        random_state=seed,
        id_offset=id_offset,
        overwrite=True,  # sample_sharded applied the overwrite policy to the folder
    )
    return path, n


def sample_sharded(
    model,
    path,
    n: int,
    *,
    n_shards: int | None = None,
    client=None,
    batch_size: int = 50_000,
    conditions: dict | None = None,
    random_state=None,
    overwrite: bool = False,
) -> list[Path]:
    """Sample ``n`` rows as a folder of Parquet partitions, one task per shard.

    Parameters
    ----------
    model : BaseSynthesizer or str or Path
        A fitted model, or the file of a saved one (:meth:`~BaseSynthesizer.save`). Workers
        load the model from a file: a model object is saved first to a hidden file in
        ``path`` (removed at the end). The file and ``path`` must be visible to every worker
        (one machine, or a shared file system).
    path : str or Path
        Output folder; gets ``part-00000.parquet``, ``part-00001.parquet``, ... which
        ``pandas.read_parquet(path)`` or ``pyarrow.dataset.dataset(path)`` read as one table.
    n : int
        Total rows.
    n_shards : int, optional
        Number of shards (tasks and files). Default: the number of Dask workers, 1 without
        a client.
    client : dask.distributed.Client, optional
        Run the shards on this cluster; ``None`` runs them one by one in this process
        (same files).
    batch_size : int, default=50_000
        Rows generated at once inside a shard (bounds each worker's memory).
    conditions : dict, optional
        ``{column: value}`` fixed on every row.
    random_state : None, int, SeedSequence or Generator
        Root seed; shard ``k`` uses the ``k``-th child of ``SeedSequence(random_state)``.
        With the same seed, ``n``, ``n_shards`` and ``batch_size`` the files are identical.
    overwrite : bool, default=False
        Remove existing ``part-*.parquet`` files of ``path`` first (otherwise they raise).

    Returns
    -------
    list of Path
        The partition files, in shard order.

    Examples
    --------
    >>> import tempfile, pandas as pd, tabgen
    >>> from tabgen.scale import sample_sharded
    >>> model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(
    ...     tabgen.datasets.load_adult().head(300))
    >>> out = tempfile.mkdtemp()
    >>> parts = sample_sharded(model, out, 1000, n_shards=3, random_state=0)
    >>> [p.name for p in parts], len(pd.read_parquet(out))
    (['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet'], 1000)
    """
    from tabgen.synthesizers.base import _check_n

    n = _check_n(n)
    if n_shards is None:
        n_shards = len(client.scheduler_info()["workers"]) if client is not None else 1
    if isinstance(n_shards, bool) or not isinstance(n_shards, numbers.Integral) or n_shards < 1:
        raise ValueError(f"n_shards must be a positive integer, got {n_shards!r}")
    if n_shards > n:
        raise ValueError(f"n_shards={n_shards} is larger than n={n}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    stale = sorted(out.glob("part-*.parquet"))
    if stale and not overwrite:
        raise FileExistsError(
            f"{str(out)!r} already holds {len(stale)} part-*.parquet file(s); pass "
            "overwrite=True to replace them"
        )
    for f in stale:
        f.unlink()
    seeds = shard_seeds(random_state, n_shards)
    sizes = shard_sizes(n, n_shards)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    targets = [str(out / PART_NAME.format(k)) for k in range(n_shards)]

    tmp = None
    if isinstance(model, (str, Path)):
        model_file = str(Path(model).resolve())
        if not Path(model_file).is_file():
            raise FileNotFoundError(f"no such model file: {model_file!r}")
    else:
        model._check_fitted()
        tmp = Path(tempfile.mkdtemp(prefix=".tabgen-model-", dir=out))
        model_file = str(tmp / "model.tabgen")
        model.save(model_file)
    kwargs = {"batch_size": int(batch_size), "conditions": conditions}
    try:
        if client is None:
            for args in zip(targets, sizes, seeds, offsets):
                write_shard(model_file, *args[:3], id_offset=args[3], **kwargs)
        else:
            futures = [
                client.submit(
                    write_shard,
                    model_file,
                    target,
                    size,
                    seed,
                    id_offset=offset,
                    pure=False,
                    **kwargs,
                )
                for target, size, seed, offset in zip(targets, sizes, seeds, offsets)
            ]
            client.gather(futures)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return [Path(t) for t in targets]
