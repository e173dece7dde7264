"""Detection of PII-like columns by their values."""

from __future__ import annotations

import ipaddress
import re

import numpy as np
import pandas as pd

from tabgen.pii.names import _FLAG_VALUES

# ---------------------------------------------------------------------------------------------
# detection by values
# ---------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_CARD = re.compile(r"\d[\d -]{11,}\d")
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
_PHONE = re.compile(r"\+?[\d().\s-]+")
_DATE_ANY = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_THOUSANDS = re.compile(r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?")
_DECIMAL = re.compile(r"\d*\.\d+")
_NAME_WORD = re.compile(r"[^\W\d_]\.?|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_ADDRESS = re.compile(
    r"\d+[A-Za-z]?,?\s+(?:[^\W\d_][\w'.-]*\s+){1,4}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|"
    r"terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy)\b\.?.*",
    re.IGNORECASE,
)
#: Postcode formats distinct enough to be recognised without a column name: UK
#: (``SW1A 1AA``), Canada (``K1A 0B6``), the Netherlands (``1012 AB``) and US ZIP+4
#: (``94105-1804``). Plain digit strings (``"94105"``) are postcodes only by name.
_POSTCODE = re.compile(
    r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z] ?\d[A-Z]\d"  # Canada
    r"|[1-9]\d{3} ?[A-Z]{2}"  # Netherlands
    r"|\d{5}-\d{4}"  # US ZIP+4
)
#: What a value of a column *named* as a postcode must look like: 3-10 letters and digits
#: (at least one digit), maybe with one space or hyphen inside.
_POSTCODE_LOOSE = re.compile(r"(?=[^\d]*\d)[A-Za-z\d]{2,}(?:[ -][A-Za-z\d]+)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Value types whose syntax is unambiguous: they override a name that says another type.
_STRONG = ("email", "url", "ip", "iban", "card", "ssn")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_ip(s: str) -> bool:
    if "." not in s and ":" not in s:
        return False
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def _is_card(s: str) -> bool:
    if not _CARD.fullmatch(s):
        return False
    digits = s.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and digits.isdigit() and _luhn_ok(digits)


def _is_phone(s: str) -> bool:
    if not s or s[0] not in "+(0123456789" or not _PHONE.fullmatch(s):
        return False
    if not 7 <= sum(c.isdigit() for c in s) <= 15:
        return False
    if not s.startswith("+") and not any(c in " ().-" for c in s):
        return False  # a plain number
    return not (_DATE_ANY.fullmatch(s) or _THOUSANDS.fullmatch(s) or _DECIMAL.fullmatch(s))


def _is_person_name(s: str) -> bool:
    parts = s.split()
    if not 2 <= len(parts) <= 3:
        return False
    for p in parts:
        if not (p[0].isupper() and _NAME_WORD.fullmatch(p)):
            return False
        if len(p.rstrip(".")) > 1 and not any(c.islower() for c in p):
            return False  # all capitals: an acronym, not a capitalised name
    return True


_VALUE_CHECKS = (
    ("email", lambda s: bool(_EMAIL.fullmatch(s))),
    ("url", lambda s: bool(_URL.fullmatch(s))),
    ("ip", _is_ip),
    ("iban", lambda s: bool(_IBAN.fullmatch(s.replace(" ", "")))),
    ("card", _is_card),
    ("ssn", lambda s: bool(_SSN.fullmatch(s))),
)


def _sample_values(col: pd.Series, sample_rows: int) -> list:
    """Up to ``sample_rows`` non-missing values, evenly spaced over the column."""
    values = col.dropna()
    if len(values) > sample_rows:
        values = values.iloc[np.linspace(0, len(values) - 1, sample_rows).round().astype(int)]
    return list(values)


def _type_from_values(values: list, min_share: float) -> str | None:
    if not values:
        return None
    strings = [v.strip() for v in values if isinstance(v, str)]
    total = len(values)
    if len(strings) < min_share * total:
        return None

    def share(check) -> float:
        return sum(1 for s in strings if check(s)) / total

    for pii_type, check in _VALUE_CHECKS:
        if share(check) >= min_share:
            return pii_type
    if share(lambda s: bool(_POSTCODE.fullmatch(s))) >= min_share:
        return "postcode"
    distinct = len(set(strings)) / max(len(strings), 1)
    if distinct >= 0.5 and share(_is_phone) >= min_share:
        return "phone"
    if share(lambda s: bool(_ADDRESS.fullmatch(s))) >= min_share:
        return "address"
    if distinct >= 0.5 and share(_is_person_name) >= min_share:
        return "person_name"
    if distinct >= 0.5 and np.mean([len(s.split()) for s in strings]) >= 4:
        return "free_text"
    return None


def _is_flag(values: list) -> bool:
    """A yes/no, true/false or 0/1 column: a property of a person, not an identifier."""
    distinct = {_as_text(v).lower() for v in values}
    return 0 < len(distinct) <= 2 and distinct <= _FLAG_VALUES


def _is_text_dtype(col: pd.Series) -> bool:
    return (
        col.dtype == object
        or isinstance(col.dtype, (pd.StringDtype, pd.CategoricalDtype))
        or pd.api.types.is_string_dtype(col.dtype)
    )


def _as_text(v) -> str:
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


#: The types whose values are made of digits (a phone number, a card, an IBAN, an SSN).
_DIGIT_TYPES = frozenset({"phone", "card", "iban", "ssn"})
_DIGIT = re.compile(r"\d")


def _is_digitless_category(values: list, min_digits: int = 4, share: float = 0.1) -> bool:
    """Whether a column *named* as a phone number, card, IBAN or SSN is a category instead:
    fewer than ``share`` of its values with ``min_digits`` digits, and fewer distinct values
    than ``share`` of them (credit-g's ``own_telephone`` holds ``"yes"`` and ``"none"``). The
    bars are low so that a real phone column with many placeholders (``"n/a"``), or one of
    unreadable but distinct values, stays PII."""
    if not values:
        return False
    texts = [_as_text(v) for v in values]
    digits = sum(len(_DIGIT.findall(t)) >= min_digits for t in texts)
    return digits < share * len(texts) and len(set(texts)) < share * len(texts)


def _are_postcodes(values: list, min_share: float) -> bool:
    """Whether the values of a column *named* as a postcode (``zip``) can be postcodes: whole
    numbers of 3 to 10 digits (ZIP codes stored as numbers lose their leading zeros) or short
    codes of letters and digits. Fractions, negative or short numbers (``zip`` holding 0-9, a
    compression level) and long text are not, so the column stays a feature."""
    if not values:
        return False

    def fits(v) -> bool:
        if isinstance(v, str):
            s = v.strip()
            return 3 <= len(s) <= 10 and bool(_POSTCODE_LOOSE.fullmatch(s))
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            return False
        f = float(v)
        return f.is_integer() and 100 <= f < 1e10

    return sum(map(fits, values)) >= min_share * len(values)
