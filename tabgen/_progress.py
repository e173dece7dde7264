"""Progress bars: a ``tqdm.auto`` bar (a widget in notebooks, text on stderr elsewhere).

The trainer calls :class:`ProgressBar` after each epoch (its ``verbose`` hook); long
sampling and the pipelines use :func:`bar` directly. A single large ``sample()`` call and
the imputer's ``transform`` open a :func:`task`, which the models' own loops advance
(:func:`chunks`, :func:`each`): the rows are generated exactly as without a bar.
:func:`watch` lets a caller (the web app) follow every training run of its thread without
touching the models' settings. Nothing here touches a logger, so a verbose call shows its
own output and leaves the session's logging as it was. ``tqdm`` is imported only when a bar
is shown.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

#: A ``sample()`` call of at least this many rows shows a bar when the model is ``verbose``.
SAMPLE_BAR_ROWS = 10_000


def bar(total=None, *, desc: str = "", unit: str = "it", enabled: bool = True, leave=True):
    """A ``tqdm.auto`` bar on stderr, or a silent stand-in when ``enabled`` is false.

    Parameters
    ----------
    total : int, optional
        Steps planned (``None``: unknown, no ETA).
    desc : str
        Label left of the bar.
    unit : str
        Name of one step ("epoch", "row", ...).
    enabled : bool
        Show the bar; otherwise return an object with the same methods that does nothing.
    leave : bool
        Keep the finished bar on screen.

    Returns
    -------
    tqdm or NullBar
    """
    if not enabled:
        return NullBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr,
                dynamic_ncols=True)  # fmt: skip


class NullBar:
    """A bar that shows nothing (``verbose=False``)."""

    def update(self, n=1) -> None:
        pass

    def set_postfix_str(self, s="", refresh=True) -> None:
        pass

    def set_description_str(self, s="", refresh=True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ProgressBar:
    """The trainer's ``verbose`` hook: one bar in epochs with the ETA and, when
    ``show_loss`` (not in DP runs, whose raw losses are not private), each network's mean
    loss of the last epoch.

    Parameters
    ----------
    name : str
        Label of the bar (the model).
    show_loss : bool
        Show the losses beside the bar.
    """

    def __init__(self, name: str = "model", show_loss: bool = True):
        self.name = name
        self.show_loss = show_loss
        self._bar = None
        self._done = 0

    def __call__(self, p) -> None:
        if self._bar is None:
            self._bar = bar(p.total, desc=p.name or self.name, unit="epoch")
        if self.show_loss and p.loss:
            self._bar.set_postfix_str(
                " ".join(f"{k}={v:.4g}" for k, v in p.loss.items()), refresh=False
            )
        self._bar.update(p.epoch - self._done)
        self._done = p.epoch
        if p.stopped:
            self._bar.set_description_str(f"{p.name or self.name} (stopped)", refresh=False)
        if p.stopped or p.epoch >= p.total:
            self.close()

    def close(self) -> None:
        """Close the bar (also when training ends by an error)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def pass_verbose(model, verbose) -> None:
    """Switch on ``model``'s own progress output when a pipeline is ``verbose`` (a model
    without a ``verbose`` parameter is left alone; ``verbose=False`` keeps its setting)."""
    if verbose and "verbose" in model.get_params(deep=False):
        model.set_params(verbose=True)


# -- watchers: follow the training runs of this thread ---------------------------------------
_WATCHERS = threading.local()


@contextmanager
def watch(callback: Callable) -> Iterator[None]:
    """Call ``callback(progress)`` after each epoch of every trainer built in this thread
    while the block runs, whatever the models' ``verbose``.

    ``progress`` is the trainer's :class:`~tabgen.nn.trainer.Progress`; in runs that do not
    show their losses (DP training) its ``loss`` is empty. An exception raised by
    ``callback`` ends the training run (a way to cancel it).

    Examples
    --------
    >>> seen = []
    >>> with watch(seen.append):
    ...     len(watchers(show_loss=True))
    1
    >>> watchers(show_loss=True)
    []
    """
    stack = getattr(_WATCHERS, "stack", None)
    if stack is None:
        stack = _WATCHERS.stack = []
    stack.append(callback)
    try:
        yield
    finally:
        stack.remove(callback)


def watchers(show_loss: bool) -> list:
    """The hooks a new trainer adds for the :func:`watch` blocks open in this thread."""
    return [_Watcher(cb, show_loss) for cb in getattr(_WATCHERS, "stack", None) or []]


class _Watcher:
    def __init__(self, callback: Callable, show_loss: bool):
        self.callback = callback
        self.show_loss = show_loss

    def __call__(self, p) -> None:
        self.callback(p if self.show_loss else dataclasses.replace(p, loss={}))


# -- tasks: a bar that the loops below the caller advance ---------------------------------------
_TASKS = threading.local()


def _tasks():
    state = _TASKS
    if not hasattr(state, "stack"):
        state.stack, state.depth = [], 0
    return state


@contextmanager
def task(total: int, *, desc: str, unit: str, enabled: bool = True) -> Iterator[Callable]:
    """A bar of ``total`` steps that :func:`chunks` and :func:`each` loops run in this thread
    advance while the block runs; the block gets a function ``advance(steps)`` for steps it
    counts itself.

    A task opened inside another one (a ``sample()`` call of a pipeline that shows its own
    bar) shows nothing and takes no steps: the outer bar is the one on screen. Steps beyond
    ``total`` are not shown; the bar is completed when the block ends without an error.

    Examples
    --------
    >>> with task(10, desc="demo", unit="row", enabled=False):
    ...     sum(1 for _ in chunks(10, 4))
    3
    """
    state = _tasks()
    show = bool(enabled) and not state.stack
    progress = bar(total, desc=desc, unit=unit) if show else None
    entry = [progress, 0, total]
    state.stack.append(entry)
    ok = False
    try:
        yield lambda steps: _advance_entry(entry, steps)
        ok = True
    finally:
        entry = state.stack.pop()
        if progress is not None:
            if ok and entry[1] < total:
                progress.update(total - entry[1])
            progress.close()


def _advance(steps: int) -> None:
    state = _tasks()
    if state.stack:
        _advance_entry(state.stack[-1], steps)


def _advance_entry(entry: list, steps: int) -> None:
    if entry[0] is None or steps <= 0:
        return
    steps = min(steps, entry[2] - entry[1])
    if steps > 0:
        entry[0].update(steps)
        entry[1] += steps


def _outermost(items: Iterable, sizes: Callable) -> Iterator:
    """Yield ``items``; after each, advance the open task by ``sizes(i, item)`` when this is
    the outermost such loop (a loop of candidates inside a loop of kept rows counts once)."""
    state = _tasks()
    outer = state.depth == 0
    state.depth += 1
    try:
        for i, item in enumerate(items):
            yield item
            if outer:
                _advance(sizes(i, item))
    finally:
        state.depth -= 1


def chunks(n: int, size: int) -> Iterator[int]:
    """``range(0, n, size)``: the starts of a loop over ``n`` rows by chunks of ``size``,
    advancing the open :func:`task` by each chunk's rows."""
    return _outermost(range(0, n, size), lambda i, a: min(size, n - a))


def each(items, rows: int = 0) -> Iterator:
    """Yield ``items`` (a sequence), advancing the open :func:`task` by one per item, or,
    with ``rows``, by an even share of ``rows`` per item (the solver steps of a batch of
    rows)."""
    k = len(items)
    if not rows:
        return _outermost(items, lambda i, item: 1)
    return _outermost(items, lambda i, item: rows * (i + 1) // k - rows * i // k)
