"""PII detection (by name and by values) and fresh fake values (formats, no leaks, keys)."""

from __future__ import annotations

import ipaddress
import json
import uuid

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import tabgen
from tabgen.pii import PII_TYPES, FakeColumn, detect_pii
from tabgen.pii.formats import _shape
from tabgen.schema import Schema

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"

FIRST = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Tamara", "Marina", "Sara", "Nina", "Mila", "Lara", "Ana", "Teresa", "Pamela", "Kamila",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
]  # fmt: skip
WORDS = (
    "the service was great slow delivery item broken would buy again not happy with price".split()
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_ok(s: str) -> bool:
    s = s.replace(" ", "")
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _card(rng) -> str:
    digits = [4, *rng.integers(0, 10, 14).tolist()]
    for check in range(10):
        if _luhn_ok("".join(map(str, [*digits, check]))):
            break
    s = "".join(map(str, [*digits, check]))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def _ints(rng, low, high) -> int:
    return int(rng.integers(low, high))


def _real_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Realistic PII values under neutral column names."""
    rng = np.random.default_rng(seed)
    first = rng.choice(FIRST, n)
    last = rng.choice(LAST, n)
    r = range(n)
    return pd.DataFrame(
        {
            "c1": [f"{f.lower()}.{s.lower()}{i}@gmail.com" for i, f, s in zip(r, first, last)],
            "c2": [
                f"+1 ({_ints(rng, 200, 999)}) {_ints(rng, 200, 999)}-{_ints(rng, 1000, 9999)}"
                for _ in r
            ],
            "c3": [".".join(str(x) for x in rng.integers(1, 255, 4)) for _ in r],
            "c4": [
                f"DE{_ints(rng, 10, 99)}" + "".join(map(str, rng.integers(0, 10, 18))) for _ in r
            ],
            "c5": [_card(rng) for _ in r],
            "c6": [f"{f} {s}" for f, s in zip(first, last)],
            "c7": [" ".join(rng.choice(WORDS, rng.integers(3, 14))) for _ in r],
            "c8": [
                f"{_ints(rng, 100, 899)}-{_ints(rng, 10, 99)}-{_ints(rng, 1000, 9999)}" for _ in r
            ],
            "c9": [f"https://www.shop{i}.com/item/{_ints(rng, 1, 99)}" for i in r],
            "c10": [f"{_ints(rng, 1, 999)} {rng.choice(LAST)} Street" for _ in r],
            "c11": pd.date_range("2020-01-01", periods=n).strftime("%Y-%m-%d"),
            "c12": rng.choice(["Oslo", "Rome", "New York", "Los Angeles"], n),
            "c13": rng.normal(size=n),
        }
    )


@pytest.fixture(scope="module")
def real():
    return _real_frame()


# ---------------------------------------------------------------------------------------------
# detection
# ---------------------------------------------------------------------------------------------
NAME_CASES = {
    "EmailAddress": "email",
    "e-mail": "email",
    "customer_phone": "phone",
    "MobileNumber": "phone",
    "FirstName": "person_name",
    "last_name": "person_name",
    "Name": "person_name",
    "username": "person_name",
    "zip_code": "postcode",
    "PostalCode": "postcode",
    "home_address": "address",
    "ip_address": "ip",
    "IPv4": "ip",
    "website": "url",
    "credit_card_number": "card",
    "IBAN": "iban",
    "bank_account": "iban",
    "SSN": "ssn",
    "social_security_number": "ssn",
    "tax_id": "ssn",
    "notes": "free_text",
    "Description": "free_text",
    "customer_id": "key",
    "PassengerId": "key",
    "uuid": "key",
}
NOT_PII_NAMES = [
    "filename", "hostname", "colname", "file_name", "product_name", "city", "age", "country",
    "email_verified", "num_emails", "phone_type", "created_at", "zip_file", "cell_type",
]  # fmt: skip


def test_detection_by_name():
    codes = [f"v{i % 7}x" for i in range(40)]  # neutral values: no type matches them
    frame = pd.DataFrame({name: codes for name in [*NAME_CASES, *NOT_PII_NAMES]})
    assert detect_pii(frame) == NAME_CASES


def test_numeric_columns_are_detected_by_name_only():
    frame = pd.DataFrame(
        {
            "zip": np.arange(10000, 10040),
            "phone": np.arange(4155550100, 4155550140),
            "user_id": np.arange(40),
            "age": np.arange(20, 60),
            "c1": np.arange(4155550100, 4155550140),
        }
    )
    assert detect_pii(frame) == {"zip": "postcode", "phone": "phone", "user_id": "key"}


def test_no_false_positives_on_adult():
    adult = tabgen.datasets.load_adult()
    assert detect_pii(adult) == {}
    assert detect_pii(adult, Schema.detect(adult).kinds) == {}


def test_no_false_positives_on_ordinary_columns():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "filename": [f"report_{i}.pdf" for i in range(n)],
            "hostname": [f"db-{i:02d}.internal" for i in range(n)],
            "city": rng.choice(["Oslo", "New York", "Los Angeles", "San Francisco"], n),
            "age": rng.integers(18, 90, n),
            "income": rng.choice(["10000-20000", "20000-30000", "30000-40000"], n),
            "amount": [f"{x:,.2f}" for x in rng.uniform(1000, 9_000_000, n)],
            "when": pd.date_range("2020-01-01", periods=n).strftime("%d.%m.%Y"),
            "mobile": rng.choice(["yes", "no"], n),  # a flag, not a number
            "has_email": rng.random(n) < 0.5,
        }
    )
    assert detect_pii(frame) == {}


def test_detection_by_values(real):
    names = _real_frame(n=300, seed=1)["c6"]  # person names need >= 50 % distinct values
    frame = real.assign(c6=[f"{a} {b}" for a, b in zip(names, real["c6"].str.split().str[1])])
    assert detect_pii(frame) == {
        "c1": "email",
        "c2": "phone",
        "c3": "ip",
        "c4": "iban",
        "c5": "card",
        "c6": "person_name",
        "c7": "free_text",
        "c8": "ssn",
        "c9": "url",
        "c10": "address",
    }


def test_min_share_and_kinds(real):
    emails = real["c1"].copy()
    emails[: len(emails) // 4] = "unknown"  # 75 % emails
    frame = pd.DataFrame({"c1": emails, "c2": real["c2"], "c3": real["c3"]})
    assert "c1" not in detect_pii(frame)
    assert detect_pii(frame, min_share=0.7)["c1"] == "email"
    # a column the caller typed as numerical/integer/datetime is not scanned; kind "id" is a key
    kinds = {"c1": "categorical", "c2": "datetime", "c3": "id"}
    assert detect_pii(frame, kinds, min_share=0.7) == {"c1": "email", "c3": "ip"}
    codes = pd.DataFrame({"code": [f"Q{i:04d}" for i in range(30)]})
    assert detect_pii(codes) == {}
    assert detect_pii(codes, Schema.detect(codes)) == {"code": "key"}


def test_name_wins_unless_values_clearly_say_otherwise(real):
    frame = pd.DataFrame(
        {
            "address": real["c1"],  # emails under an address name: the values win
            "customer_id": real["c1"],
            "phone": [f"n{i}" for i in range(len(real))],  # unreadable values: the name wins
            "notes": real["c6"],  # names are a weak value type: the name wins
        }
    )
    assert detect_pii(frame) == {
        "address": "email",
        "customer_id": "email",
        "phone": "phone",
        "notes": "free_text",
    }


def test_detection_arguments_are_checked():
    frame = pd.DataFrame({"email": ["a@b.com"]})
    with pytest.raises(ValueError, match="min_share"):
        detect_pii(frame, min_share=0)
    with pytest.raises(ValueError, match="sample_rows"):
        detect_pii(frame, sample_rows=0)
    with pytest.raises(TypeError, match="DataFrame"):
        detect_pii(frame["email"])


# ---------------------------------------------------------------------------------------------
# fake values
# ---------------------------------------------------------------------------------------------
FORMATS = {
    "c1": ("email", r"[a-z]+\.[a-z]+\d+@example\.(com|org|net)"),
    "c2": ("phone", r"\+\d \(\d{3}\) 555-01\d\d"),
    "c3": ("ip", r"(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}"),
    "c4": ("iban", r"Q[M-Z]\d{20}"),
    "c5": ("card", r"0\d{3} \d{4} \d{4} \d{4}"),
    "c6": ("person_name", r"[A-Z][a-z]+ [A-Z][a-z]+"),  # built-in lists of common names
    "c7": ("free_text", r"[A-Z][a-z]+( [a-z]+)*\."),
    "c8": ("ssn", r"9\d\d-00-\d{4}"),
    "c9": ("url", r"https://www\.example\.(com|org|net)/[a-z]+"),
    "c10": ("address", r"\d{1,3} [A-Z][a-z]+ (Street|Road|Avenue|Lane)"),
}


@pytest.mark.parametrize("column", list(FORMATS))
def test_generated_values_match_the_format_and_are_never_real(real, column):
    pii_type, pattern = FORMATS[column]
    fake = FakeColumn(pii_type, source="builtin").fit(real[column])
    out = fake.generate(3000, np.random.default_rng(0))
    assert len(out) == 3000 and out.notna().all()
    bad = out[~out.str.fullmatch(pattern)]
    assert bad.empty, bad.head().tolist()
    if pii_type not in ("person_name", "address"):  # realistic names may coincide (documented)
        assert not set(out) & set(real[column])


def test_cards_and_ibans_pass_their_checks(real):
    cards = FakeColumn("card").fit(real["c5"]).generate(500, np.random.default_rng(1))
    assert cards.str.replace(" ", "").map(_luhn_ok).all()
    ibans = FakeColumn("iban").fit(real["c4"]).generate(500, np.random.default_rng(1))
    assert ibans.map(_iban_ok).all()


def test_ipv6_share_is_learned():
    rng = np.random.default_rng(0)
    v6 = [str(ipaddress.IPv6Address(int(x) << 64)) for x in rng.integers(1, 2**62, 50)]
    real = pd.Series(v6 + ["10.0.0.1"] * 50)
    out = FakeColumn("ip").fit(real).generate(2000, rng)
    parsed = [ipaddress.ip_address(v) for v in out]
    is6 = np.array([p.version == 6 for p in parsed])
    assert 0.4 < is6.mean() < 0.6
    assert all(p in ipaddress.ip_network("2001:db8::/32") for p, six in zip(parsed, is6) if six)


def test_word_counts_are_learned():
    rng = np.random.default_rng(0)
    real = pd.Series([" ".join(rng.choice(WORDS, 12)) for _ in range(200)])
    fake = FakeColumn("free_text").fit(real)
    assert fake.facts_["word_counts"] == [[11, 15, 1.0]]
    counts = fake.generate(500, rng).str.split().str.len()
    assert counts.between(11, 15).all()
    names = pd.Series([f"{a} {b} {c}" for a, b, c in rng.choice(FIRST, (100, 3))])
    out = FakeColumn("person_name").fit(names).generate(100, rng)
    assert (out.str.split().str.len() == 3).all()


def test_integer_keys_are_unique_across_batches():
    fake = FakeColumn("key").fit(pd.Series(np.arange(5000, 5300)))
    a = fake.generate(100, np.random.default_rng(0), offset=0)
    b = fake.generate(100, np.random.default_rng(0), offset=100)
    assert a.dtype == "int64" and a.tolist() == list(range(1, 101))
    assert pd.concat([a, b]).is_unique


_HEX = np.random.default_rng(5).integers(0, 16, size=(300, 16))


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ([f"CU-{i:05d}" for i in range(300)], r"[A-Z]{2}-\d{5}"),
        # random hex: every shape is too rare to be learned, so the "syn-" fallback is used
        (["".join(f"{d:X}" for d in row) for row in _HEX], r"syn-\d{6}"),
        ([str(uuid.UUID(int=i * 7919 + 1, version=4)) for i in range(300)], UUID4),
    ],
    ids=["shape", "fallback", "uuid"],
)
def test_string_keys_are_unique_across_batches_and_never_real(values, pattern):
    fake = FakeColumn("key").fit(pd.Series(values))
    rng = np.random.default_rng(0)
    a = fake.generate(400, rng, offset=0)
    b = fake.generate(400, rng, offset=400)
    both = pd.concat([a, b])
    assert both.is_unique
    assert not set(both) & set(values)
    assert both.str.fullmatch(pattern).all()


def test_unique_emails_across_batches(real):
    fake = FakeColumn("email", unique=True).fit(real["c1"])
    a = fake.generate(300, np.random.default_rng(0), offset=0)
    b = fake.generate(300, np.random.default_rng(0), offset=300)
    assert pd.concat([a, b]).is_unique


def test_missing_rate_is_reproduced():
    rng = np.random.default_rng(0)
    phones = [
        f"0{_ints(rng, 10, 99)} {_ints(rng, 100, 999)} {_ints(rng, 1000, 9999)}" for _ in range(400)
    ]
    phones = pd.Series(phones, dtype=object)
    phones[rng.random(400) < 0.3] = None
    fake = FakeColumn("phone").fit(phones)
    assert fake.facts_["missing_rate"] == pytest.approx(phones.isna().mean())
    out = fake.generate(10_000, rng)
    assert abs(out.isna().mean() - phones.isna().mean()) < 0.03
    assert out.dropna().str.fullmatch(r"\d{3} 555 01\d\d").all()
    keys = pd.Series([1.0, 2.0, np.nan, 4.0] * 25)
    out = FakeColumn("key").fit(keys).generate(1000, rng)
    assert out.dtype == "Int64" and 0.2 < out.isna().mean() < 0.3 and out.dropna().is_unique


def test_rare_shapes_never_leak():
    rng = np.random.default_rng(0)
    common = [
        f"({_ints(rng, 200, 999)}) {_ints(rng, 200, 999)}-{_ints(rng, 1000, 9999)}"
        for _ in range(100)
    ]
    rare = ["+47 912 34 567", "+47 912 34 568", "0044 20 7946 0000"]  # 2 + 1 uses: below min_count
    real = pd.Series(common + rare)
    fake = FakeColumn("phone", min_count=5).fit(real)
    assert fake.facts_["shapes"] == [["(999) 999-9999", 1.0]]
    out = fake.generate(2000, rng)
    assert {_shape(v) for v in out} == {"(999) 999-9999"}
    # nothing learned is a real value
    facts = json.dumps(fake.facts_)
    assert not any(v in facts for v in real)


def test_fallback_formats_when_no_shape_is_frequent():
    rng = np.random.default_rng(0)
    real = pd.Series(["+47 912 34 567", "0044 20 7946 0000", "(212) 555-0100"])
    out = FakeColumn("phone").fit(real).generate(200, rng)
    assert out.str.fullmatch(r"\+1 \d{3} 555 01\d\d").all()
    codes = pd.Series(["x1", "yy22", "zzz333"])
    keys = FakeColumn("key").fit(codes).generate(50, rng, offset=10)
    assert keys.tolist() == [f"syn-{i:06d}" for i in range(11, 61)]


def test_numbers_stay_numbers():
    rng = np.random.default_rng(0)
    phones = pd.Series(rng.integers(2_000_000_000, 9_999_999_999, 100))
    out = FakeColumn("phone").fit(phones).generate(500, rng)
    assert out.dtype == "int64"
    assert out.astype(str).str.fullmatch(r"[1-9]\d{2}55501\d\d").all()
    zips = pd.Series(rng.integers(10_000, 99_999, 100).astype(float))
    zips[:10] = np.nan
    out = FakeColumn("postcode").fit(zips).generate(500, rng)
    assert out.dtype == "Int64" and out.dropna().between(10_000, 99_999).all()


def test_generation_is_deterministic(real):
    for column, (pii_type, _) in FORMATS.items():
        fake = FakeColumn(pii_type).fit(real[column])
        a = fake.generate(50, np.random.default_rng(7))
        b = fake.generate(50, np.random.default_rng(7))
        c = fake.generate(50, np.random.default_rng(8))
        pd.testing.assert_series_equal(a, b)
        assert not a.equals(c)


def test_errors_are_clear(real):
    with pytest.raises(ValueError, match="'phone_number'"):
        FakeColumn("phone_number")
    with pytest.raises(ValueError, match="min_count"):
        FakeColumn("email", min_count=0)
    with pytest.raises(NotFittedError, match=r"FakeColumn\('email'\).*fit"):
        FakeColumn("email").generate(3, np.random.default_rng(0))
    fake = FakeColumn("email").fit(real["c1"])
    with pytest.raises(ValueError, match="offset"):
        fake.generate(3, np.random.default_rng(0), offset=-1)
    with pytest.raises(TypeError, match="n must be"):
        fake.generate(2.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        FakeColumn("email").fit(pd.Series([], dtype=object))
    assert len(fake.generate(0, np.random.default_rng(0))) == 0
    assert set(PII_TYPES) == {pii_type for pii_type, _ in FORMATS.values()} | {"postcode", "key"}


# -- postcodes -----------------------------------------------------------------------------------
def test_postcodes_detected_by_name_and_by_distinctive_format():
    rng = np.random.default_rng(0)
    uk = [f"SW{i % 9 + 1}A {i % 10}BB" for i in range(60)]
    frame = pd.DataFrame(
        {
            "zip": rng.integers(501, 99950, 60),  # ZIP codes stored as numbers
            "postal_code": [f"{z:05d}" for z in rng.integers(0, 99999, 60)],
            "c1": uk,  # no name hint: the UK format decides
            "c2": [f"{z:05d}-{z % 10000:04d}" for z in rng.integers(10000, 99999, 60)],
            "c3": [f"{1000 + i} AB" for i in range(60)],  # Dutch
        }
    )
    assert detect_pii(frame) == dict.fromkeys(frame.columns, "postcode")


def test_no_postcode_false_positives_on_numeric_features():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "income": rng.integers(10000, 99999, 60),  # zip-like integers, no postcode name
            "code": [f"{z:05d}" for z in rng.integers(10000, 99999, 60)],  # digits as text
            "zip": rng.integers(0, 10, 60),  # a compression level 0-9
            "zip_distance": rng.uniform(0, 30, 60).round(2),  # a measurement
            "postcode_share": rng.uniform(0, 1, 60),
        }
    )
    assert detect_pii(frame) == {}


def test_a_detected_postcode_is_regenerated_by_a_synthesizer():
    rng = np.random.default_rng(2)
    real = pd.DataFrame({"zip": rng.integers(10000, 99999, 200), "age": rng.integers(18, 90, 200)})
    with pytest.warns(tabgen.schema.SchemaWarning, match="'zip' \\(postcode\\)"):
        model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(real)
    assert model.schema_["zip"].info["pii"] == "postcode"
    fake = model.sample(300, random_state=0)
    assert fake["zip"].between(10000, 99999).all()  # the learned five-digit shape
    assert not set(fake["zip"]) <= set(real["zip"])  # fresh values, not resampled ones
    kept = tabgen.GaussianCopulaSynthesizer(schema={"zip": "categorical"}, random_state=0)
    assert set(kept.fit(real).sample(300, random_state=0)["zip"]) <= set(real["zip"])


def test_a_postcode_in_a_rule_is_modelled_not_regenerated():
    from tabgen.constraints import Determines

    rng = np.random.default_rng(3)
    zips = rng.choice([f"{i:05d}" for i in range(100, 120)], 300)
    real = pd.DataFrame({"zip_code": zips, "city": [f"c{int(z) % 5}" for z in zips]})
    model = tabgen.GaussianCopulaSynthesizer(
        constraints=[Determines("zip_code", "city")], random_state=0
    ).fit(real)
    fake = model.sample(200, random_state=0)
    assert set(fake["zip_code"]) <= set(zips)
    assert (fake["city"] == [f"c{int(z) % 5}" for z in fake["zip_code"]]).all()


def test_a_phone_name_on_a_category_without_digits_is_a_feature():
    n = 400
    rng = np.random.default_rng(0)
    phones = [f"+1 415 555 {i:04d}" for i in range(n)]
    frame = pd.DataFrame(
        {
            "own_telephone": rng.choice(["yes", "none"], n),  # credit-g: has a phone or not
            "card_type": rng.choice(["visa", "amex", "debit"], n),
            # a real phone column with many placeholders stays PII
            "phone": [p if i % 3 == 0 else "n/a" for i, p in enumerate(phones)],
            "mobile": [f"x{i}" for i in range(n)],  # distinct, unreadable: the name wins
            "ssn": rng.choice(["123-45-6789", "987-65-4321"], n),  # few, but with digits
        }
    )
    assert detect_pii(frame) == {"phone": "phone", "mobile": "phone", "ssn": "ssn"}
