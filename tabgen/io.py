"""Reading and writing tables (CSV, Parquet), and streamed sampling to disk."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import logging
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from tabgen._arrow import arrow_batch, batch_fields, model_categories, parquet_schema
from tabgen._output import atomic_path, check_output

logger = logging.getLogger("tabgen")

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv")
_PARQUET = (".parquet", ".pq")


def _format(path) -> str:
    name = str(path).lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise ValueError(
        f"cannot tell the format of {str(path)!r}: use a .csv, .csv.gz, .tsv or .parquet name"
    )


def table_format(path) -> str:
    """``"csv"`` or ``"parquet"`` for a table file name; a ``ValueError`` names any other.

    Examples
    --------
    >>> table_format("rows.csv.gz")
    'csv'
    """
    return _format(path)


def read_table(path, **kwargs) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or Path
    **kwargs
        Passed to :func:`pandas.read_csv` or :func:`pandas.read_parquet`.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        The file cannot be parsed as a table.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a table file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    fmt = _format(path)
    try:
        if fmt == "parquet":
            return pd.read_parquet(path, **kwargs)
        sep = "\t" if str(path).lower().endswith(".tsv") else ","
        return pd.read_csv(path, sep=kwargs.pop("sep", sep), **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot read {str(path)!r} as {fmt.upper()}: {msg}") from None


def write_table(df: pd.DataFrame, path, *, overwrite: bool = False) -> Path:
    """Write a DataFrame to CSV or Parquet (chosen by the file extension).

    The file is written under a temporary name in the same folder and renamed into place
    when complete: an interruption leaves the old file (or nothing), never a partial table.
    Missing parent folders are created.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path
        ``.csv`` (optionally ``.gz``, ``.bz2``, ``.zip``, ``.xz``), ``.tsv`` or ``.parquet``.
    overwrite : bool, default=False
        Replace an existing file; otherwise an existing ``path`` raises ``FileExistsError``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    ValueError
        The extension names no supported format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_table(pd.DataFrame({"a": [1, 2]}), out)
    >>> read_table(out)["a"].tolist()
    [1, 2]
    """
    path = check_output(path, overwrite=overwrite, check_format=_format, parents=True)
    with atomic_path(path) as tmp:
        if _format(path) == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            with _open_csv(path, tmp) as fh:
                df.to_csv(fh, index=False, sep=_sep(path))
    return path


def _sep(path) -> str:
    return "\t" if str(path).lower().endswith(".tsv") else ","


@contextlib.contextmanager
def _open_csv(path: Path, tmp: Path):
    """A text handle on ``tmp`` compressed as ``path``'s extension says (one stream for
    the whole file, so that batches appended to it make one valid archive)."""
    name = str(path).lower()
    if name.endswith(".gz"):
        fh = gzip.open(tmp, "wt", encoding="utf-8", newline="")
    elif name.endswith(".bz2"):
        fh = bz2.open(tmp, "wt", encoding="utf-8", newline="")
    elif name.endswith(".xz"):
        fh = lzma.open(tmp, "wt", encoding="utf-8", newline="")
    elif name.endswith(".zip"):
        archive = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED)
        inner = archive.open(path.name[: -len(".zip")], "w", force_zip64=True)
        fh = io.TextIOWrapper(inner, encoding="utf-8", newline="")
        try:
            yield fh
        finally:
            fh.close()
            archive.close()
        return
    else:
        fh = open(tmp, "w", encoding="utf-8", newline="")
    try:
        yield fh
    finally:
        fh.close()


def sample_to_file(
    model,
    path,
    n: int,
    *,
    batch_size: int = 50_000,
    conditions: dict | None = None,
    random_state=None,
    on_batch=None,
    id_offset: int = 0,
    overwrite: bool = False,
    verbose: bool | None = None,
    n_jobs: int | None = None,
) -> Path:
    """Sample ``n`` rows from a fitted model straight to a CSV or Parquet file.

    Rows are generated and written ``batch_size`` at a time, so memory is bounded by the batch,
    not by ``n``. With the same ``random_state`` and ``batch_size`` the file is identical.

    Parameters
    ----------
    model : BaseSynthesizer
        A fitted synthesizer.
    path : str or Path
        Output file (``.csv``, ``.csv.gz`` or ``.parquet``).
    n : int
        Total number of rows.
    batch_size : int
        Rows per batch.
    conditions : dict, optional
        ``{column: value}`` applied to every row.
    random_state : None, int or Generator
    on_batch : callable, optional
        Called with each batch (a DataFrame) after it is written.
    id_offset : int, default=0
        First number of the regenerated ``id`` columns (a shard of a larger output starts
        where the previous shard ended, so that ids stay unique; see
        :func:`tabgen.scale.sample_sharded`).
    overwrite : bool, default=False
        Replace an existing file; otherwise an existing ``path`` raises ``FileExistsError``
        before any row is sampled. The rows go to a temporary file in the same folder that
        is renamed onto ``path`` when complete: an interruption leaves the old file (or
        nothing). Missing parent folders are created.
    verbose : bool, optional
        Show a progress bar in rows on stderr (ETA included). ``None``: the model's own
        ``verbose`` setting (off when it has none).
    n_jobs : int, optional
        Batches generated at once, each by a thread of its own with one torch (and BLAS)
        thread, while the calling thread writes the finished batches in order. ``None``:
        torch's thread count (``torch.get_num_threads()``; the available cores for a model
        without torch), at most 4, for a synthesizer sampling on the CPU with a
        ``random_state``; one batch at a time otherwise (a model on a GPU, a pipeline,
        ``random_state=None``, which continues the model's own random stream). The file
        is the same whatever ``n_jobs`` (each batch has its own seed); memory grows with
        one batch being generated per job, plus up to two finished batches per job waiting
        to be written (so that no job waits for the writer).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import tabgen
    >>> df = tabgen.datasets.load_adult().head(500)
    >>> model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "synthetic.parquet"
    >>> _ = tabgen.sample_to_file(model, out, 1200, batch_size=500, random_state=0)
    >>> len(tabgen.read_table(out))
    1200
    """
    from tabgen._rng import check_random_state
    from tabgen._validation import check_n

    n = check_n(n)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(id_offset, bool) or not isinstance(id_offset, (int, np.integer)) or id_offset < 0:
        raise ValueError(f"id_offset must be a non-negative integer, got {id_offset!r}")
    path = check_output(path, overwrite=overwrite, check_format=_format, parents=True)
    fmt = _format(path)
    rng = check_random_state(random_state) if random_state is not None else None
    seeds = (
        None if rng is None else rng.integers(0, 2**63 - 1, size=(n + batch_size - 1) // batch_size)
    )
    if verbose is None:
        verbose = bool(getattr(model, "verbose", False))
    from tabgen._parallel import ordered_map
    from tabgen._progress import task

    workers = _batch_workers(model, n_jobs, seeds is not None, -(-n // batch_size))

    from tabgen._parallel import reuse_freed_memory

    with atomic_path(path) as tmp, contextlib.ExitStack() as stack, reuse_freed_memory():
        # one bar for the file (the sample() calls below show none of their own)
        advance = stack.enter_context(task(n, desc="sampling", unit="row", enabled=verbose))
        writer = None
        text = None if fmt == "parquet" else stack.enter_context(_open_csv(path, tmp))
        done = 0
        starts = range(0, n, batch_size)

        def make(b: int):  # one batch; in a worker thread when n_jobs > 1
            m = min(batch_size, n - starts[b])
            seed = None if seeds is None else int(seeds[b])
            with task(0, desc="", unit="row", enabled=False):  # no bar of its own
                return model.sample(m, conditions, seed, id_offset=int(id_offset) + starts[b])

        batches = stack.enter_context(
            contextlib.closing(ordered_map(make, range(len(starts)), workers))
        )
        for b, batch in enumerate(batches):
            start = starts[b]
            m = min(batch_size, n - start)
            if fmt == "parquet":
                import pyarrow.parquet as pq

                if writer is None:
                    file_schema, as_text = parquet_schema(model.schema_, model_categories(model))
                    if getattr(model, "constraints_", None) is not None:  # outer columns
                        file_schema = model.constraints_.file_schema(file_schema, batch)
                    file_schema = batch_fields(file_schema, batch)
                    writer = stack.enter_context(pq.ParquetWriter(tmp, file_schema))
                writer.write_table(arrow_batch(batch, file_schema, as_text))
            else:
                batch.to_csv(text, header=start == 0, index=False, sep=_sep(path))
            done += m
            advance(m)
            if on_batch is not None:
                on_batch(batch)
            logger.debug("sampled %d / %d rows", done, n)
    return path


def _batch_workers(model, n_jobs, seeded: bool, n_batches: int) -> int:
    """Threads generating batches for :func:`sample_to_file` (see its ``n_jobs``)."""
    from tabgen._parallel import default_workers

    if n_jobs is not None:
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
            raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
        if n_jobs > 1 and not seeded:
            raise ValueError(
                f"n_jobs={n_jobs} needs a random_state (without one, batches continue the "
                "model's own random stream, one after the other)"
            )
    elif not seeded or not hasattr(model, "_sample_rows"):  # a synthesizer (BaseSynthesizer)
        return 1
    device = getattr(model, "_runtime_device", None)
    # called here, in this thread: a loaded network is moved to its device on first use
    on_cpu = device is None or device().type == "cpu"
    if n_jobs is None:
        n_jobs = default_workers() if on_cpu else 1
    return max(1, min(int(n_jobs), n_batches))


# -- large inputs: Parquet datasets read in batches -------------------------------------------
def open_dataset(path):
    """A ``pyarrow.dataset.Dataset`` over a Parquet file or a folder of Parquet files.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not Parquet (a file of another format, or a folder with no Parquet).
    """
    import pyarrow.dataset as ds

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    if path.is_file() and _format(path) != "parquet":
        raise ValueError(
            f"streamed training reads Parquet; {str(path)!r} is not (load a CSV with "
            "read_table and pass the DataFrame, or convert it to Parquet)"
        )
    dataset = ds.dataset(str(path), format="parquet")
    if not dataset.files:
        raise ValueError(f"no Parquet files in {str(path)!r}")
    return dataset


def iter_batches(dataset, batch_rows: int = 200_000, columns=None):
    """``(start, DataFrame)`` for consecutive batches of ``dataset`` (of ``columns``, default
    all), in file order."""
    import pyarrow as pa

    start = 0
    batches = dataset.to_batches(
        batch_size=batch_rows,
        columns=columns,
        batch_readahead=1,
        fragment_readahead=1,
        use_threads=False,
    )  # little read-ahead: memory stays about one batch
    pool = pa.default_memory_pool()
    for record_batch in batches:
        if record_batch.num_rows == 0:
            continue
        frame = record_batch.to_pandas(use_threads=False)
        del record_batch
        yield start, frame
        start += len(frame)
        del frame
        pool.release_unused()  # else the allocator keeps GiBs of freed batches resident


def uniform_sample(dataset, k: int, rng: np.random.Generator, batch_rows: int = 200_000):
    """``k`` rows drawn uniformly without replacement from ``dataset`` (all rows if it has
    no more than ``k``), in file order, read in one streamed pass.

    Returns
    -------
    (pandas.DataFrame, int)
        The sample and the number of rows of the dataset.
    """
    n = dataset.count_rows()
    if n == 0:
        raise ValueError("the dataset has no rows")
    if n <= k:
        return dataset.to_table().to_pandas(), n
    chosen = np.sort(rng.choice(n, size=k, replace=False))
    parts = []
    for start, frame in iter_batches(dataset, batch_rows):
        a, b = np.searchsorted(chosen, [start, start + len(frame)])
        if b > a:
            parts.append(frame.iloc[chosen[a:b] - start])
    return pd.concat(parts, ignore_index=True), n
