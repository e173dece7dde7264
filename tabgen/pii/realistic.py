"""Realistic-looking names, streets and phone prefixes for :class:`~tabgen.pii.FakeColumn`.

Names and streets come from Faker (``pip install tabgen[pii]``) when it is installed, in the
locale of the table (:func:`locale_of`), and otherwise from the short built-in lists below:
common given names, surnames and street words, combined at random. A generated name may
coincide with a real person's name (names are not unique), but it is drawn without looking at
any real value.

Phone numbers keep their country code and the first digit of the national number when at
least ``min_count`` real values share them (``"+47 9"``: a Norwegian mobile stays one): these
prefixes say which country and network a number belongs to, not whose it is.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Hugo", "Ida", "Jonas", "Kari",
    "Leo", "Maria", "Noah", "Olivia", "Paul", "Rosa", "Sam", "Sofia", "Tom", "Vera", "Will",
    "Alice", "Daniel", "Elena", "Frank", "Hanna", "Ivan", "Julia", "Karl", "Laura", "Martin",
    "Nina", "Oscar", "Peter", "Sara", "Thomas", "Ella", "Lucas", "Mia", "Adam", "Eva", "James",
    "Lisa", "Mark", "Nora", "Ruth", "Simon", "Anne", "Erik", "Helen", "John", "Kate", "Lena",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Hansen", "Jones", "Berg", "Brown", "Larsen", "Miller", "Novak", "Taylor", "Weber",
    "Wilson", "Moreau", "Clark", "Rossi", "Lewis", "Silva", "Walker", "Jensen", "Young", "Meyer",
    "King", "Dahl", "Wright", "Garcia", "Green", "Nilsen", "Baker", "Fischer", "Hill", "Bauer",
    "Moore", "Lund", "Carter", "Costa", "Turner", "Keller", "Parker", "Haugen", "Evans", "Kovac",
    "Collins", "Olsen", "Stewart", "Dubois", "Morris", "Bakker", "Cooper", "Strand", "Reed",
)  # fmt: skip
STREET_WORDS = (
    "Oak", "Maple", "Mill", "Church", "Park", "River", "Hill", "Lake", "Cedar", "Elm", "High",
    "Station", "Bridge", "Garden", "Meadow", "Forest", "Spring", "Willow", "North", "South",
)  # fmt: skip
STREET_TYPES = ("Street", "Road", "Avenue", "Lane")

#: Two-digit country calling codes (ITU-T E.164); 1 and 7 are one digit, the rest three.
_TWO_DIGIT_CODES = frozenset(
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 "
    "63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split()
)
#: Faker locale of a calling code (a few common ones; others fall back to ``en_US``).
LOCALES = {
    "1": "en_US", "7": "ru_RU", "31": "nl_NL", "32": "nl_BE", "33": "fr_FR", "34": "es_ES",
    "39": "it_IT", "41": "de_CH", "43": "de_AT", "44": "en_GB", "45": "da_DK", "46": "sv_SE",
    "47": "no_NO", "48": "pl_PL", "49": "de_DE", "55": "pt_BR", "61": "en_AU", "64": "en_NZ",
    "81": "ja_JP", "86": "zh_CN", "91": "en_IN", "351": "pt_PT", "353": "en_IE", "358": "fi_FI",
}  # fmt: skip
_PLUS_NUMBER = re.compile(r"\+(\d+)")


def country_code(value: str) -> str | None:
    """The calling code of an international number (``"+47 912 34 567"`` -> ``"47"``)."""
    match = _PLUS_NUMBER.match(value)
    if match is None:
        return None
    digits = value[1:].replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if not digits[:1].isdigit():
        return None
    if digits[0] in "17":
        return digits[0]
    return digits[:2] if digits[:2] in _TWO_DIGIT_CODES else digits[:3]


def phone_prefix(value: str) -> str | None:
    """The country code and the first national digit, as written (``"+47 9"``), or None."""
    code = country_code(value)
    if code is None:
        return None
    seen, i = 0, 1
    while i < len(value) and seen < len(code) + 1:  # the code's digits, then one more
        seen += value[i].isdigit()
        i += 1
    return value[:i] if seen == len(code) + 1 else None


def locale_of(phones) -> str | None:
    """The Faker locale of the most common calling code among phone numbers, or None."""
    codes = [country_code(v) for v in phones if isinstance(v, str)]
    codes = [c for c in codes if c is not None]
    if not codes:
        return None
    values, counts = np.unique(codes, return_counts=True)
    return LOCALES.get(str(values[np.argmax(counts)]))


def name_part(column) -> str:
    """``"first"``, ``"last"`` or ``"full"``: which part of a name a column holds, by its name."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(column)).lower()
    if re.search(r"first|given|fore|christian", text):
        return "first"
    if re.search(r"last|sur|family", text):
        return "last"
    return "full"


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters only (``"Ødegård"`` -> ``"odegard"``), for e-mail addresses."""
    text = text.lower().replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", text)


def faker_available() -> bool:
    """Whether Faker can be imported."""
    try:
        import faker  # noqa: F401
    except ImportError:
        return False
    return True


class NameSource:
    """Given names, surnames and street addresses from Faker or the built-in lists.

    Parameters
    ----------
    locale : str, optional
        Faker locale (``"no_NO"``); None: ``"en_US"``.
    use_faker : bool
        Draw from Faker (which must be installed) rather than the built-in lists.
    rng : numpy.random.Generator
        Seeds Faker too, so that a seeded call gives the same values.
    """

    def __init__(self, locale: str | None, use_faker: bool, rng: np.random.Generator):
        self.rng = rng
        self.faker = None
        if use_faker:
            from faker import Faker

            try:
                self.faker = Faker(locale or "en_US")
            except AttributeError:  # a locale this Faker version lacks
                self.faker = Faker("en_US")
            self.faker.seed_instance(int(rng.integers(0, 2**31 - 1)))

    def first(self, m: int) -> list[str]:
        if self.faker is not None:
            return [self.faker.first_name() for _ in range(m)]
        return list(
            np.asarray(FIRST_NAMES, dtype=object)[self.rng.integers(0, len(FIRST_NAMES), m)]
        )

    def last(self, m: int) -> list[str]:
        if self.faker is not None:
            return [self.faker.last_name() for _ in range(m)]
        return list(np.asarray(LAST_NAMES, dtype=object)[self.rng.integers(0, len(LAST_NAMES), m)])

    def names(self, counts: np.ndarray, part: str) -> list[str]:
        """One name per entry of ``counts`` (its number of words): given names then a surname
        (only given names for ``part="first"``, only surnames for ``"last"``)."""
        out = []
        for k in counts:
            k = int(k)
            if part == "first":
                out.append(" ".join(self.first(k)))
            elif part == "last":
                out.append(" ".join(self.last(k)))
            else:
                out.append(" ".join(self.first(max(k - 1, 0)) + self.last(1)))
        return out

    def streets(self, counts: np.ndarray) -> list[str]:
        """One street address per entry of ``counts`` (its number of words, built-in lists:
        ``"<number> <words> <Street|Road|...>"``; Faker: the locale's own format)."""
        if self.faker is not None:
            return [self.faker.street_address() for _ in counts]
        words = np.asarray(STREET_WORDS, dtype=object)
        out = []
        for k in counts:
            n_words = max(int(k) - 2, 1)
            name = " ".join(words[self.rng.integers(0, len(words), n_words)])
            kind = STREET_TYPES[int(self.rng.integers(0, len(STREET_TYPES)))]
            out.append(f"{int(self.rng.integers(1, 1000))} {name} {kind}")
        return out
