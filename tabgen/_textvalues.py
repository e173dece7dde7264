"""Values written as text, recognised and written back: numbers (``"1,234.50"``), dates in
a known format, and strings that look like keys (UUIDs, e-mail addresses, codes).

The evidence :mod:`tabgen.schema` detects column kinds on, and the parsing and formatting
the encoders use to turn such values into numbers and back.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Formats tried (in order) on string columns that look like dates; one must round-trip exactly.
DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d",
    "%Y%m%d",
)
_DATE_LIKE = re.compile(r"^\d{4}[-/]?\d{2}[-/]?\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$")

#: Values that look like keys: UUIDs, hex digests, e-mail addresses, a prefix and a number.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEX = re.compile(r"^[0-9a-f]{16,}$", re.I)
_CODE = re.compile(r"^([A-Za-z]{1,12}[-_#:/.]?)(\d+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
#: A number written as text: optional sign, digits (optionally grouped by thousands with
#: commas), optional decimals. Leading zeros ("02134") make it a code, not a number.
_TEXT_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def id_like_values(values: pd.Series) -> str | None:
    """``"key"`` for UUIDs and e-mail addresses, ``"code"`` for hex digests and one prefix
    followed by numbers (``"ORD-00017"``), else ``None``."""
    sample = values.iloc[:1000].astype(str)
    if sample.str.fullmatch(_UUID).all() or sample.str.fullmatch(_EMAIL).all():
        return "key"
    if sample.str.fullmatch(_HEX).all() and sample.str.contains("[a-fA-F]").any():
        return "code"
    parts = sample.str.extract(_CODE)
    return "code" if parts[0].notna().all() and parts[0].nunique() == 1 else None


def text_number_format(values: pd.Series, strict: bool = True) -> dict | None:
    """``{"thousands": bool, "decimals": int}`` when every value is a number written as
    text (``strict``: none with a leading zero, as in zip codes), else ``None``."""
    text = values.astype(str)
    if not text.str.fullmatch(_TEXT_NUMBER).all():
        return None
    if strict and text.str.match(_LEADING_ZERO).any():
        return None
    decimals = text.str.extract(r"\.(\d+)$")[0].str.len()
    return {
        "thousands": bool(text.str.contains(",", regex=False).any()),
        "decimals": int(decimals.max()) if decimals.notna().any() else 0,
    }


def parse_text_numbers(values: pd.Series) -> np.ndarray:
    """Numbers written as text (``"1,234.50"``) as float64 (missing cells as NaN)."""
    text = values.astype(object).where(values.notna(), None)
    cleaned = text.map(lambda v: None if v is None else str(v).replace(",", ""))
    return pd.to_numeric(cleaned).to_numpy(dtype="float64", na_value=np.nan)


def format_text_numbers(x: np.ndarray, text: dict) -> np.ndarray:
    """Numbers as text in the format recorded by :func:`text_number_format`."""
    sep = "," if text.get("thousands") else ""
    digits = int(text.get("decimals", 0))
    out = np.empty(len(x), dtype=object)
    out[:] = [format(float(v), f"{sep}.{digits}f") for v in x]
    return out


def all_whole(values: pd.Series) -> bool:
    if len(values) == 0:
        return False
    arr = np.asarray(values, dtype="float64")
    return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))


def string_datetime_format(col: pd.Series) -> str | None:
    vals = col.dropna()
    if len(vals) == 0 or not all(isinstance(v, str) for v in vals.iloc[:50]):
        return None
    sample = vals.iloc[: min(len(vals), 200)]
    if not all(_DATE_LIKE.match(v) for v in sample):
        return None
    uniq = pd.Series(vals.unique())
    for fmt in DATETIME_FORMATS:
        try:
            parsed = pd.to_datetime(uniq, format=fmt)
        except (ValueError, TypeError):
            continue
        if (parsed.dt.strftime(fmt) == uniq).all():
            return fmt
    return None


def is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
