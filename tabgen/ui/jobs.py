"""Background jobs of the web app: one at a time per workspace, the others queued.

A :class:`Job` runs a :class:`~tabgen.ui.forms.JobSpec` in the :class:`JobRunner`'s worker
thread. Its progress comes from the trainer's progress hook (:func:`tabgen._progress.watch`
follows every training run of the thread) and from the stages of the job (fit, sample,
report). :meth:`JobRunner.cancel` stops a running job for real: the next progress call (after
each training epoch, each sampled batch and between stages) raises :class:`Cancelled`, which
unwinds the fit.
"""

from __future__ import annotations

import collections
import logging
import secrets
import threading
import time
import traceback

logger = logging.getLogger("tabgen.ui")

#: The states of a job.
STATES = ("queued", "running", "done", "failed", "cancelled")


class Cancelled(BaseException):
    """Raised inside a cancelled job to stop it (a ``BaseException`` so that no
    ``except Exception`` on the way swallows it)."""


def error_text(exc: BaseException) -> str:
    """One line for a failed job, as ``tabgen``'s command line words it: the message of a
    bad-input error, ``internal error: ...`` for anything else.

    Examples
    --------
    >>> error_text(ValueError("n must be a positive integer, got 0"))
    'n must be a positive integer, got 0'
    >>> error_text(ZeroDivisionError("division by zero"))
    'internal error: ZeroDivisionError: division by zero'
    """
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return f"missing key {text}"
    if isinstance(exc, (ValueError, TypeError, OSError)):
        return text or type(exc).__name__
    return f"internal error: {type(exc).__name__}: {text}" if text else type(exc).__name__


class Job:
    """One job: its spec, state, progress and result.

    Parameters
    ----------
    spec : JobSpec
        What to run (validated).
    dataset : Dataset
        The table it runs on.
    """

    def __init__(self, spec, dataset):
        self.id = secrets.token_hex(8)
        self.spec = spec
        self.dataset = dataset
        self.state = "queued"
        self.stage = "waiting for the previous job"
        self.fraction = 0.0
        self.epoch = None
        self.total = None
        self.loss: dict = {}
        self.eta = None
        self.error = None
        self.result = None
        self.created = time.time()
        self.started = None
        self.finished = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._span = (0.0, 1.0)

    # -- called from the worker ---------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`Cancelled` when the job was cancelled."""
        if self._cancel.is_set():
            raise Cancelled()

    def begin_stage(self, name: str, start: float, end: float) -> None:
        """Enter a stage that covers ``[start, end]`` of the bar."""
        self.check()
        with self._lock:
            self.stage = name
            self.fraction = max(self.fraction, start)
            self._span = (start, end)
            self.eta = None  # the last training figures (epoch, loss) stay on show

    def advance(self, done: float) -> None:
        """Within the current stage, ``done`` (0-1) of it is done."""
        self.check()
        start, end = self._span
        with self._lock:
            self.fraction = max(self.fraction, start + (end - start) * min(max(done, 0.0), 1.0))

    def on_epoch(self, p) -> None:
        """The trainer's progress hook (see :func:`tabgen._progress.watch`)."""
        with self._lock:
            self.epoch, self.total = int(p.epoch), int(p.total)
            self.loss = {str(k): float(v) for k, v in (p.loss or {}).items()}
            per_epoch = p.seconds / max(p.epoch, 1)
            self.eta = 0.0 if p.stopped else per_epoch * max(p.total - p.epoch, 0)
        self.advance(p.epoch / max(p.total, 1))

    # -- read by the pages --------------------------------------------------------------------
    def status(self, position: int | None = None) -> dict:
        """The JSON the run page polls."""
        with self._lock:
            elapsed = None
            if self.started is not None:
                elapsed = (self.finished or time.time()) - self.started
            eta = self.eta
            if eta is None and self.state == "running" and elapsed and self.fraction > 0.05:
                eta = elapsed * (1 - self.fraction) / self.fraction
            return {
                "id": self.id,
                "kind": self.spec.kind,
                "model": self.spec.model,
                "state": self.state,
                "stage": (
                    "cancelling: stops at the next epoch or step"
                    if self.state == "running" and self._cancel.is_set()
                    else self.stage
                ),
                "percent": round(100 * (1.0 if self.state == "done" else self.fraction), 1),
                "epoch": self.epoch,
                "epochs": self.total,
                "loss": self.loss,
                "eta_seconds": None if eta is None else round(float(eta), 1),
                "elapsed_seconds": None if elapsed is None else round(elapsed, 1),
                "error": self.error,
                "queue_position": position,
            }


class JobRunner:
    """Runs jobs one at a time in a worker thread; later jobs wait in a queue.

    Parameters
    ----------
    run : callable
        ``run(job)`` does the work (and returns the job's result).
    """

    def __init__(self, run):
        self._run = run
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self.jobs: dict[str, Job] = {}
        self.current: Job | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="tabgen-ui-jobs", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Job:
        """Queue ``job`` (it starts when the jobs before it have ended)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the job runner is closed")
            self.jobs[job.id] = job
            self._queue.append(job)
            self._cond.notify_all()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id) if isinstance(job_id, str) else None

    def position(self, job: Job) -> int | None:
        """1 for the next job to run, 2 after it ...; ``None`` when not waiting."""
        with self._cond:
            for k, queued in enumerate(self._queue):
                if queued is job:
                    return k + 1
        return None

    def cancel(self, job: Job) -> None:
        """Stop ``job``: a waiting one never starts; a running one stops at its next progress
        call."""
        with self._cond:
            if job in self._queue:
                self._queue.remove(job)
                job.state, job.stage = "cancelled", "cancelled before it started"
                job.finished = time.time()
                return
        job._cancel.set()

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        """Wait until ``job`` has ended; ``False`` on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while job.state in ("queued", "running"):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Cancel everything and stop the worker (waits up to ``timeout`` s for a running
        job to stop)."""
        with self._cond:
            self._closed = True
            for job in list(self._queue):
                job.state, job.stage = "cancelled", "cancelled: the app stopped"
            self._queue.clear()
            if self.current is not None:
                self.current._cancel.set()
            self._cond.notify_all()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self.current = self._queue.popleft()
                job.state, job.started = "running", time.time()
            self._execute(job)
            with self._cond:
                self.current = None
                self._cond.notify_all()

    def _execute(self, job: Job) -> None:
        from tabgen._progress import watch

        try:
            with watch(job.on_epoch):
                job.check()
                result = self._run(job)
            job.result = result
            job.state, job.stage, job.fraction = "done", "done", 1.0
        except Cancelled:
            job.state, job.stage = "cancelled", "cancelled"
        except Exception as exc:  # shown on the page, as the API words it
            job.state, job.stage = "failed", "failed"
            job.error = error_text(exc)
            logger.debug("job %s failed:\n%s", job.id, traceback.format_exc())
        finally:
            job.finished = time.time()
            job.eta = None
