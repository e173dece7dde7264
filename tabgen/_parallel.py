"""Independent jobs run by a few threads, results in order: how ``sample_to_file`` uses
several cores while its batches stay bit-identical to a one-thread run.

Each job is computed by one worker thread with one native thread (torch's intra-op pool,
BLAS): the cores are shared between jobs, not inside one, so no thread pool spins at its
barriers and no job depends on how many run at once. The calling thread consumes the
results in order (e.g. writes them to a file) while the next jobs run; at most ``workers``
jobs are in flight, so memory is bounded by ``workers + 1`` results.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator

#: Most worker threads :func:`default_workers` picks (each job holds a batch in memory).
MAX_WORKERS = 4


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Worker threads for jobs of torch or numpy work: torch's intra-op thread count where
    torch is loaded (``torch.set_num_threads(1)`` thus means one job at a time), else the
    available cores; at most :data:`MAX_WORKERS`."""
    torch = sys.modules.get("torch")
    n = torch.get_num_threads() if torch is not None else available_cores()
    return max(1, min(int(n), MAX_WORKERS))


def _one_native_thread() -> None:
    """Worker initialiser: this thread's torch operations use one thread (torch's intra-op
    setting of an existing thread is its own)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@contextlib.contextmanager
def _single_threaded_natives() -> Iterator[None]:
    """BLAS pools at one thread, and torch's default for new threads at one, restored on
    exit (the calling thread's own torch setting is unchanged)."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    saved = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(saved)


def ordered_map(job: Callable, items: Iterable, workers: int) -> Iterator:
    """``job(item)`` for each item, in order, computed by ``workers`` threads.

    ``workers=1`` runs the jobs one after the other in the calling thread, nothing else
    changed. Otherwise items are taken lazily, at most ``workers`` jobs run at a time, and
    an exception of a job is raised when its result is reached (the jobs in flight are
    waited for first).

    Examples
    --------
    >>> list(ordered_map(lambda x: x * x, range(5), workers=2))
    [0, 1, 4, 9, 16]
    """
    if workers <= 1:
        for item in items:
            yield job(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    items = iter(items)
    with (
        _single_threaded_natives(),
        ThreadPoolExecutor(workers, initializer=_one_native_thread) as pool,
    ):
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(job, item))
                if len(pending) >= workers:
                    break
            while pending:
                done = pending.popleft().result()
                for item in items:  # keep the workers busy while the caller consumes
                    pending.append(pool.submit(job, item))
                    break
                yield done
        finally:
            for future in pending:
                future.cancel()
