"""Independent jobs run by a few threads, results in order: how ``sample_to_file`` uses
several cores while its batches stay bit-identical to a one-thread run.

Each job is computed by one worker thread with one native thread (torch's intra-op pool,
BLAS): the cores are shared between jobs, not inside one, so no thread pool spins at its
barriers and no job depends on how many run at once. The calling thread consumes the
results in order (e.g. writes them to a file) while the next jobs run; at most ``workers``
jobs run at a time and ``AHEAD * workers`` are submitted ahead of the one consumed (so that a
worker finishing early, or while the caller writes, finds the next job queued instead of
waiting), so memory is bounded by ``workers`` jobs' working memory plus ``AHEAD * workers + 1``
results.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator

#: Most worker threads :func:`default_workers` picks (each job holds a batch in memory).
MAX_WORKERS = 4
#: Jobs submitted ahead of the result being consumed, per worker (see :func:`ordered_map`).
AHEAD = 2


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


#: Blocks of :func:`_single_threaded_natives` running (in any thread) and what the first
#: one changed, restored by the last one.
_NATIVES = {"lock": threading.Lock(), "users": 0, "saved": None}


@contextlib.contextmanager
def _single_threaded_natives() -> Iterator[None]:
    """BLAS pools at one thread, and torch's default for new threads at one, restored when
    the last such block (of any thread) ends; the calling thread's own torch setting is
    unchanged."""
    from threadpoolctl import threadpool_limits

    with _NATIVES["lock"]:
        if _NATIVES["users"] == 0:
            torch = sys.modules.get("torch")
            saved = torch.get_num_threads() if torch is not None else None
            _NATIVES["saved"] = (torch, saved, threadpool_limits(limits=1, user_api="blas"))
        _NATIVES["users"] += 1
    try:
        yield
    finally:
        with _NATIVES["lock"]:
            _NATIVES["users"] -= 1
            if _NATIVES["users"] == 0:
                torch, saved, limits = _NATIVES["saved"]
                limits.restore_original_limits()
                if torch is not None:
                    torch.set_num_threads(saved)


#: glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: glibc's defaults (a static trim threshold once set).
_DEFAULT_TRIM = 128 * 1024


def _libc():
    """glibc through ctypes (``None`` on another C library or system)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform == "linux" else None
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """While the block runs, glibc's ``malloc`` keeps freed memory for reuse instead of
    returning it to the system and taking it back (zeroed, one page fault per 4 KiB) for
    the next batch; on exit the free memory is returned (``malloc_trim``). Elsewhere than
    on glibc, nothing changes.

    Generating a batch allocates and frees arrays of tens of MiB: with glibc's default
    (dynamic) thresholds the top of the heap is given back whenever enough of it is free,
    and arrays above the mmap threshold are mapped afresh each time, so that page faults
    took a quarter of the CPU time of streaming GAN rows. The mmap threshold is set to its
    largest value (32 MiB; glibc then keeps it fixed) and the trim threshold raised for the
    block, then set back to glibc's default.
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    try:
        yield
    finally:
        if libc is not None:
            libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM)
            libc.malloc_trim(0)


def ordered_map(job: Callable, items: Iterable, workers: int) -> Iterator:
    """``job(item)`` for each item, in order, computed by ``workers`` threads.

    ``workers=1`` runs the jobs one after the other in the calling thread, nothing else
    changed. Otherwise items are taken lazily, at most ``workers`` jobs run at a time, at
    most ``AHEAD * workers`` are submitted (queued or running) while the caller holds a
    result, so that no worker waits for the caller to consume one; an exception of a job is
    raised when its result is reached (the jobs in flight are waited for first).

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
                if len(pending) >= AHEAD * workers:
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
