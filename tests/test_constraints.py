"""Constraints: rules every model honours by construction, persistence, bad input, discover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.constraints import (
    ConstraintSet,
    Custom,
    Determines,
    FixedCombinations,
    Inequality,
    LinearEquality,
    OneHot,
    Range,
    discover,
    rule_from_dict,
)
from tabgen.synthesizers import (
    DiffusionSynthesizer,
    GANSynthesizer,
    GaussianCopulaSynthesizer,
    VAESynthesizer,
)

MODELS = [GaussianCopulaSynthesizer, DiffusionSynthesizer, VAESynthesizer, GANSynthesizer]


def ruled_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """a < b, total = x + y, cat determines code, 0 <= share <= 1, a one-hot group."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 10, n)
    x = rng.integers(0, 50, n)
    y = rng.integers(0, 50, n)
    cat = rng.choice(["p", "q", "r"], n)
    hot = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "a": a,
            "b": a + rng.exponential(2.0, n) + 0.01,
            "x": x,
            "y": y,
            "total": x + y,
            "cat": cat,
            "code": pd.Series(cat).map({"p": 10, "q": 20, "r": 30}).to_numpy(),
            "share": rng.uniform(0, 1, n),
            "h0": (hot == 0).astype(int),
            "h1": (hot == 1).astype(int),
            "h2": (hot == 2).astype(int),
        }
    )


RULES = [
    Inequality("a", "<", "b"),
    LinearEquality("total", ["x", "y"]),
    Determines("cat", "code"),
    Range(0, "share", 1),
    OneHot(["h0", "h1", "h2"]),
    Inequality("x", ">=", 0),
]


def _broken(rules, frame) -> dict:
    return {repr(r): int(r.violations(frame).sum()) for r in rules if r.violations(frame).any()}


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_model_obeys_every_rule(cls):
    df = ruled_frame()
    model = cls(constraints=RULES, random_state=0, **cls._test_params()).fit(df)
    out = model.sample(300, random_state=1)
    assert list(out.columns) == list(df.columns)
    assert _broken(RULES, out) == {}
    assert (out[["h0", "h1", "h2"]].sum(axis=1) == 1).all()
    assert out["total"].dtype == df["total"].dtype
    # conditions on a column a rule reads, and on a derived column with its sources
    cond = model.sample(40, conditions={"cat": "q"}, random_state=2)
    assert (cond["cat"] == "q").all() and (cond["code"] == 20).all()
    assert _broken(RULES, cond) == {}


def test_without_rules_the_same_model_breaks_them():
    """The comparison the rules are for: an unconstrained copula breaks a < b and the sum."""
    df = ruled_frame()
    out = GaussianCopulaSynthesizer(random_state=0).fit(df).sample(300, random_state=1)
    broken = _broken(RULES[:2], out)
    assert broken, "the unconstrained model happens to obey the rules: the test shows nothing"


def test_conditions_are_mapped_or_refused():
    df = ruled_frame()
    model = GaussianCopulaSynthesizer(constraints=RULES, random_state=0).fit(df)
    out = model.sample(20, conditions={"a": 2.0, "b": 3.5}, random_state=0)
    assert (out["a"] == 2.0).all() and (out["b"] == 3.5).all()
    out = model.sample(20, conditions={"x": 5, "y": 7, "total": 12}, random_state=0)
    assert (out["total"] == 12).all()
    out = model.sample(20, conditions={"h1": 1}, random_state=0)
    assert (out["h1"] == 1).all() and (out["h0"] == 0).all()
    frame = pd.DataFrame({"cat": ["p", None, "r"], "a": [1.0, 4.0, None]}, index=[7, 8, 9])
    out = model.sample(conditions=frame, random_state=0)
    assert list(out.index) == [7, 8, 9] and out.loc[7, "code"] == 10 and out.loc[8, "a"] == 4.0
    assert _broken(RULES, out) == {}
    with pytest.raises(ValueError, match="contradict"):
        model.sample(5, conditions={"a": 5.0, "b": 1.0})
    with pytest.raises(ValueError, match="contradict"):
        model.sample(5, conditions={"cat": "p", "code": 20})
    with pytest.raises(ValueError, match="contradict"):
        model.sample(5, conditions={"x": 1, "y": 1, "total": 5})
    # a derived column alone: the free columns are solved for it
    out = model.sample(30, conditions={"b": 3.0}, random_state=0)
    assert (out["b"] == 3.0).all() and (out["a"] < 3.0).all() and out["a"].nunique() > 1
    out = model.sample(30, conditions={"total": 30}, random_state=0)
    assert (out["total"] == 30).all() and (out["x"] + out["y"] == 30).all()
    out = model.sample(30, conditions={"total": 30, "x": 4}, random_state=0)
    assert (out["y"] == 26).all()
    out = model.sample(30, conditions={"code": 30}, random_state=0)
    assert (out["cat"] == "r").all()
    with pytest.raises(ValueError, match="no value of 'cat'"):
        model.sample(5, conditions={"code": 40})


