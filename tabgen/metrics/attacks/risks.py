"""The three attacks run together, main, control and baseline: :func:`attack_risks`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._columns import (
    check_frame,
    check_same_columns,
    check_tables,
    resolve_kinds,
    select_columns,
)
from .._result import MetricResult
from .._sampling import RandomState, child_seed, resolve_rng, subsample
from .inference import _per_secret_frame, headline, inference, leak_free_floor
from .linkability import linkability
from .queries import _query_columns
from .singling_out import _singling_out
from .space import NeighbourSpace
from .statistics import _check_confidence, _z

#: Names of the attacks, in the order of the scores.
ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")

#: Fewest holdout (and training) rows accepted.
MIN_ROWS = 10

_NO_BETTER = "attack no better than random guessing: the risk estimate cannot be trusted"


def _check_positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{extra}, got {value!r}")


def _resolve_secrets(secrets: str | Iterable[str] | None, kinds: Mapping[str, str]) -> list:
    if secrets is None:
        return list(kinds)
    if isinstance(secrets, str) or not isinstance(secrets, Iterable):
        secrets = [secrets]
    secrets = list(dict.fromkeys(secrets))
    if not secrets:
        raise ValueError("secrets must name at least one column (or be None for all)")
    unknown = [s for s in secrets if s not in kinds]
    if unknown:
        raise ValueError(
            f"secrets names columns that are not evaluated columns of the data: {unknown!r}"
        )
    return secrets


def _resolve_split(
    aux_split: tuple[Sequence[str], Sequence[str]] | None,
    columns: list,
    rng: np.random.Generator,
) -> tuple[list, list]:
    if aux_split is None:
        order = rng.permutation(len(columns))
        half = len(columns) // 2
        return [columns[i] for i in sorted(order[:half])], [
            columns[i] for i in sorted(order[half:])
        ]
    if not isinstance(aux_split, (tuple, list)) or len(aux_split) != 2:
        raise ValueError("aux_split must be a pair (columns_a, columns_b)")
    parts = []
    for part in aux_split:
        part = [part] if isinstance(part, str) else list(part)
        if not part:
            raise ValueError("aux_split: each half must name at least one column")
        unknown = [c for c in part if c not in columns]
        if unknown:
            raise ValueError(f"aux_split names columns not evaluated in the data: {unknown!r}")
        parts.append(list(dict.fromkeys(part)))
    shared = [c for c in parts[0] if c in parts[1]]
    if shared:
        raise ValueError(f"aux_split halves must be disjoint; both name {shared!r}")
    return parts[0], parts[1]


def attack_risks(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    metadata: Mapping[str, str] | None = None,
    n_attacks: int = 2000,
    n_cols: int = 3,
    secrets: str | Iterable[str] | None = None,
    aux_split: tuple[Sequence[str], Sequence[str]] | None = None,
    n_neighbors: int = 1,
    tolerance: float = 0.05,
    confidence: float = 0.95,
    max_attempts: int | None = None,
    attacks: Sequence[str] | None = None,
    random_state: RandomState = 0,
) -> MetricResult:
    """Singling-out, linkability and inference risks with confidence intervals (Anonymeter).

    Each attack is run against the training rows (main), against the holdout rows (control)
    and as random guessing (baseline); see the module docstring for the attacks. The residual
    risk ``(attack - control) / (1 - control)`` is what the synthetic data reveal about the
    training rows beyond what they reveal about anyone from the same population.

    To make main and control comparable, the larger of ``real`` and ``holdout`` is subsampled
    (without replacement) to the size of the smaller one, usually the training rows down to
    the holdout size; every attack targets these two equal-size tables.

    Nearest neighbours (linkability, inference) use the Euclidean distance on one encoding of
    the three tables: numbers and datetimes min-max scaled on the (subsampled) training rows'
    range, categories one-hot with the indicators scaled by 1/√2 so that a mismatch costs 1 in
    squared distance (the 100 most frequent categories of a column; the others share one
    level), a missing value as an indicator of its own. For inference the secret column's
    features are dropped from that encoding.

    Parameters
    ----------
    real : pandas.DataFrame
        The training rows the generator saw (Anonymeter's ``ori``).
    synthetic : pandas.DataFrame
        Generated rows, same columns (any order).
    holdout : pandas.DataFrame
        Real rows the generator never saw (Anonymeter's ``control``), same columns, at least
        10 rows. Anonymeter recommends 500–1000 or more.
    metadata : mapping, optional
        ``{column: kind}``; other columns are inferred; ``"id"`` columns are left out.
    n_attacks : int, default 2000
        Predicates (singling out) or target rows per table (linkability, inference). Capped by
        the predicates found and by the target rows available; the numbers used are in
        ``details``.
    n_cols : int, default 3
        Columns per multivariate singling-out predicate (at most the number of columns).
    secrets : str or iterable of str, optional
        Columns to infer, each in turn with all the other columns as the attacker's knowledge;
        default every column.
    aux_split : (columns_a, columns_b), optional
        The two disjoint column sets for linkability; columns in neither are unused. Default:
        a random (seeded) split of all columns in two halves.
    n_neighbors : int, default 1
        Nearest synthetic rows per half for linkability.
    tolerance : float, default 0.05
        A numerical guess is right when ``|guess - true| <= tolerance·|true|`` (so a true 0
        needs a guess of exactly 0); for datetimes ``tolerance`` times the training range.
        Categories (and a missing value guessed as missing) must match exactly.
    confidence : float, default 0.95
        Level of the two-sided Wilson intervals: ``z = Φ⁻¹(1 - (1 - confidence)/2)``, 1.96
        at 0.95.
    max_attempts : int, optional
        Candidate predicates drawn for multivariate singling out; default ``500·n_attacks``.
        Few random conjunctions single out one row, so the search
        may stop short of ``n_attacks`` predicates (said in ``notes``).
    attacks : sequence of str, optional
        Names from :data:`ATTACKS` to run (default all); the others get no scores.
    random_state : int, numpy Generator or None, default 0
        Seeds every subsample, predicate, split and random guess.

    Returns
    -------
    MetricResult
        ``scores``: ``<attack>_risk``, ``<attack>_risk_low`` and ``<attack>_risk_high`` for
        ``singling_out_univariate``, ``singling_out_multivariate``, ``linkability`` and
        ``inference`` (the secret with the highest risk), and ``inference_risk_high_max``, the
        largest upper bound over all secrets, and ``inference_risk_high_floor``, the leak-free
        floor of the inference upper bound: the headline secret's floor, the bound that a
        release leaking nothing stays under, for every secret at once, 95 % of the time at
        these counts (``inference.leak_free_floor``; a secret the other columns nearly
        determine, control rate near 1, has a wide one). ``details``:
        per attack the attack, control and baseline rates with their errors and success
        counts, the numbers of attacks used, the risk; ``inference_per_secret`` (DataFrame,
        highest risk first, each secret's own floor in ``floor``);
        ``settings``. ``notes``: subsampling, attacks short of predicates, attacks no better
        than random guessing.

    Raises
    ------
    ValueError
        If ``holdout`` is missing or has fewer than 10 rows, the columns differ (the message
        names them), ``secrets`` or ``aux_split`` name unknown columns, or a setting is out of
        range.

    Notes
    -----
    Ties among equally near synthetic rows are broken by the neighbour search (arbitrarily but
    reproducibly). On a half made only of a few discrete columns many synthetic rows sit at
    distance 0, so even an exact copy of the target is often missed: raise ``n_neighbors`` or
    choose ``aux_split``. The inference headline is the largest of the per-secret risks, so
    with many secrets it is biased upwards; read it with its interval and
    ``inference_per_secret``.

    Examples
    --------
    A synthetic table that copies its training rows is caught; a holdout from the same
    population is the control:

    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     x = rng.normal(size=(n, 3))
    ...     return pd.DataFrame({"x": x[:, 0], "y": x[:, 1], "z": x[:, 2],
    ...                          "c": rng.choice(list("abc"), n)})
    >>> train, holdout = draw(300), draw(300)
    >>> res = attack_risks(train, train.copy(), holdout, n_attacks=200)
    >>> res.scores["linkability_risk_low"] > 0.9, res.scores["inference_risk_low"] > 0.9
    (True, True)
    >>> res = attack_risks(train, draw(300), holdout, n_attacks=200)
    >>> res.scores["linkability_risk_low"], res.scores["inference_risk_low"]
    (0.0, 0.0)
    """
    check_tables(real, synthetic)
    if holdout is None:
        raise ValueError(
            "attack_risks needs a holdout table (real rows the generator never saw) as the "
            "control; without one the risks cannot be separated from what the population reveals"
        )
    check_frame(holdout, "holdout")
    check_same_columns(real, holdout, "holdout")
    for frame, name in ((real, "real"), (holdout, "holdout")):
        if len(frame) < MIN_ROWS:
            raise ValueError(f"{name} has {len(frame)} rows; the attacks need at least {MIN_ROWS}")
    _check_positive_int(n_attacks, "n_attacks")
    _check_positive_int(n_cols, "n_cols")
    _check_positive_int(n_neighbors, "n_neighbors")
    _check_positive_int(max_attempts, "max_attempts", allow_none=True)
    _check_confidence(confidence)
    if not isinstance(tolerance, (int, float, np.floating)) or not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    run = list(ATTACKS) if attacks is None else list(dict.fromkeys(attacks))
    if not run or any(a not in ATTACKS for a in run):
        raise ValueError(f"attacks must name some of {list(ATTACKS)}, got {attacks!r}")
    kinds = resolve_kinds(real, metadata)
    columns = list(kinds)
    secret_list = _resolve_secrets(secrets, kinds)
    rng = resolve_rng(random_state)
    synthetic = select_columns(synthetic, real.columns)
    holdout = select_columns(holdout, real.columns)
    split_rng = np.random.default_rng(child_seed(rng))
    cols_a, cols_b = _resolve_split(aux_split, columns, split_rng) if len(columns) > 1 else ([], [])

    n_target = min(len(real), len(holdout))
    real_t = subsample(real, n_target, rng)
    hold_t = subsample(holdout, n_target, rng)
    seeds = {name: child_seed(rng) for name in ATTACKS}
    max_attempts = 500 * n_attacks if max_attempts is None else int(max_attempts)
    n_cols_used = min(n_cols, len(columns))

    result = MetricResult()
    result.details["settings"] = {
        "n_attacks": int(n_attacks),
        "n_cols": int(n_cols_used),
        "n_neighbors": int(n_neighbors),
        "tolerance": float(tolerance),
        "confidence": float(confidence),
        "z": _z(confidence),
        "max_attempts": int(max_attempts),
        "rows_real": len(real),
        "rows_holdout": len(holdout),
        "rows_target": int(n_target),
        "rows_synthetic": len(synthetic),
    }
    if len(real) != len(holdout):
        bigger = "real" if len(real) > len(holdout) else "holdout"
        result.notes["subsample"] = (
            f"{bigger} subsampled from {max(len(real), len(holdout))} to {n_target} rows so that "
            "the main and control attacks target equally many rows"
        )
    if n_cols_used < n_cols:
        result.notes["n_cols"] = f"n_cols lowered from {n_cols} to the {n_cols_used} columns"

    def record(name: str, summary: dict[str, Any], note: str | None = None) -> None:
        _record(result, name, summary, note)

    # Singling out, on integer codes shared by the three tables.
    tables, info = _query_columns([synthetic, real_t, hold_t], kinds)
    for name, univariate in (
        ("singling_out_univariate", True),
        ("singling_out_multivariate", False),
    ):
        if name not in run:
            continue
        summary, note = _singling_out(
            tables,
            info,
            univariate=univariate,
            n_attacks=n_attacks,
            n_cols=n_cols_used,
            max_attempts=max_attempts,
            confidence=confidence,
            rng=np.random.default_rng(seeds[name]),
        )
        record(name, summary, note)

    # Nearest-neighbour attacks on one encoding.
    n = min(n_attacks, n_target)
    if len(columns) < 2:
        for name in ("linkability", "inference"):
            for suffix in ("risk", "risk_low", "risk_high"):
                result.scores[f"{name}_{suffix}"] = float("nan")
            result.notes[name] = "needs at least two columns"
        result.scores["inference_risk_high_max"] = float("nan")
        result.scores["inference_risk_high_floor"] = float("nan")
        result.details["inference_per_secret"] = _per_secret_frame([])
        return result
    space = NeighbourSpace.encode(real_t, hold_t, synthetic, kinds)
    if "linkability" in run:
        summary = linkability(
            space,
            (cols_a, cols_b),
            n=n,
            n_neighbors=n_neighbors,
            confidence=confidence,
            rng=np.random.default_rng(seeds["linkability"]),
        )
        record("linkability", summary)
    if "inference" not in run:
        return result
    rows = inference(
        space,
        tables,
        [synthetic, real_t, hold_t],
        kinds,
        secret_list,
        n=n,
        tolerance=tolerance,
        confidence=confidence,
        rng=np.random.default_rng(seeds["inference"]),
    )
    floor_rng = np.random.default_rng(
        [seeds["inference"], 1]
    )  # leaves the other draws as they were
    floor = leak_free_floor(rows, confidence, floor_rng)
    result.details["inference_per_secret"] = _per_secret_frame(rows)
    summary, note, high_max = headline(rows)
    record("inference", summary, note)
    result.scores["inference_risk_high_max"] = high_max
    result.scores["inference_risk_high_floor"] = floor
    return result


def _record(result: MetricResult, name: str, summary: dict[str, Any], note: str | None) -> None:
    """Store one attack's summary, its three headline scores and its notes in ``result``."""
    result.details[name] = summary
    for suffix in ("risk", "risk_low", "risk_high"):
        result.scores[f"{name}_{suffix}"] = float(summary[suffix])
    messages = [note] if note else []
    if summary["attack_rate"] <= summary["baseline_rate"]:
        messages.append(_NO_BETTER)
    if messages:
        result.notes[name] = "; ".join(messages)
