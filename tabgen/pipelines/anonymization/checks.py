"""Parameter checks and the column decisions of :class:`Anonymizer` taken before fitting."""

from __future__ import annotations

import numbers

import pandas as pd

from tabgen._validation import schema_kinds

#: Minimum number of input rows: below it a holdout cannot measure anything.
MIN_ROWS = 50
PII_MODES = ("regenerate", "drop")


def check_params(anonymizer, frame: pd.DataFrame) -> None:
    """Check an :class:`Anonymizer`'s parameters against the table it is fitted on; the
    errors name the parameter and the value."""
    if len(frame) < MIN_ROWS:
        raise ValueError(
            f"the table has {len(frame)} rows (n_samples={len(frame)}); anonymization needs "
            f"at least {MIN_ROWS} "
            "so that a holdout can be kept out to measure privacy against"
        )
    if anonymizer.pii not in PII_MODES:
        raise ValueError(f"pii must be one of {PII_MODES}, got {anonymizer.pii!r}")
    named = {"target": [anonymizer.target] if anonymizer.target is not None else []}
    named["pii_columns"] = list(anonymizer.pii_columns or [])
    named["keep_columns"] = list(anonymizer.keep_columns or [])
    named["schema"] = list(schema_kinds(anonymizer.schema) or {})
    named["domain"] = list(anonymizer.domain or {})
    for option, cols in named.items():
        unknown = [c for c in cols if c not in frame.columns]
        if unknown:
            raise ValueError(
                f"{option} names column(s) {unknown!r} that are not in the data; "
                f"columns are {list(frame.columns)!r}"
            )
    if (
        not isinstance(anonymizer.rare_threshold, numbers.Integral)
        or isinstance(anonymizer.rare_threshold, bool)
        or anonymizer.rare_threshold < 0
    ):
        raise ValueError(
            f"rare_threshold must be a non-negative integer, got {anonymizer.rare_threshold!r}"
        )
    q = anonymizer.distance_quantile
    if isinstance(q, str):
        if q != "auto":
            raise ValueError(f"distance_quantile must be 'auto', None or in [0, 1), got {q!r}")
    elif q is not None and (not isinstance(q, numbers.Real) or not 0 <= q < 1):
        raise ValueError(f"distance_quantile must be 'auto', None or in [0, 1), got {q!r}")
    if anonymizer.epsilon is not None:
        from tabgen.privacy import check_epsilon

        check_epsilon(anonymizer.epsilon)
        if q is not None and not isinstance(q, str):
            raise ValueError(
                "distance_quantile filters synthetic rows by their distance to the real "
                "rows, which breaks the differential-privacy guarantee; leave it 'auto' "
                "(off in DP mode) when epsilon is set"
            )
    elif anonymizer.delta is not None or anonymizer.domain is not None:
        raise ValueError("delta and domain only apply with epsilon (DP mode)")


def holdout_rows(holdout, n: int) -> int:
    """Rows to keep out of ``n``: a share in (0, 1) or a count; both parts at least 10."""
    h = holdout
    if isinstance(h, numbers.Integral) and not isinstance(h, bool):
        rows = int(h)
    elif isinstance(h, numbers.Real) and 0 < h < 1:
        rows = round(n * float(h))
    else:
        raise ValueError(f"holdout must be a share in (0, 1) or a row count, got {h!r}")
    if rows < 10 or n - rows < 10:
        raise ValueError(
            f"holdout={h!r} leaves {rows} holdout and {n - rows} training rows out of {n}; "
            "both need at least 10"
        )
    return rows


def resolve_pii(anonymizer, frame: pd.DataFrame, kinds: dict) -> dict:
    """``{column: pii type}`` kept out of the model: detected, plus ``pii_columns``, minus
    ``keep_columns``; in column order."""
    from tabgen.pii import detect_pii

    found = dict(detect_pii(frame, kinds))
    extra = anonymizer.pii_columns or []
    if isinstance(extra, dict):
        found.update(extra)
    else:
        for col in extra:
            if col not in found:
                found[col] = "free_text"
    for col in anonymizer.keep_columns or []:
        found.pop(col, None)
    if anonymizer.target is not None and anonymizer.target in found:
        raise ValueError(
            f"target column {anonymizer.target!r} looks like PII ({found[anonymizer.target]}); "
            "pass it in keep_columns to learn it anyway"
        )
    return {c: found[c] for c in frame.columns if c in found}