def test_save_load_keeps_rules(tmp_path):
    df = ruled_frame()
    model = GaussianCopulaSynthesizer(constraints=RULES, random_state=0).fit(df)
    path = tmp_path / "m.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert loaded.constraints == RULES
    out = loaded.sample(200, random_state=3)
    assert _broken(RULES, out) == {}
    pd.testing.assert_frame_equal(out, model.sample(200, random_state=3))


def test_custom_rule_by_rejection_and_resupplied_on_load(tmp_path):
    df = ruled_frame()
    even = Custom(lambda f: f["x"] % 2 == 0, name="even_x")
    df = df[df["x"] % 2 == 0].reset_index(drop=True)
    model = GaussianCopulaSynthesizer(constraints=[even, RULES[0]], random_state=0).fit(df)
    assert (model.sample(100)["x"] % 2 == 0).all()
    path = tmp_path / "m.tabgen"
    model.save(path)
    with pytest.raises(ValueError, match=r"even_x.*custom="):
        tabgen.load(path).sample(5)
    loaded = tabgen.load(path, custom={"even_x": lambda f: f["x"] % 2 == 0})
    assert (loaded.sample(100)["x"] % 2 == 0).all()
    with pytest.raises(ValueError, match="match no Custom rule"):
        tabgen.load(path, custom={"other": lambda f: f["x"] > 0})
    never = Custom(lambda f: np.zeros(len(f), dtype=bool), name="never")
    model = GaussianCopulaSynthesizer(constraints=[never], constraint_violations="drop")
    with pytest.raises(ValueError, match="every training row"):
        model.fit(df)


def test_low_acceptance_is_a_clear_error(tmp_path):
    df = ruled_frame()
    rule = Custom(lambda f: f["a"] >= 0, name="rare", min_acceptance=0.5)
    GaussianCopulaSynthesizer(constraints=[rule], random_state=0).fit(df).save(tmp_path / "m")
    model = tabgen.load(tmp_path / "m", custom={"rare": lambda f: f["a"] < 0.5})
    with pytest.raises(ValueError, match=r"obey the constraints.*'rare'"):
        model.sample(200)


def test_bad_input_is_refused_before_fitting():
    df = ruled_frame()
    with pytest.raises(ValueError, match="'nope'"):
        GaussianCopulaSynthesizer(constraints=[Inequality("a", "<=", "nope")]).fit(df)
    with pytest.raises(ValueError, match="cannot apply to column 'cat'"):
        GaussianCopulaSynthesizer(constraints=[Inequality("cat", "<=", "a")]).fit(df)
    bad = df.copy()
    bad.loc[[3, 5], "b"] = -1.0
    with pytest.raises(ValueError, match=r"2 row\(s\), first \[3, 5\]"):
        GaussianCopulaSynthesizer(constraints=[Inequality("a", "<=", "b")]).fit(bad)
    model = GaussianCopulaSynthesizer(
        constraints=[Inequality("a", "<=", "b")], constraint_violations="drop", random_state=0
    ).fit(bad)
    assert model.n_rows_ == len(df) - 2
    out = model.sample(100)
    assert (out["a"] <= out["b"]).all()
    with pytest.raises(ValueError, match="constraint_violations"):
        GaussianCopulaSynthesizer(constraints=RULES, constraint_violations="ignore").fit(df)
    with pytest.raises(TypeError, match="must hold rules"):
        GaussianCopulaSynthesizer(constraints=["a < b"]).fit(df)
    with pytest.raises(ValueError, match="cycle"):
        ConstraintSet([Determines("cat", "code"), Determines("code", "cat")]).fit_transform(df)
    with pytest.raises(ValueError, match="derived by two rules"):
        GaussianCopulaSynthesizer(
            constraints=[LinearEquality("total", ["x", "y"]), LinearEquality("total", ["y", "x"])]
        ).fit(df)
    with pytest.raises(ValueError, match="op must be one of"):
        Inequality("a", "=<", "b")
    with pytest.raises(ValueError, match="epsilon"):
        GaussianCopulaSynthesizer(constraints=RULES, epsilon=1.0).fit(df)


def test_missing_values_rule_applies_where_all_present():
    df = ruled_frame()
    df.loc[::7, "a"] = np.nan
    df.loc[::11, "x"] = np.nan
    rules = [Inequality("a", "<", "b"), LinearEquality("total", ["x", "y"])]
    model = GaussianCopulaSynthesizer(constraints=rules, random_state=0).fit(df)
    out = model.sample(300, random_state=0)
    assert _broken(rules, out) == {}
    assert out["a"].isna().any() and out["b"].notna().all()


