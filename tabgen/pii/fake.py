"""Fresh, format-preserving fake values for one PII-like column (:class:`FakeColumn`)."""

from __future__ import annotations

import ipaddress
import numbers
import re
import uuid
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from tabgen._rng import check_random_state
from tabgen.pii.formats import _ALPHABET, _Plan, _scramble, _shape
from tabgen.pii.names import PII_TYPES
from tabgen.pii.realistic import NameSource, ascii_word, faker_available, phone_prefix
from tabgen.pii.values import _UUID, _as_text, _is_ip

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

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_ONSETS += ("br", "dr", "kr", "tr", "st", "sk")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("", "", "", "n", "r", "s", "l", "m")
_SYLLABLES = np.array([o + v for o in _ONSETS for v in _VOWELS] + [""], dtype=object)
_TLDS = np.array(["com", "org", "net"], dtype=object)
_IPV4_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
_IPV6_BASE = int(ipaddress.IPv6Address("2001:db8::"))


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
    locale : str, optional
        Faker locale of names and addresses (``"no_NO"``); None: ``"en_US"``.
    part : {"full", "first", "last"}, default "full"
        For ``person_name``: full names, given names only or surnames only.
    source : {"auto", "faker", "builtin"}, default "auto"
        Where names and street addresses come from (see :mod:`tabgen.pii.realistic`):
        Faker when it is installed (``"auto"``) or required (``"faker"``), else short
        built-in lists of common names and street words.

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

    def __init__(
        self,
        pii_type: str,
        *,
        min_count: int = 5,
        unique: bool | None = None,
        locale: str | None = None,
        part: str = "full",
        source: str = "auto",
    ):
        if pii_type not in PII_TYPES:
            raise ValueError(f"unknown pii_type {pii_type!r}; choose one of {PII_TYPES}")
        if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral):
            raise TypeError(f"min_count must be a positive integer, got {min_count!r}")
        if min_count < 1:
            raise ValueError(f"min_count must be a positive integer, got {min_count}")
        if unique is not None and not isinstance(unique, (bool, np.bool_)):
            raise TypeError(f"unique must be True, False or None, got {unique!r}")
        if part not in ("full", "first", "last"):
            raise ValueError(f"part must be 'full', 'first' or 'last', got {part!r}")
        if source not in ("auto", "faker", "builtin"):
            raise ValueError(f"source must be 'auto', 'faker' or 'builtin', got {source!r}")
        if source == "faker" and not faker_available():
            raise ImportError("source='faker' needs Faker: pip install 'tabgen[pii]'")
        if locale is not None and not isinstance(locale, str):
            raise TypeError(f"locale must be a string such as 'no_NO' or None, got {locale!r}")
        self.pii_type = pii_type
        self.min_count = int(min_count)
        self.unique = unique
        self.locale = locale
        self.part = part
        self.source = source

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
            if t == "phone":
                facts["prefixes"] = self._learn_prefixes(texts, facts["shapes"])
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

    def _learn_prefixes(self, texts: list[str], shapes: list) -> list:
        """``[[shape, prefix, share within the shape], ...]``: country code and first national
        digit (``"+47 9"``) shared by at least ``min_count`` values of a learned shape."""
        kept_shapes = {s for s, _ in shapes}
        per_shape: dict[str, Counter] = {}
        for text in texts:
            shape = _shape(text)
            if shape in kept_shapes:
                per_shape.setdefault(shape, Counter())[phone_prefix(text)] += 1
        out = []
        for shape in sorted(per_shape):
            counts = per_shape[shape]
            total = sum(counts.values())
            for prefix in sorted(p for p in counts if p is not None):
                if counts[prefix] >= self.min_count:
                    out.append([shape, prefix, counts[prefix] / total])
        return out

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
                if not self.unique_:  # distinct values would collide under a fixed prefix
                    out[rows] = self._with_prefixes(plan.shape, out[rows], rng)
        return out

    def _with_prefixes(self, shape: str, values: np.ndarray, rng) -> np.ndarray:
        """Phone numbers of ``shape`` given the learned country prefixes at their shares."""
        learned = [(p, w) for s, p, w in self.facts_.get("prefixes", []) if s == shape]
        if not learned:
            return values
        weights = np.array([w for _, w in learned] + [max(0.0, 1 - sum(w for _, w in learned))])
        picked = rng.choice(len(weights), size=len(values), p=weights / weights.sum())
        out = values.copy()
        for j, (prefix, _) in enumerate(learned):
            rows = np.flatnonzero(picked == j)
            out[rows] = [prefix + v[len(prefix) :] for v in values[rows]]
        return out

    def _names(self, rng) -> NameSource:
        use_faker = self.source == "faker" or (self.source == "auto" and faker_available())
        return NameSource(self.locale, use_faker, rng)

    # template types -----------------------------------------------------------------------
    def _emails(self, ks: np.ndarray, rng) -> np.ndarray:
        m = len(ks)
        names = self._names(rng)
        first = [ascii_word(w) or "user" for w in names.first(m)]
        last = [ascii_word(w) or "name" for w in names.last(m)]
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
            return np.array(self._names(rng).names(counts, self.part), dtype=object)
        if t == "address":
            return np.array(self._names(rng).streets(counts), dtype=object)
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
