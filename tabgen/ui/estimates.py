"""The expected training time shown on the job form: the benchmark's seconds per optimiser
step on Adult, scaled to the table and the training budget."""

from __future__ import annotations

#: Fit seconds of each model on the Adult table (32,561 rows, 15 columns) with its default
#: training on a 2-core CPU (``benchmarks/RESULTS.md``: the ``adult_ours`` and ``adult_peers``
#: runs; diffusion: ``results/diffusion_adult.json``, 300 epochs, one busy thread), its batch
#: size, and how its default epochs are chosen: a fixed count, or about 8,000 optimiser steps
#: within a range of epochs.
_REFERENCE = {
    "copula": (0.6, None, None),
    "vae": (101.0, 500, 100),
    "gan": (316.0, 500, (8000, 100, 300)),
    "diffusion": (561.0, 1024, (8000, 300, 10_000)),
}
_ADULT_ROWS, _ADULT_COLS = 32_561, 15
#: The imputer's chained engine (impute job, preset best): fit and transform seconds of
#: 10,000 rows x 20 columns (``results/impute_unseen_timing.json``, a busy 2-core CPU).
_CHAINED = (52.3, 10_000, 20)
#: Seconds a neural job spends before its first epoch (importing torch, building the model).
_STARTUP = 4.0


def _default_epochs(rule, steps_per_epoch: int) -> int:
    if isinstance(rule, int):
        return rule
    steps, low, high = rule
    return int(min(max(steps / steps_per_epoch, low), high))


def expected_seconds(model: str, n_rows: int, n_cols: int, epochs=None, max_time=None) -> float:
    """A rough fit time: the Adult benchmark's seconds per optimiser step, scaled by the
    rows in a batch and the columns, times the steps this table takes (capped by
    ``max_time``).

    Examples
    --------
    >>> round(expected_seconds("vae", 32_561, 15))
    105
    """
    if model == "chained":
        seconds, rows, cols = _CHAINED
        return max(seconds * n_rows * max(n_cols, 1) / (rows * cols), 0.5)
    seconds, batch, rule = _REFERENCE[model]
    if batch is None:
        return max(seconds * n_rows * max(n_cols, 1) / (_ADULT_ROWS * _ADULT_COLS), 0.1)
    adult_steps_per_epoch = -(-_ADULT_ROWS // batch)
    per_step = seconds / (adult_steps_per_epoch * _default_epochs(rule, adult_steps_per_epoch))
    steps_per_epoch = -(-n_rows // batch)
    n_epochs = epochs if epochs is not None else _default_epochs(rule, steps_per_epoch)
    scale = min(n_rows, batch) / batch * max(n_cols, 1) / _ADULT_COLS
    t = per_step * scale * steps_per_epoch * n_epochs
    if max_time is not None:
        t = min(t, max_time)
    return _STARTUP + t


def describe_seconds(t: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``, ``"about 2 h"``."""
    if t < 1:
        return "under a second"
    if t < 90:
        return f"about {max(1, round(t))} s"
    if t < 5400:
        return f"about {round(t / 60)} min"
    return f"about {t / 3600:.1f} h"