def test_fixed_combinations_only_seen_combinations():
    rng = np.random.default_rng(0)
    pairs = [("FR", "Paris"), ("FR", "Lyon"), ("DE", "Berlin"), ("IT", "Rome")]
    idx = rng.integers(0, len(pairs), 300)
    df = pd.DataFrame(
        {
            "country": [pairs[i][0] for i in idx],
            "city": [pairs[i][1] for i in idx],
            "v": rng.normal(size=300),
        }
    )
    rule = FixedCombinations(["country", "city"])
    model = GaussianCopulaSynthesizer(constraints=[rule], random_state=0).fit(df)
    out = model.sample(400, random_state=0)
    assert set(zip(out["country"], out["city"])) <= set(pairs)
    out = model.sample(50, conditions={"country": "FR"}, random_state=0)
    assert set(out["city"]) <= {"Paris", "Lyon"} and (out["country"] == "FR").all()
    with pytest.raises(ValueError, match="never seen"):
        model.sample(5, conditions={"country": "DE", "city": "Rome"})


def test_rules_round_trip_as_data():
    for rule in [*RULES, FixedCombinations(["a", "b"]), Range("a", "x", "b", strict=True)]:
        assert rule_from_dict(rule.to_dict()) == rule
    with pytest.raises(ValueError, match="not a rule"):
        rule_from_dict({"kind": "magic"})


def test_discover_finds_planted_rules_and_nothing_on_independent_columns():
    df = ruled_frame(600)
    found = discover(df)
    assert Inequality("a", "<=", "b") in found
    assert LinearEquality("total", ["x", "y"], tolerance=1e-9) in found
    assert FixedCombinations(["cat", "code"]) in found
    assert OneHot(["h0", "h1", "h2"]) in found
    assert all(0 < r.support <= 1 for r in found)
    # usable directly: every model accepts them and the table obeys them
    model = GaussianCopulaSynthesizer(constraints=found, random_state=0).fit(df)
    assert _broken(found, model.sample(200)) == {}
    rng = np.random.default_rng(1)
    independent = pd.DataFrame(
        {
            "u": rng.normal(size=2000),
            "v": rng.normal(size=2000),
            "w": rng.normal(size=2000),
            "c1": rng.choice(list("abc"), 2000),
            "c2": rng.choice(list("xyz"), 2000),
        }
    )
    assert discover(independent) == []


def test_discover_adult_education_pair():
    adult = tabgen.datasets.load_adult().sample(3000, random_state=0)
    edu = [c for c in adult.columns if "education" in c]
    found = discover(adult, kinds=("determines", "fixed_combinations"))
    assert any(set(r.columns) == set(edu) for r in found), found
    rules = [r for r in found if set(r.columns) == set(edu)]
    model = GaussianCopulaSynthesizer(constraints=rules, random_state=0).fit(adult)
    out = model.sample(500, random_state=0)
    seen = set(zip(adult[edu[0]], adult[edu[1]]))
    assert set(zip(out[edu[0]], out[edu[1]])) <= seen


def test_pipelines_pass_the_rules_through():
    """The imputer and the over-sampler use their synthesizer's ``constraints``."""
    from tabgen.pipelines.imputation import SyntheticImputer
    from tabgen.pipelines.oversampling import SyntheticOverSampler

    df = ruled_frame()[["a", "b", "x", "y", "total", "cat"]]
    rules = [Inequality("a", "<", "b"), LinearEquality("total", ["x", "y"])]
    holes = df.copy()
    rng = np.random.default_rng(0)
    for col in ["a", "b", "x", "total"]:
        holes.loc[rng.random(len(df)) < 0.2, col] = np.nan
    synth = GaussianCopulaSynthesizer(constraints=rules, random_state=0)
    filled = SyntheticImputer(synthesizer=synth, random_state=0).fit_transform(holes)
    assert filled.notna().all().all()
    assert _broken(rules, filled) == {}
    kept = holes.notna().to_numpy()
    assert (filled.to_numpy()[kept] == holes.to_numpy()[kept]).all()
    X, y = df.drop(columns="cat"), df["cat"].where(df.index % 5 != 0, "rare")
    sampler = SyntheticOverSampler(synthesizer=synth, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) > len(X) and (y_res == "rare").sum() > (y == "rare").sum()
    assert _broken(rules, X_res) == {}


def test_cli_constraints_then_fit_with_them(tmp_path, capsys):
    from tabgen.cli import main

    df = ruled_frame()[["a", "b", "x", "y", "total", "cat", "code"]]
    data = tmp_path / "data.csv"
    df.to_csv(data, index=False)
    rules = tmp_path / "rules.json"
    assert main(["constraints", str(data), "-o", str(rules)]) == 0
    from tabgen.constraints.files import read_rules

    found = read_rules(rules)
    assert Inequality("a", "<=", "b") in found
    model_file = tmp_path / "m.tabgen"
    assert main(["fit", str(data), "-o", str(model_file), "--constraints", str(rules)]) == 0
    model = tabgen.load(model_file)
    assert model.constraints == found
    assert _broken(found, model.sample(200)) == {}
    bad = tmp_path / "bad.json"
    bad.write_text('{"constraints": [{"kind": "inequality", "left": "a"}]}')
    assert main(["fit", str(data), "-o", str(tmp_path / "m2"), "--constraints", str(bad)]) == 1
    assert "bad constraint" in capsys.readouterr().err
