"""``sampling_strategy`` parsing with imbalanced-learn's meaning, for over-sampling.

Small pure functions: class counts in, ``{class: number of rows to generate}`` out.
"""

from __future__ import annotations

from collections import Counter
from numbers import Real

_STRINGS = ("auto", "minority", "not minority", "not majority", "all")


def target_counts(strategy, y) -> dict:
    """Rows to *add* per class, as imbalanced-learn's over-samplers read ``sampling_strategy``.

    Parameters
    ----------
    strategy : float, str, dict or callable
        * float (binary targets only): desired ratio ``n_minority / n_majority`` after
          resampling;
        * ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``, ``"auto"``
          (= ``"not majority"``): which classes to grow to the majority's size;
        * dict ``{class: desired number of rows}`` (never below the current count);
        * callable ``f(y) -> dict`` as above.
    y : array-like
        The target.

    Returns
    -------
    dict
        ``{class: rows to generate}`` (classes needing none are omitted).

    Examples
    --------
    >>> target_counts("auto", ["a"] * 6 + ["b"] * 2 + ["c"])
    {'b': 4, 'c': 5}
    >>> target_counts(0.5, [0] * 10 + [1] * 2)
    {1: 3}
    """
    counts = Counter(list(y))
    if len(counts) < 2:
        raise ValueError(
            f"the target has a single class ({next(iter(counts))!r}): one class only, need 2+"
        )
    majority = max(counts.values())
    if callable(strategy):
        strategy = strategy(y)
        if not isinstance(strategy, dict):
            raise TypeError("a callable sampling_strategy must return a dict {class: n_rows}")
    if isinstance(strategy, dict):
        return _from_dict(strategy, counts)
    if isinstance(strategy, str):
        return _from_string(strategy, counts, majority)
    if isinstance(strategy, Real) and not isinstance(strategy, bool):
        return _from_ratio(float(strategy), counts, majority)
    raise TypeError(f"sampling_strategy must be a float, str, dict or callable, got {strategy!r}")


def _from_dict(wanted: dict, counts: Counter) -> dict:
    unknown = [c for c in wanted if c not in counts]
    if unknown:
        raise ValueError(
            f"sampling_strategy names class(es) {unknown!r} absent from the target; "
            f"classes are {sorted(counts, key=str)!r}"
        )
    out = {}
    for cls, n in wanted.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"sampling_strategy[{cls!r}] must be a non-negative int, got {n!r}")
        if n < counts[cls]:
            raise ValueError(
                f"sampling_strategy asks to shrink class {cls!r} from {counts[cls]} to {n} "
                "rows; an over-sampler only adds rows (use an under-sampler for that)"
            )
        if n > counts[cls]:
            out[cls] = n - counts[cls]
    return out


def _from_string(strategy: str, counts: Counter, majority: int) -> dict:
    if strategy not in _STRINGS:
        raise ValueError(
            f"sampling_strategy must be one of {_STRINGS} when a string, got {strategy!r}"
        )
    minority = min(counts.values())
    major_cls = [c for c, n in counts.items() if n == majority]
    minor_cls = [c for c, n in counts.items() if n == minority]
    if strategy == "minority":
        chosen = minor_cls[:1]
    elif strategy == "not minority":
        chosen = [c for c in counts if c not in minor_cls[:1]]
    elif strategy == "all":
        chosen = list(counts)
    else:  # "auto", "not majority"
        chosen = [c for c in counts if c not in major_cls[:1]]
    return {c: majority - counts[c] for c in chosen if majority > counts[c]}


def _from_ratio(ratio: float, counts: Counter, majority: int) -> dict:
    if len(counts) != 2:
        raise ValueError(
            "a float sampling_strategy is only defined for binary targets; "
            f"this target has {len(counts)} classes (pass a dict or a string)"
        )
    if not 0 < ratio <= 1:
        raise ValueError(f"a float sampling_strategy must be in (0, 1], got {ratio}")
    minority_cls = min(counts, key=counts.get)
    desired = int(ratio * majority)
    if desired < counts[minority_cls]:
        raise ValueError(
            f"sampling_strategy={ratio} asks for {desired} rows of class {minority_cls!r}, "
            f"which already has {counts[minority_cls]}; an over-sampler cannot shrink a class"
        )
    return {minority_cls: desired - counts[minority_cls]} if desired > counts[minority_cls] else {}
