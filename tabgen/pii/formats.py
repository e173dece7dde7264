"""Value shapes and format-preserving filling.

A value's *shape* keeps its layout and replaces letters by ``a``/``A`` and digits by ``9``; a
:class:`_Plan` fills a shape with fresh characters (check digits recomputed), and
:func:`_scramble`, a keyed Feistel bijection, maps distinct row numbers to distinct values."""

from __future__ import annotations

import hashlib
import math

import numpy as np

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_ALPHABET = {"9": _DIGITS, "a": _LOWER, "A": _UPPER}
_SHAPE_TABLE = str.maketrans({**dict.fromkeys(_DIGITS, "9"), **dict.fromkeys(_LOWER, "a")})
_SHAPE_TABLE.update(str.maketrans(dict.fromkeys(_UPPER, "A")))
#: The key of :func:`_scramble` (the module's former name: changing it changes every value).
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
