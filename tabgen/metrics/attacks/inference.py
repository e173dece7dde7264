"""Inference: guess a secret column from the nearest synthetic row on the other columns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._columns import to_float
from .space import NeighbourSpace
from .statistics import _summary, null_upper_bounds

#: Share of leak-free releases that stay under every secret's floor at once.
FLOOR_LEVEL = 0.95
#: Leak-free redraws behind the floors.
NULL_DRAWS = 10_000


def _inference_correct(
    guess: np.ndarray, truth: np.ndarray, kind: str, tolerance: float, span: float
) -> np.ndarray:
    if kind == "categorical":
        return guess == truth  # codes; missing is -1 on both sides
    both_missing = np.isnan(guess) & np.isnan(truth)
    scale = np.abs(truth) if kind == "numerical" else np.full(len(truth), span)
    with np.errstate(invalid="ignore"):
        close = np.abs(guess - truth) <= tolerance * scale
    return both_missing | close


def _per_secret_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = [
        "secret",
        "kind",
        "risk",
        "low",
        "high",
        "attack_rate",
        "control_rate",
        "baseline_rate",
        "n_attacks",
        "floor",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).rename(columns={"risk_low": "low", "risk_high": "high"})
    if "floor" not in frame:
        frame["floor"] = float("nan")
    frame = frame[columns].sort_values("risk", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def inference(
    space: NeighbourSpace,
    codes: list[np.ndarray],
    frames: list[pd.DataFrame],
    kinds: Mapping[str, str],
    secrets: list,
    *,
    n: int,
    tolerance: float,
    confidence: float,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """One summary per secret column: main, control and baseline (a random synthetic row's
    value) inference of ``n`` training and ``n`` holdout rows.

    ``codes`` are the shared category codes of the synthetic, training and holdout tables
    (:func:`~.queries._query_columns`), ``frames`` the tables in the same order.
    """
    idx_real, idx_hold, targets = space.targets(n, rng)
    columns = space.columns
    n_syn = len(space.synthetic)
    rows = []
    for secret in secrets:
        j = columns.index(secret)
        kind = kinds[secret]
        if kind == "categorical":
            values = [t[j] for t in codes]  # shared codes, -1 for missing
            span = float("nan")
        else:
            values = [to_float(f[secret], kind) for f in frames]
            present = values[1][~np.isnan(values[1])]
            span = float(present.max() - present.min()) if len(present) else 0.0
        syn_v, real_v, hold_v = values
        idx = space.nearest(targets, space.sources != j, 1)
        guess = syn_v[idx[:, 0]]
        truth = np.concatenate([real_v[idx_real], hold_v[idx_hold]])
        correct = _inference_correct(guess, truth, kind, tolerance, span)
        random_guess = syn_v[rng.integers(0, n_syn, n)]
        base = _inference_correct(random_guess, real_v[idx_real], kind, tolerance, span)
        summary = _summary(
            (int(correct[:n].sum()), int(correct[n:].sum()), int(base.sum())),
            (n, n, n),
            confidence,
        )
        rows.append({"secret": secret, "kind": kind, **summary})
    return rows


def headline(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None, float]:
    """The inference headline over the secrets: the summary of the riskiest secret, a note
    naming the secrets where the attack is no better than guessing, and the largest upper
    bound over all secrets."""
    best = max(rows, key=lambda r: -1.0 if math.isnan(r["risk"]) else r["risk"])
    summary = {k: v for k, v in best.items() if k != "kind"}
    weak = [r["secret"] for r in rows if r["attack_rate"] <= r["baseline_rate"]]
    note = None
    if weak and best["secret"] not in weak:
        note = f"for secrets {weak!r} the attack is no better than random guessing"
    highs = [r["risk_high"] for r in rows if not math.isnan(r["risk_high"])]
    return summary, note, max(highs) if highs else float("nan")


def leak_free_floor(
    rows: list[dict[str, Any]], confidence: float, rng: np.random.Generator
) -> float:
    """The leak-free floor of the inference headline's upper bound, and each secret's own
    floor (under ``"floor"`` in ``rows``).

    A secret's floor is the quantile ``1 - 0.05/S`` (``S`` secrets, Bonferroni) of the upper
    bounds a release leaking nothing gets at its counts (:func:`~.statistics.null_upper_bounds`):
    a leak-free release stays under every secret's floor at once at least 95 % of the time, so
    it also stays under the floor of whichever secret the headline picks. The headline's floor
    is the floor of its secret (the riskiest one). NaN without usable secrets.
    """
    usable = [r for r in rows if not math.isnan(r["risk"]) and r["n_attacks"] > 0]
    for r in rows:
        r["floor"] = float("nan")
    if not usable:
        return float("nan")
    _, high = null_upper_bounds(
        np.array([r["attack_successes"] for r in usable]),
        np.array([r["control_successes"] for r in usable]),
        np.array([r["n_attacks"] for r in usable]),
        confidence,
        rng,
        draws=NULL_DRAWS,
    )
    level = 1.0 - (1.0 - FLOOR_LEVEL) / len(usable)
    for j, r in enumerate(usable):
        r["floor"] = float(np.quantile(high[:, j], level))
    return max(usable, key=lambda r: r["risk"])["floor"]
