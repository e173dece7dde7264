"""Detect PII-like columns and generate fresh, format-preserving fake values for them.

PII-like columns (emails, phone numbers, person names, street addresses, IPs, URLs, card, IBAN
and social-security numbers, postcodes, free text) and key columns are never learned by a
generative model: :func:`detect_pii` finds them, and :class:`FakeColumn` replaces them with
fresh values of the same format.

What a :class:`FakeColumn` learns from the real column is only aggregate and non-identifying
(all of it is in ``facts_``, a JSON-serialisable dict):

* the missing rate;
* for the shape-preserving types (``phone``, ``postcode``, ``card``, ``iban``, ``ssn``,
  string ``key``), the *shapes* of the values — letters become ``a``/``A``, digits ``9``,
  other characters are kept, so ``"+47 912 34 567"`` has the shape ``"+99 999 99 999"`` —
  and only the shapes seen at least ``min_count`` times, with their frequencies: a format used
  by fewer than ``min_count`` people (a single foreign number, a typo) is never released;
* for ``person_name``, ``address`` and ``free_text``, the distribution of the number of words
  (capped and binned, bins below ``min_count`` dropped);
* for keys, whether they are integers or UUIDs; for IPs, the share of IPv6 addresses.

No real value is ever stored.

Why generated values do not coincide with real ones
---------------------------------------------------
Most types use ranges reserved for examples or never assigned, so a collision with a real
value is impossible unless the real data already use these reserved ranges:

=============  ==================================================================================
email          ``<word>.<word><digits>@example.com`` / ``.org`` / ``.net`` (RFC 2606)
url            ``https://www.example.com/<word>`` (also ``.org`` / ``.net``)
ip             IPv4 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737); IPv6
               2001:db8::/32 (RFC 3849)
phone          the learned shapes, the last seven digits in the fictional 555-0100 ... 555-0199
               range (``"+1 212 555 0142"``); shapes of fewer than 7 digits are filled at random
card           the learned shapes, first digit ``0`` (major industry identifier 0 is not used by
               card issuers, ISO/IEC 7812), valid Luhn check digit
iban           the learned shapes, country code ``QM`` ... ``QZ`` (user-assigned in ISO 3166,
               never a country), valid ISO 13616 check digits
ssn            nine-digit shapes as ``9dd-00-dddd``: area 900-999 with group 00 is never issued
               (neither SSN nor ITIN); other shapes are filled at random
=============  ==================================================================================

Names, street addresses and free text are built from random pronounceable syllables (names and
street words have three syllables), so they are essentially never real names or sentences.
Postcodes and string keys are filled at random in their learned shapes: a generated value
is then (close to) uniform over the shape's space ``S``, and the chance that one of ``n``
generated values equals one of the ``m`` real values of that shape is at most ``n * m / |S|``
(for example ``1e4 * 1e4 / 26**3 / 10**6 < 6e-3`` for keys shaped ``"AAA999999"``).
Postcodes are not unique identifiers and will coincide with real ones; that is harmless,
since the value is drawn without looking at any real value and lands in an unrelated synthetic
row. Integer keys are the row numbers ``offset + 1 ... offset + n`` (the real key range is not
used) and may equal real keys numerically in the same way.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import numbers
import re
import uuid
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from tabgen._rng import check_random_state
from tabgen.schema import _ID_NAME

PII_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "person_name",
    "address",
    "ip",
    "url",
    "card",
    "iban",
    "ssn",
    "postcode",
    "free_text",
    "key",
)

# ---------------------------------------------------------------------------------------------
# detection by column name
# ---------------------------------------------------------------------------------------------
#: Phrases (tokens joined without separators, so "first name", "firstName" and "firstname" are
#: one entry) that name a PII type. The longest phrase found in a column name decides.
_NAME_VOCAB: dict[str, str] = {
    **dict.fromkeys(("email", "mail", "emailaddress", "emailaddr", "mailaddress"), "email"),
    **dict.fromkeys(
        (
            "phone",
            "tel",
            "telephone",
            "mobile",
            "fax",
            "phonenumber",
            "phoneno",
            "telno",
            "cellphone",
            "cellnumber",
            "mobilephone",
            "mobilenumber",
            "msisdn",
        ),
        "phone",
    ),
    **dict.fromkeys(
        (
            "firstname",
            "lastname",
            "surname",
            "fullname",
            "username",
            "givenname",
            "familyname",
            "middlename",
            "forename",
            "nickname",
            "maidenname",
        ),
        "person_name",
    ),
    **dict.fromkeys(
        ("address", "addr", "street", "streetaddress", "streetname", "addressline"), "address"
    ),
    **dict.fromkeys(("ip", "ipv4", "ipv6", "ipaddress", "ipaddr"), "ip"),
    **dict.fromkeys(("url", "website", "homepage", "webaddress"), "url"),
    **dict.fromkeys(
        ("creditcard", "cardnumber", "cardno", "ccn", "ccnumber", "pan", "creditcardnumber"),
        "card",
    ),
    **dict.fromkeys(("iban", "accountnumber", "accountno", "bankaccount"), "iban"),
    **dict.fromkeys(
        (
            "ssn",
            "socialsecurity",
            "socialsecuritynumber",
            "nationalid",
            "passport",
            "taxid",
            "nationalinsurance",
        ),
        "ssn",
    ),
    **dict.fromkeys(("zip", "zipcode", "postcode", "postalcode"), "postcode"),
    **dict.fromkeys(
        ("comment", "comments", "note", "notes", "description", "freetext", "remark", "remarks"),
        "free_text",
    ),
    # a MAC address identifies a device: regenerated as a key, never as a street address
    **dict.fromkeys(("macaddress", "macaddr"), "key"),
}
#: Words before "name" that make it something other than a person's name.
_NOT_PERSON = frozenset(
    "file host col column table field product company brand item server domain model class "
    "category variable var feature device machine app application package project event city "
    "country state region province store shop org organisation organization business bank "
    "school team group dataset data sheet attribute attr tag label type department dept job "
    "role course program species drug disease place location town site page branch unit style "
    "font color colour song album movie film title book game street module function "
    "method index key".split()
)
#: Tokens that make a PII-sounding name a property of the value (a date, a count, a flag ...).
_NEGATIVE = frozenset(
    "date time timestamp datetime count cnt counts flag is has verified valid validated opened "
    "sent clicked bounced type status len length domain provider format changed updated opt "
    "optin consent country city state region enabled confirmed file path size".split()
)
_COUNT_PREFIX = frozenset("num n nb no nr total count cnt".split())
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_FLAG_VALUES = frozenset({"yes", "no", "y", "n", "true", "false", "t", "f", "0", "1"})


def _tokens(name) -> list[str]:
    """Lower-case tokens of a column name: split on non-alphanumerics, camelCase and digits.

    >>> _tokens("customerEmailAddress"), _tokens("IPv4"), _tokens("zip_code2")
    (['customer', 'email', 'address'], ['i', 'pv', '4'], ['zip', 'code', '2'])
    """
    out: list[str] = []
    for part in re.split(r"[\W_]+", str(name)):
        out.extend(t.lower() for t in _CAMEL.findall(part))
    return out


def _type_from_name(name) -> str | None:
    """The PII type a column name points to (``"key"`` included), or None."""
    tokens = _tokens(name)
    if not tokens:
        return None
    if set(tokens) & _NEGATIVE or (len(tokens) > 1 and tokens[0] in _COUNT_PREFIX):
        return None
    for size in (3, 2, 1):
        hits = [
            _NAME_VOCAB.get("".join(tokens[i : i + size])) for i in range(len(tokens) - size + 1)
        ]
        hits = [h for h in hits if h is not None]
        if hits:
            return hits[-1]  # the head noun is usually last: "home_phone_email" is an email
    if tokens == ["cell"]:
        return "phone"
    for i, tok in enumerate(tokens):
        if tok in ("name", "names") and (i == 0 or tokens[i - 1] not in _NOT_PERSON):
            return "person_name"
    if (
        _ID_NAME.search(str(name))
        or tokens[-1] in ("id", "uuid", "guid")
        or tokens[0] in ("uuid", "guid")
    ):
        return "key"
    return None


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
    leading ``num``/``n`` are properties of the value, not the value. ``city`` and ``country``
    are quasi-identifiers, not PII. Names matching :data:`tabgen.schema._ID_NAME` are keys.

    *By values* (text columns only): email, URL, IP, IBAN, Luhn-valid card and ``ddd-dd-dddd``
    numbers, then phone numbers, street addresses, person names (2-3 capitalised words) and
    free text (4 words or more on average); the last four also need at least 50 % distinct
    values.

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


# ---------------------------------------------------------------------------------------------
# fake values
# ---------------------------------------------------------------------------------------------
_SHAPE_TYPES = ("phone", "postcode", "card", "iban", "ssn", "key")
#: Formats used when no learned shape was seen ``min_count`` times (``key``: "syn-000001").
_CANONICAL = {
    "phone": "+1 999 999 9999",
    "postcode": "99999",
    "card": "9999 9999 9999 9999",
    "iban": "AA99AAAA99999999999999",
    "ssn": "999-99-9999",
}
#: Word-count bins (inclusive) per type; counts above the last bin are capped into it.
_WORD_BINS = {
    "person_name": [(1, 1), (2, 2), (3, 3), (4, 4)],
    "address": [(k, k) for k in range(2, 9)],
    "free_text": [(k, k) for k in range(1, 11)]
    + [(11, 15), (16, 20), (21, 30), (31, 40), (41, 60)],
}
_DEFAULT_WORDS = {
    "person_name": [(2, 2, 1.0)],
    "address": [(3, 3, 1.0)],
    "free_text": [(5, 15, 1.0)],
}
_MAX_SHAPE_LEN = 64
_UNIQUE_ROUNDS = 20

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_ALPHABET = {"9": _DIGITS, "a": _LOWER, "A": _UPPER}
_SHAPE_TABLE = str.maketrans({**dict.fromkeys(_DIGITS, "9"), **dict.fromkeys(_LOWER, "a")})
_SHAPE_TABLE.update(str.maketrans(dict.fromkeys(_UPPER, "A")))

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_ONSETS += ("br", "dr", "kr", "tr", "st", "sk")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("", "", "", "n", "r", "s", "l", "m")
_SYLLABLES = np.array([o + v for o in _ONSETS for v in _VOWELS] + [""], dtype=object)
_TLDS = np.array(["com", "org", "net"], dtype=object)
_IPV4_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
_IPV6_BASE = int(ipaddress.IPv6Address("2001:db8::"))
_FEISTEL_KEY = b"tabgen.pipelines._pii"


def _shape(s: str) -> str:
    """Letters -> ``a``/``A``, digits -> ``9``, other characters kept.

    >>> _shape("SW1A 2AA"), _shape("+47 912-34 567"), _shape("Zoë")
    ('AA9A 9AA', '+99 999-99 999', 'Aaa')
    """
    out = s.translate(_SHAPE_TABLE)
    if out.isascii():
        return out
    return "".join(("A" if c.isupper() else "a") if c.isalpha() else c for c in out)


def _words(rng: np.random.Generator, m: int, syllables: tuple[int, ...] = (3,)) -> np.ndarray:
    """``m`` random pronounceable lower-case words of the given numbers of syllables."""
    if m == 0:
        return np.empty(0, dtype=object)
    k = max(syllables)
    idx = rng.integers(0, len(_SYLLABLES) - 1, size=(m, k))
    if len(syllables) > 1:
        counts = rng.choice(np.asarray(syllables), size=m)
        idx[np.arange(k)[None, :] >= counts[:, None]] = len(_SYLLABLES) - 1  # the empty one
    out = _SYLLABLES[idx[:, 0]]
    for j in range(1, k):
        out = out + _SYLLABLES[idx[:, j]]
    return out + np.asarray(_CODAS, dtype=object)[rng.integers(0, len(_CODAS), size=m)]


def _capitalise(words) -> list[str]:
    return [w[:1].upper() + w[1:] for w in words]


def _scramble(k: int, space: int) -> int:
    """A fixed pseudo-random bijection of ``range(space)``: distinct ``k`` give distinct results.

    A 4-round Feistel network on the smallest even number of bits covering ``space``, keyed by
    a constant, with cycle-walking back into the range. It is the same in every process, so
    batches generated for different row ranges never collide.

    >>> sorted(_scramble(k, 10) for k in range(10)) == list(range(10))
    True
    """
    if space <= 1:
        return 0
    bits = max(2, (space - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    size = (half + 7) // 8
    x = k
    while True:
        left, right = x >> half, x & mask
        for r in range(4):
            digest = hashlib.blake2b(
                right.to_bytes(size, "big"), digest_size=size, key=_FEISTEL_KEY, salt=bytes([r])
            ).digest()
            left, right = right, left ^ (int.from_bytes(digest, "big") & mask)
        x = (left << half) | right
        if x < space:
            return x


class _Plan:
    """How to fill one shape: template characters, free slots, fixed and derived positions."""

    def __init__(self, shape: str, pii_type: str, numeric: bool):
        self.shape = shape
        self.template = list(shape)
        placeholders = [i for i, c in enumerate(shape) if c in _ALPHABET]
        digits = [i for i in placeholders if shape[i] == "9"]
        alphabets = {i: _ALPHABET[shape[i]] for i in placeholders}
        self.check = None  # "luhn" or "iban"
        if pii_type == "phone" and len(digits) >= 7:
            for pos, ch in zip(digits[-7:-2], "55501"):
                alphabets[pos] = ch
        elif pii_type == "card":
            alphabets[digits[0]] = "0"
            self.check = "luhn"
        elif pii_type == "iban":
            letters = [i for i in placeholders if shape[i] == "A"]
            alphabets[letters[0]] = "Q"
            alphabets[letters[1]] = "MNOPQRSTUVWXYZ"
            self.check = "iban"
        elif pii_type == "ssn" and len(digits) == 9:
            alphabets[digits[0]] = "9"
            alphabets[digits[3]] = alphabets[digits[4]] = "0"
        if numeric and digits and len(alphabets[digits[0]]) == 10:
            alphabets[digits[0]] = "123456789"  # no leading zero: the value is a number
        self.digits = digits
        self.placeholders = placeholders
        derived = set()
        if self.check == "luhn":
            derived = {digits[-1]}
        elif self.check == "iban":
            derived = {placeholders[2], placeholders[3]}
        self.slots = [(i, alphabets[i]) for i in placeholders if i not in derived]
        self.space = math.prod(len(a) for _, a in self.slots)

    def fill(self, m: int, rng: np.random.Generator, ks=None) -> np.ndarray:
        """``m`` values; with ``ks`` (distinct non-negative ints < space), distinct values."""
        radices = np.array([len(a) for _, a in self.slots], dtype=np.int64)
        if ks is None:
            codes = rng.integers(0, radices, size=(m, len(self.slots))) if len(radices) else None
        else:
            codes = np.zeros((m, len(self.slots)), dtype=np.int64)
            for r, k in enumerate(ks):
                s = _scramble(int(k), self.space)
                for j in range(len(self.slots) - 1, -1, -1):
                    s, codes[r, j] = divmod(s, int(radices[j]))
        chars = np.tile(np.array(self.template, dtype="<U1"), (m, 1))
        for j, (pos, alphabet) in enumerate(self.slots):
            chars[:, pos] = np.array(list(alphabet), dtype="<U1")[codes[:, j]]
        if self.check == "luhn":
            payload = chars[:, self.digits[:-1]].astype(np.int64)
            doubled = payload[:, ::-1].copy()
            doubled[:, ::2] *= 2
            doubled[doubled > 9] -= 9
            check = (10 - doubled.sum(axis=1) % 10) % 10
            chars[:, self.digits[-1]] = check.astype("<U1")
        elif self.check == "iban":
            compact = self.placeholders
            rearranged = compact[4:] + compact[:2]
            rem = np.zeros(m, dtype=np.int64)
            for pos in rearranged:
                col = chars[:, pos]
                if self.shape[pos] == "9":
                    rem = (rem * 10 + col.astype(np.int64)) % 97
                else:
                    val = np.array([ord(c) - 55 for c in col], dtype=np.int64)
                    rem = (rem * 100 + val) % 97
            check = 98 - (rem * 100) % 97  # the check digits "00" appended
            chars[:, compact[2]] = (check // 10).astype("<U1")
            chars[:, compact[3]] = (check % 10).astype("<U1")
        width = len(self.template)
        return np.ascontiguousarray(chars).view(f"<U{width}")[:, 0].astype(object)


class FakeColumn:
    """Fresh, format-preserving fake values for one PII-like column.

    ``fit`` learns only aggregate, non-identifying facts about the real column (see the module
    docstring and :attr:`facts_`); ``generate`` draws new values of the same format that do not
    come from the real column.

    Parameters
    ----------
    pii_type : str
        One of :data:`PII_TYPES`.
    min_count : int, default 5
        A value shape (or a word-count bin) is learned only if at least this many real values
        have it, so a rare or unique format cannot leak.
    unique : bool, optional
        Generate distinct values. Default: True for ``key``, False otherwise. For keys and the
        shape-preserving types, values stay distinct across batches generated with
        non-overlapping row ranges (``offset``); for emails, URLs and IPs too (the row number is
        part of the value); for names, addresses and free text, within one batch.

    Attributes
    ----------
    facts_ : dict
        Everything learned (JSON-serialisable): ``missing_rate``, ``dtype``, and by type
        ``shapes`` (``[[shape, share], ...]``), ``word_counts`` (``[[low, high, share], ...]``),
        ``integer``/``numeric``, ``uuid``, ``ipv6_share``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> real = pd.Series(["ann.lee@mail.com", "bob@corp.org", None, "cy@web.net"] * 5)
    >>> fake = FakeColumn("email").fit(real)
    >>> fake.facts_["missing_rate"]
    0.25
    >>> out = fake.generate(8, np.random.default_rng(0))
    >>> bool(out.dropna().str.fullmatch(r"[a-z]+\\.[a-z]+\\d+@example\\.(com|org|net)").all())
    True
    >>> keys = FakeColumn("key").fit(pd.Series([f"CU-{i:05d}" for i in range(50)]))
    >>> keys.facts_["shapes"]
    [['AA-99999', 1.0]]
    >>> a = keys.generate(5, np.random.default_rng(0))
    >>> b = keys.generate(5, np.random.default_rng(0), offset=5)
    >>> len(set(a) | set(b))
    10
    """

    def __init__(self, pii_type: str, *, min_count: int = 5, unique: bool | None = None):
        if pii_type not in PII_TYPES:
            raise ValueError(f"unknown pii_type {pii_type!r}; choose one of {PII_TYPES}")
        if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral):
            raise TypeError(f"min_count must be a positive integer, got {min_count!r}")
        if min_count < 1:
            raise ValueError(f"min_count must be a positive integer, got {min_count}")
        if unique is not None and not isinstance(unique, (bool, np.bool_)):
            raise TypeError(f"unique must be True, False or None, got {unique!r}")
        self.pii_type = pii_type
        self.min_count = int(min_count)
        self.unique = unique

    def __repr__(self) -> str:
        return f"FakeColumn({self.pii_type!r}, min_count={self.min_count}, unique={self.unique})"

    @property
    def unique_(self) -> bool:
        return self.pii_type == "key" if self.unique is None else bool(self.unique)

    # -- fit --------------------------------------------------------------------------------
    def fit(self, values) -> FakeColumn:
        """Learn the aggregate facts of a real column.

        Parameters
        ----------
        values : pandas.Series or array-like
            The real column (missing cells allowed).

        Returns
        -------
        self
        """
        col = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        if len(col) == 0:
            raise ValueError(f"cannot fit FakeColumn({self.pii_type!r}) on an empty column")
        missing = col.isna().to_numpy()
        present = col[~missing]
        facts: dict = {
            "pii_type": self.pii_type,
            "missing_rate": float(missing.mean()),
            "dtype": _dtype_name(col.dtype),
        }
        numeric = _whole_numbers(present)
        if numeric and self.pii_type in ("phone", "postcode", "ssn"):
            facts["numeric"] = True  # numbers in, numbers out
        texts = [_as_text(v) for v in present]
        t = self.pii_type
        if t == "key" and numeric:
            facts["integer"] = True
        elif (
            t == "key"
            and texts
            and sum(bool(_UUID.fullmatch(s)) for s in texts) >= 0.8 * len(texts)
        ):
            facts["uuid"] = "upper" if sum(s.isupper() for s in texts) > len(texts) / 2 else "lower"
        elif t in _SHAPE_TYPES:
            facts["shapes"] = self._learn_shapes(texts)
        elif t in _WORD_BINS:
            facts["word_counts"] = self._learn_word_counts(texts)
        elif t == "ip":
            v6 = sum(":" in s for s in texts if _is_ip(s))
            facts["ipv6_share"] = v6 / len(texts) if texts else 0.0
        self.facts_ = facts
        return self

    def _learn_shapes(self, texts: list[str]) -> list:
        counts = Counter(_shape(s) for s in texts if 0 < len(s) <= _MAX_SHAPE_LEN)
        kept = {s: c for s, c in counts.items() if c >= self.min_count and self._usable(s)}
        total = sum(kept.values())
        return [[s, kept[s] / total] for s in sorted(kept)]

    def _usable(self, shape: str) -> bool:
        t = self.pii_type
        n_digits = shape.count("9")
        if t == "phone":
            return 7 <= n_digits <= 20
        if t == "card":
            compact = shape.replace(" ", "").replace("-", "")
            return 13 <= len(compact) <= 19 and set(compact) == {"9"}
        if t == "iban":
            return bool(re.fullmatch(r"AA99[A9]{11,30}", shape.replace(" ", "")))
        if t == "key":
            return any(c in _ALPHABET for c in shape) and not re.fullmatch(r"aaa-9+", shape)
        return any(c in _ALPHABET for c in shape)

    def _learn_word_counts(self, texts: list[str]) -> list:
        bins = _WORD_BINS[self.pii_type]
        cap = bins[-1][1]
        counts = Counter()
        for s in texts:
            k = min(max(len(s.split()), bins[0][0]), cap)
            counts[next(b for b in bins if b[0] <= k <= b[1])] += 1
        kept = {b: c for b, c in counts.items() if c >= self.min_count}
        total = sum(kept.values())
        return [[lo, hi, kept[(lo, hi)] / total] for lo, hi in sorted(kept)]

    # -- generate ---------------------------------------------------------------------------
    def generate(self, n: int, rng: np.random.Generator, *, offset: int = 0) -> pd.Series:
        """Generate ``n`` fresh values.

        Parameters
        ----------
        n : int
            Number of values (0 allowed).
        rng : numpy.random.Generator
            The random stream (an int seed or None is accepted too).
        offset : int, default 0
            Row number of the first value in the whole output. Keys are ``offset + 1 ...
            offset + n`` (integer keys) or derived from these row numbers, so batches with
            non-overlapping row ranges never share a key.

        Returns
        -------
        pandas.Series
            Text as ``object`` (or the input's string dtype). Integer keys, and phone numbers,
            postcodes and SSNs that were stored as whole numbers, as ``int64`` (``Int64`` when
            some cells are missing).
        """
        if not hasattr(self, "facts_"):
            raise NotFittedError(
                f"this FakeColumn({self.pii_type!r}) is not fitted yet; call fit(values) first"
            )
        n = _check_count(n, "n")
        offset = _check_count(offset, "offset")
        rng = check_random_state(rng)
        f = self.facts_
        present = np.flatnonzero(rng.random(n) >= f["missing_rate"])
        ks = offset + present  # the row number of every generated value
        t = self.pii_type
        if t == "key" and f.get("integer"):
            if self.unique_:
                vals = ks + 1
            else:
                vals = rng.integers(offset + 1, offset + n + 1, size=len(present))
            return _numbers_series(n, present, vals)
        if t == "key" and f.get("uuid"):
            vals = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in present]
            vals = [v.upper() for v in vals] if f["uuid"] == "upper" else vals
        elif t in _SHAPE_TYPES:
            vals = self._fill_shapes(len(present), ks, rng)
        elif t == "email":
            vals = self._emails(ks, rng)
        elif t == "url":
            vals = self._urls(ks, rng)
        elif t == "ip":
            vals = self._ips(ks, rng)
        else:
            vals = self._with_retries(len(present), rng, self._texts)
        if f.get("numeric"):  # phone, postcode or ssn stored as numbers
            return _numbers_series(n, present, np.array([int(v) for v in vals], dtype=np.int64))
        out = np.full(n, np.nan, dtype=object)
        out[present] = vals
        series = pd.Series(out, dtype=object)
        if f["dtype"] in ("str", "string"):
            series = series.astype(f["dtype"])
        return series

    # shape-preserving types ---------------------------------------------------------------
    def _fill_shapes(self, m: int, ks: np.ndarray, rng) -> np.ndarray:
        f = self.facts_
        numeric = bool(f.get("numeric"))
        learned = f.get("shapes") or []
        if learned:
            shapes, probs = [s for s, _ in learned], np.array([p for _, p in learned])
        elif self.pii_type in _CANONICAL:
            shape = _CANONICAL[self.pii_type]
            if numeric:
                shape = "".join(c for c in shape if c == "9")
            shapes, probs = [shape], np.ones(1)
        else:  # a key without a frequent shape
            shapes, probs = [], np.ones(0)
        plans = [_Plan(s, self.pii_type, numeric) for s in shapes]
        if self.unique_:
            limit = int(ks[-1]) + 1 if len(ks) else 0
            ok = np.array([p.space >= limit for p in plans], dtype=bool)
            if not ok.any():
                if self.pii_type == "key":
                    return np.array([f"syn-{int(k) + 1:06d}" for k in ks], dtype=object)
                raise ValueError(
                    f"cannot generate {limit} distinct {self.pii_type} values: the learned "
                    f"format(s) {shapes!r} allow at most {max(p.space for p in plans)}"
                )
            plans = [p for p, keep in zip(plans, ok) if keep]
            probs = probs[ok] / probs[ok].sum()
        elif not plans:
            return np.array(
                [f"syn-{int(v):06d}" for v in rng.integers(1, 1_000_000, size=m)], dtype=object
            )
        choice = rng.choice(len(plans), size=m, p=probs)
        out = np.empty(m, dtype=object)
        for j, plan in enumerate(plans):
            rows = np.flatnonzero(choice == j)
            if len(rows):
                out[rows] = plan.fill(len(rows), rng, ks[rows] if self.unique_ else None)
        return out

    # template types -----------------------------------------------------------------------
    def _emails(self, ks: np.ndarray, rng) -> np.ndarray:
        m = len(ks)
        first, last = _words(rng, m, (2, 3)), _words(rng, m, (2, 3))
        num = ks + 1 if self.unique_ else rng.integers(0, 1000, size=m)
        tld = _TLDS[rng.integers(0, 3, size=m)]
        return np.array(
            [f"{a}.{b}{d}@example.{t}" for a, b, d, t in zip(first, last, num, tld)], dtype=object
        )

    def _urls(self, ks: np.ndarray, rng) -> np.ndarray:
        m = len(ks)
        path = _words(rng, m, (2, 3))
        tld = _TLDS[rng.integers(0, 3, size=m)]
        if self.unique_:
            path = [f"{p}-{k + 1}" for p, k in zip(path, ks)]
        return np.array([f"https://www.example.{t}/{p}" for p, t in zip(path, tld)], dtype=object)

    def _ips(self, ks: np.ndarray, rng) -> np.ndarray:
        m = len(ks)
        v6 = rng.random(m) < self.facts_.get("ipv6_share", 0.0)
        out = np.empty(m, dtype=object)
        space4 = len(_IPV4_NETS) * 254
        if self.unique_:
            codes4 = [_scramble(int(k), space4) if k < space4 else -1 for k in ks]
            if any(c < 0 for c, six in zip(codes4, v6) if not six):
                raise ValueError(
                    f"cannot generate more than {space4} distinct IPv4 addresses from the "
                    "documentation ranges; use unique=False"
                )
            codes6 = [_scramble(int(k), 2**96) for k in ks]
        else:
            codes4 = rng.integers(0, space4, size=m)
            parts = rng.integers(0, 2**32, size=(m, 3)).tolist()
            codes6 = [a << 64 | b << 32 | c for a, b, c in parts]  # 96 random bits
        for i in range(m):
            if v6[i]:
                out[i] = str(ipaddress.IPv6Address(_IPV6_BASE + int(codes6[i])))
            else:
                net, host = divmod(int(codes4[i]), 254)
                out[i] = f"{_IPV4_NETS[net]}{host + 1}"
        return out

    def _texts(self, m: int, rng) -> np.ndarray:
        t = self.pii_type
        bins = self.facts_.get("word_counts") or _DEFAULT_WORDS[t]
        probs = np.array([p for _, _, p in bins])
        picked = rng.choice(len(bins), size=m, p=probs / probs.sum())
        lows = np.array([lo for lo, _, _ in bins])[picked]
        highs = np.array([hi for _, hi, _ in bins])[picked]
        counts = rng.integers(lows, highs + 1)
        if t == "person_name":
            words = _capitalise(_words(rng, int(counts.sum())))
            ends = np.cumsum(counts)
            return np.array(
                [" ".join(words[e - k : e]) for e, k in zip(ends, counts)], dtype=object
            )
        if t == "address":
            counts = np.maximum(counts - 2, 1)  # "<number> <words> Street"
            words = _capitalise(_words(rng, int(counts.sum())))
            ends = np.cumsum(counts)
            numbers_ = rng.integers(1, 1000, size=m)
            return np.array(
                [
                    f"{num} {' '.join(words[e - k : e])} Street"
                    for num, e, k in zip(numbers_, ends, counts)
                ],
                dtype=object,
            )
        words = list(_words(rng, int(counts.sum()), (2, 3)))
        ends = np.cumsum(counts)
        texts = []
        for e, k in zip(ends, counts):
            sentence = " ".join(words[e - k : e])
            texts.append(sentence[:1].upper() + sentence[1:] + ".")
        return np.array(texts, dtype=object)

    def _with_retries(self, m: int, rng, make) -> np.ndarray:
        vals = make(m, rng)
        if not self.unique_:
            return vals
        for _ in range(_UNIQUE_ROUNDS):
            dup = pd.Series(vals).duplicated().to_numpy()
            if not dup.any():
                return vals
            vals[dup] = make(int(dup.sum()), rng)
        raise ValueError(
            f"could not generate {m} distinct {self.pii_type} values in {_UNIQUE_ROUNDS} rounds; "
            "use unique=False"
        )


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _dtype_name(dtype) -> str:
    if isinstance(dtype, pd.StringDtype):
        return "str" if dtype.na_value is not pd.NA else "string"
    return str(dtype)


def _as_text(v) -> str:
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _whole_numbers(values: pd.Series) -> bool:
    """All present values are (whole) numbers, not strings or booleans."""
    if len(values) == 0:
        return False
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.number)):
            return False
        if not float(v).is_integer():
            return False
    return True


def _numbers_series(n: int, present: np.ndarray, vals) -> pd.Series:
    vals = np.asarray(vals, dtype=np.int64)
    if len(present) == n:
        return pd.Series(vals, dtype="int64")
    out = pd.array([pd.NA] * n, dtype="Int64")
    out[present] = vals
    return pd.Series(out)


def _check_count(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{what} must be a non-negative integer, got {v!r}")
    if v < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {v}")
    return int(v)
