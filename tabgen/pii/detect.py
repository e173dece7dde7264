"""Find the PII-like columns of a table by their name and their values."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import pandas as pd

from tabgen.pii.names import _type_from_name
from tabgen.pii.values import (
    _DIGIT_TYPES,
    _STRONG,
    _are_postcodes,
    _is_digitless_category,
    _is_flag,
    _is_text_dtype,
    _sample_values,
    _type_from_values,
)


def detect_pii(
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    sample_rows: int = 1000,
    min_share: float = 0.8,
) -> dict:
    """Find the columns that look like personal identifiers, by their name and their values.

    Parameters
    ----------
    frame : pandas.DataFrame
    kinds : mapping or Schema, optional
        ``{column: kind}`` as in :attr:`tabgen.schema.Schema.kinds`. Columns of kind ``id``
        are keys; columns typed ``datetime``, ``numerical`` or ``integer`` are judged by their
        name only. Without ``kinds``, keys are found by name only (``customer_id``, ``uuid``).
    sample_rows : int, default 1000
        At most this many non-missing values per column are scanned (evenly spaced).
    min_share : float, default 0.8
        A type is assigned by values when at least this share of the scanned values match it.

    Returns
    -------
    dict
        ``{column: pii_type}`` in column order, ``pii_type`` one of :data:`PII_TYPES`.

    Notes
    -----
    *By name*, the column name is split into tokens (``customerEmailAddress`` ->
    ``customer``, ``email``, ``address``) and runs of up to three tokens are looked up in a
    vocabulary (``email``, ``phone``, ``first name``, ``zip code``, ``ip address``,
    ``credit card``, ``iban``, ``ssn``, ``notes`` ...); ``name`` alone is a person's name
    unless a word such as ``file``, ``host``, ``product`` or ``city`` qualifies it. Names with
    a token such as ``date``, ``count``, ``type``, ``verified`` (``email_verified``) or a
    leading ``num``/``n`` are properties of the value, not the value. A postcode name
    (``zip``, ``postal_code``) also needs postcode-like values: whole numbers of 3-10 digits
    or short codes of letters and digits (a ``zip`` column of fractions is a feature); plain
    numbers are never postcodes by their values alone. A phone, card, IBAN or SSN name on a
    category without digits (under 10 % of the values with four digits, under 10 % distinct:
    credit-g's ``own_telephone`` of ``yes``/``none``) is a feature. ``city`` and ``country``
    are quasi-identifiers, not PII. Names matching :data:`tabgen.schema._ID_NAME` are keys.

    *By values* (text columns only): email, URL, IP, IBAN, Luhn-valid card and ``ddd-dd-dddd``
    numbers, then postcodes of a distinctive format (UK ``SW1A 1AA``, Canada ``K1A 0B6``,
    Netherlands ``1012 AB``, US ZIP+4 ``94105-1804``), phone numbers, street addresses,
    person names (2-3 capitalised words) and free text (4 words or more on average); phone
    numbers, person names and free text also need at least 50 % distinct values.

    A name hit wins, unless the values are clearly of another type with an unambiguous
    syntax (email, URL, IP, IBAN, card, SSN). Boolean and datetime columns and yes/no or 0/1
    flags are never PII here (a date of birth is a quasi-identifier, left to the model and its
    safeguards).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "EmailAddress": ["ann@mail.com", "bo@mail.org", "cy@web.net"],
    ...     "c1": ["+1 415 555 0100", "+44 20 7946 0000", "(212) 555-0199"],
    ...     "hostname": ["db1", "db2", "web1"],
    ...     "age": [31, 45, 27],
    ... })
    >>> detect_pii(df)
    {'EmailAddress': 'email', 'c1': 'phone'}
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if hasattr(kinds, "kinds") and not isinstance(kinds, Mapping):
        kinds = kinds.kinds  # a Schema
    kinds = dict(kinds or {})
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, numbers.Integral):
        raise TypeError(f"sample_rows must be a positive integer, got {sample_rows!r}")
    if sample_rows < 1:
        raise ValueError(f"sample_rows must be a positive integer, got {sample_rows}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    found = {}
    for name in frame.columns:
        col = frame[name]
        kind = kinds.get(name)
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        if kind == "datetime":
            continue
        values = _sample_values(col, sample_rows)
        if _is_flag(values):
            continue
        by_name = _type_from_name(name)
        if by_name == "postcode" and not _are_postcodes(values, min_share):
            by_name = None  # "zip" holding fractions or small numbers: a feature
        elif by_name in _DIGIT_TYPES and _is_digitless_category(values):
            by_name = None  # "own_telephone" holding yes/none: a feature
        by_values = None
        if _is_text_dtype(col) and kind not in ("numerical", "integer"):
            by_values = _type_from_values(values, min_share)
        if by_name is not None:
            pii = by_values if by_values in _STRONG and by_values != by_name else by_name
        elif by_values is not None:
            pii = by_values
        elif kind == "id":
            pii = "key"
        else:
            continue
        found[name] = pii
    return found
