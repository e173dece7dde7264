"""Every synthesizer regenerates PII columns (detected or declared) with realistic fakes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tabgen.pii import FakeColumn
from tabgen.schema import SchemaWarning
from tabgen.synthesizers.postprocess.pii import RegeneratePII, pii_schema
from tabgen.synthesizers.registry import SYNTHESIZERS

EMAIL = r"[a-z]+\.[a-z]+\d+@example\.(com|org|net)"
NAME = r"[^\W\d_]+(?:[ '-][^\W\d_]+)+"


def _people(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = rng.choice(["Kari", "Ola", "Per", "Liv", "Nils", "Ingrid"], n)
    last = rng.choice(["Nordmann", "Hansen", "Olsen", "Berg", "Lie"], n)
    return pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "email": [
                f"{a.lower()}.{b.lower()}{i}@post.no" for i, (a, b) in enumerate(zip(first, last))
            ],
            "mobile": [f"+47 9{v:07d}" for v in rng.integers(0, 10**7, n)],
            "full_name": [f"{a} {b}" for a, b in zip(first, last)],
            "city": rng.choice(["Oslo", "Bergen", "Trondheim"], n),
        }
    )


def _fit(name: str, frame: pd.DataFrame, **extra):
    cls = SYNTHESIZERS[name]
    params = {**cls._test_params(), "random_state": 0, **extra}
    if "epochs" in params:
        params["epochs"] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        return cls(**params).fit(frame)


@pytest.mark.parametrize("name", sorted(SYNTHESIZERS))
def test_every_synthesizer_regenerates_detected_pii(name):
    real = _people()
    model = _fit(name, real)
    pii = {s.name: s.info.get("pii") for s in model.schema_ if "pii" in s.info}
    assert pii == {"email": "email", "mobile": "phone", "full_name": "person_name"}
    assert all(model.schema_[c].kind == "id" for c in pii)  # nothing learned of them
    out = model.sample(60, random_state=1)
    assert out["email"].str.fullmatch(EMAIL).all(), out["email"].head().tolist()
    assert not set(out["email"]) & set(real["email"])
    # Norwegian mobiles stay Norwegian mobiles (country code and first digit kept).
    assert out["mobile"].str.fullmatch(r"\+47 9\d{7}").all(), out["mobile"].head().tolist()
    assert out["full_name"].str.fullmatch(NAME).all(), out["full_name"].head().tolist()
    assert not out["full_name"].str.startswith("syn-").any()
    assert set(out["city"]) <= set(real["city"])  # other columns untouched
    assert out.equals(model.sample(60, random_state=1))  # seeded: reproducible


def test_pii_fakes_survive_save_and_load(tmp_path):
    from tabgen.persistence import load

    model = _fit("copula", _people())
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert again.sample(30, random_state=3).equals(model.sample(30, random_state=3))


def test_declared_pii_type_and_declared_kind_win_over_detection():
    real = _people().rename(columns={"email": "contact"})
    real["contact"] = [f"c{i}" for i in range(len(real))]  # nothing e-mail-like to detect
    schema = {"contact": "email", "full_name": "categorical"}
    out = _fit("copula", real, schema=schema).sample(40, random_state=0)
    assert out["contact"].str.fullmatch(EMAIL).all()
    assert set(out["full_name"]) <= set(real["full_name"])  # modelled: a declared kind


def test_detection_warns_with_the_opt_out():
    real = _people(40)
    with pytest.warns(SchemaWarning, match=r"'email' \(email\).*schema=\{'email': 'categorical'\}"):
        schema = pii_schema(real, None)
    assert schema["mobile"].info["pii"] == "phone" and schema["age"].kind == "integer"


def test_state_round_trip_keeps_the_facts():
    real = _people()
    model = _fit("copula", real)
    step = model._postprocessor("pii")
    assert isinstance(step, RegeneratePII) and step.found["mobile"] == "phone"
    state, arrays = step.get_state()
    again = RegeneratePII.from_state(state, arrays)
    assert again.found == step.found
    assert again.fakes["mobile"].facts_ == step.fakes["mobile"].facts_
    assert again.fakes["full_name"].locale == "no_NO"  # from the phones' country code


def test_phone_prefix_rare_ones_are_not_learned():
    rng = np.random.default_rng(0)
    phones = [f"+47 9{v:07d}" for v in rng.integers(0, 10**7, 50)]
    phones += [f"+46 7{v:07d}" for v in rng.integers(0, 10**7, 2)]  # too rare to release
    fake = FakeColumn("phone").fit(pd.Series(phones))
    prefixes = [p for _, p, _ in fake.facts_["prefixes"]]
    assert prefixes == ["+47 9"]


def test_faker_names_follow_the_locale():
    pytest.importorskip("faker")
    names = pd.Series(["Kari Nordmann", "Ola Hansen"] * 10)
    fake = FakeColumn("person_name", locale="no_NO", source="faker").fit(names)
    out = fake.generate(300, np.random.default_rng(0))
    assert out.str.fullmatch(NAME).all()
    assert out.str.contains("[æøåÆØÅ]").any()  # Norwegian names
    first = FakeColumn("person_name", part="first", source="builtin").fit(names)
    assert (first.generate(50, np.random.default_rng(0)).str.split().str.len() == 2).all()
    with pytest.raises(ValueError, match="part"):
        FakeColumn("person_name", part="middle")
