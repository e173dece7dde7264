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
    with pytest.raises(ValueError, match="mapping="):
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
    assert "not differentially private" in capsys.readouterr().err
    synth = tmp_path / "synth.csv"
    model.sample(200).to_csv(synth, index=False)
    assert main(["evaluate", str(data), str(synth), "--constraints", str(rules)]) == 0
    assert "rule_violations_synthetic" in capsys.readouterr().out
    assert all(hasattr(r, "support") for r in found)  # read off the data: refused under DP
    dp = ["fit", str(data), "-o", str(tmp_path / "dp"), "--constraints", str(rules)]
    code = main([*dp, "--epsilon", "1"])
    assert code == 1 and "proposed by discover" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"constraints": [{"kind": "inequality", "left": "a"}]}')
    assert main(["fit", str(data), "-o", str(tmp_path / "m2"), "--constraints", str(bad)]) == 1
    assert "bad constraint" in capsys.readouterr().err


# -- gaps of the first release ------------------------------------------------------------------
PUBLIC = [  # rules stated without reading the rows: allowed under DP
    Inequality("a", "<", "b"),
    LinearEquality("total", ["x", "y"]),
    Determines("cat", "code", mapping={"p": 10, "q": 20, "r": 30}),
    Range(0, "share", 1),
    OneHot(["h0", "h1", "h2"]),
]


def test_dp_with_public_rules_and_refusals():
    df = ruled_frame(400)
    model = GaussianCopulaSynthesizer(constraints=PUBLIC, epsilon=3.0, random_state=0).fit(df)
    assert model.privacy_["epsilon"] == pytest.approx(3.0)
    out = model.sample(300)
    assert _broken(PUBLIC, out) == {}
    # each row is a one-hot vector or, under DP, the public all-missing level (its noisy count
    # can be positive: the fit may not look at whether the rows have missing cells)
    hot = out[["h0", "h1", "h2"]]
    present = hot.notna().all(axis=1)
    assert (hot[present].sum(axis=1) == 1).all()
    assert hot[~present].isna().all(axis=1).all()
    # the model file holds only what the rules state, nothing read off the rows
    steps = {s["type"]: s for s in model.constraints_.get_state()["steps"]}
    assert steps["derive"]["lookup"] in ([["p", 10], ["q", 20], ["r", 30]], None)
    joint = steps["joint"]
    assert joint["weights"] == [1, 1, 1, 1]
    assert joint["combos"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [None, None, None]]
    with pytest.raises(ValueError, match=r"Determines\(source, target, mapping="):
        GaussianCopulaSynthesizer(constraints=[Determines("cat", "code")], epsilon=1.0).fit(df)
    with pytest.raises(ValueError, match="combinations="):
        rule = FixedCombinations(["cat", "code"])
        GaussianCopulaSynthesizer(constraints=[rule], epsilon=1.0).fit(df)
    found = [r for r in discover(df) if isinstance(r, Inequality)][:1]
    with pytest.raises(ValueError, match="proposed by discover"):
        GaussianCopulaSynthesizer(constraints=found, epsilon=1.0).fit(df)
    with pytest.raises(ValueError, match=r"domain declares column\(s\) \['b'\]"):
        GaussianCopulaSynthesizer(constraints=PUBLIC, epsilon=1.0, domain={"b": (0, 30)}).fit(df)


def test_rule_constants_narrow_the_dp_bounds():
    from tabgen.privacy import PrivateDomain
    from tabgen.schema import Schema

    df = ruled_frame(400)
    extra = [Inequality("x", ">=", 0), Inequality("b", "<=", 100), Inequality("share", "<", 5)]
    rules = ConstraintSet([*PUBLIC, *extra])
    rules.fit_transform(df, private=True)
    # share: both sides from the Range (the looser < 5 does not widen it); x: a one-sided
    # floor; b is rewritten (its gap to a) and gets none
    assert rules.public_limits() == {"share": (0.0, 1.0), "x": (0.0, None)}
    # a block of rows far above the range stands for a noisy bin that passes far away: the
    # measured upper bound is stretched to it, and the rule's constant takes it back
    wide = pd.DataFrame({"share": np.r_[np.linspace(0.01, 0.99, 400), np.full(300, 400.0)]})
    for limits, high in ((None, 562.3), ({"share": (0.0, 1.0)}, 1.0)):
        dom = PrivateDomain(None, limits).fit(
            wide,
            Schema.detect(wide),
            epsilon_domain=1.0,
            delta_domain=1e-6,
            epsilon_marginals=1.0,
            rng=np.random.default_rng(0),
        )
        low, up = dom.columns_["share"].bounds
        assert up == pytest.approx(high, rel=1e-3)
        assert low >= 0.0


def test_given_mapping_and_combinations_are_checked_and_kept():
    df = ruled_frame()
    wrong = Determines("cat", "code", mapping={"p": 10, "q": 20, "r": 31})
    with pytest.raises(ValueError, match=r"Determines.*row\(s\)"):
        GaussianCopulaSynthesizer(constraints=[wrong]).fit(df)
    listed = FixedCombinations(["cat", "code"], combinations=[["p", 10], ["q", 20], ["r", 30]])
    assert listed.violations(df).sum() == 0
    model = GaussianCopulaSynthesizer(constraints=[listed], random_state=0).fit(df)
    out = model.sample(200, random_state=0)
    assert set(zip(out["cat"], out["code"])) <= {("p", 10), ("q", 20), ("r", 30)}
    short = FixedCombinations(["cat", "code"], combinations=[["p", 10], ["q", 20]])
    assert short.violations(df).sum() == (df["cat"] == "r").sum()
    with pytest.raises(ValueError, match="one per column"):
        FixedCombinations(["cat", "code"], combinations=[["p"]])
    for rule in (listed, PUBLIC[2]):
        assert rule_from_dict(rule.to_dict()) == rule


def test_arrow_and_nullable_dtypes_kept_with_rules():
    pa = pytest.importorskip("pyarrow")
    df = ruled_frame()[["a", "b", "x", "y", "total", "cat", "code"]]
    arrow = df.astype(
        {
            "x": pd.ArrowDtype(pa.int64()),
            "total": pd.ArrowDtype(pa.int64()),
            "b": pd.ArrowDtype(pa.float64()),
            "cat": pd.ArrowDtype(pa.string()),
        }
    )
    nullable = df.astype({"x": "Int64", "total": "Int64", "code": "Int64", "cat": "string"})
    nullable.loc[[2, 9], "x"] = pd.NA
    rules = [Inequality("a", "<", "b"), LinearEquality("total", ["x", "y"]), RULES[2]]
    for frame in (arrow, nullable):
        model = GaussianCopulaSynthesizer(constraints=rules, random_state=0).fit(frame)
        out = model.sample(100, random_state=0)
        assert out.dtypes.to_dict() == frame.dtypes.to_dict()
        assert _broken(rules, out) == {}


def test_fit_from_a_parquet_file_with_rules(tmp_path):
    pytest.importorskip("pyarrow")
    df = ruled_frame()
    path = tmp_path / "train.parquet"
    df.to_parquet(path)
    model = GaussianCopulaSynthesizer(constraints=RULES, random_state=0).fit(path)
    assert model.n_rows_ == len(df)
    assert _broken(RULES, model.sample(200, random_state=0)) == {}
    out = tabgen.sample_to_file(model, tmp_path / "out.parquet", 300, batch_size=120)
    back = tabgen.read_table(out)
    assert list(back.columns) == list(df.columns) and len(back) == 300
    assert _broken(RULES, back) == {}


@pytest.mark.parametrize(
    "cls", [c for c in MODELS if c.capabilities.inpainting], ids=lambda c: c.__name__
)
def test_inpainting_honours_the_rules(cls):
    """Rows with different given cells (a, b, x, total, cat in turn): the given cells are
    kept, the free ones filled so that every rule holds."""
    df = ruled_frame()
    model = cls(constraints=RULES, random_state=0, **cls._test_params()).fit(df)
    n = 60
    given = df.sample(n, random_state=1).reset_index(drop=True)
    cond = pd.DataFrame(index=range(n), columns=["a", "b", "x", "total", "cat"], dtype=object)
    for i in range(n):
        cols = [["a"], ["b"], ["x", "total"], ["cat"], ["a", "total"]][i % 5]
        cond.loc[i, cols] = given.loc[i, cols].to_numpy()
    out = model.sample(conditions=cond, random_state=0)
    assert _broken(RULES, out) == {}
    for col in cond.columns:
        mask = cond[col].notna().to_numpy()
        got = out[col].to_numpy(dtype=object)[mask]
        want = cond[col].to_numpy(dtype=object)[mask]
        assert all(g == w or abs(float(g) - float(w)) < 1e-9 for g, w in zip(got, want)), col


def test_report_counts_rule_violations():
    df = ruled_frame()
    rules = RULES[:3]
    plain = GaussianCopulaSynthesizer(random_state=0).fit(df).sample(300, random_state=1)
    ruled = GaussianCopulaSynthesizer(constraints=rules, random_state=0).fit(df).sample(300)
    report = tabgen.evaluate(df, plain, metrics=["fidelity"], constraints=rules)
    assert report.scores["rule_violations_real"] == 0.0
    # Determines checked against the lookup of the real rows
    bound = [*rules[:2], Determines("cat", "code", mapping={"p": 10, "q": 20, "r": 30})]
    assert report.scores["rule_violations_synthetic"] == pytest.approx(
        np.mean(sum(r.violations(plain) for r in bound) > 0)
    )
    assert report.scores["rule_violations_synthetic"] > 0
    table = report.details["constraints"]["per_rule"]
    assert list(table["rule"]) == [repr(r) for r in rules]
    report = tabgen.evaluate(df, ruled, metrics=["fidelity"], constraints=rules)
    assert report.scores["rule_violations_synthetic"] == 0.0
    # a combination the real rows never show breaks FixedCombinations in the report
    odd = ruled.copy()
    odd.loc[0, "code"] = 30 if odd.loc[0, "cat"] != "r" else 10
    report = tabgen.evaluate(
        df, odd, metrics=["fidelity"], constraints=[FixedCombinations(["cat", "code"])]
    )
    assert report.scores["rule_violations_synthetic"] == pytest.approx(1 / len(odd))


def test_neural_imputer_and_oversampler_honour_the_rules():
    """The pipelines with a diffusion model (inpainting natively) keep every rule."""
    from tabgen.pipelines.imputation import SyntheticImputer
    from tabgen.pipelines.oversampling import SyntheticOverSampler

    df = ruled_frame()[["a", "b", "x", "y", "total", "cat"]]
    rules = [Inequality("a", "<", "b"), LinearEquality("total", ["x", "y"])]
    params = dict(DiffusionSynthesizer._test_params(), constraints=rules, random_state=0)
    holes = df.copy()
    rng = np.random.default_rng(0)
    for col in ["a", "b", "x", "total"]:
        holes.loc[rng.random(len(df)) < 0.2, col] = np.nan
    imputer = SyntheticImputer(synthesizer=DiffusionSynthesizer(**params), random_state=0)
    filled = imputer.fit_transform(holes)
    assert filled.notna().all().all() and _broken(rules, filled) == {}
    X, y = df.drop(columns="cat"), df["cat"].where(df.index % 5 != 0, "rare")
    sampler = SyntheticOverSampler(
        synthesizer=DiffusionSynthesizer(**params), generation="inpaint", random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    assert (y_res == "rare").sum() > (y == "rare").sum()
    assert _broken(rules, X_res) == {}


# -- discover: nothing false, every named rule ----------------------------------------------------
def test_discover_finds_nothing_on_independent_columns_of_every_kind():
    rng = np.random.default_rng(3)
    n = 5000
    start = pd.Timestamp("2021-01-01")
    frame = pd.DataFrame(
        {
            **{f"f{i}": rng.normal(size=n) * (i + 1) for i in range(4)},
            **{f"i{i}": rng.integers(-10, 10, n) for i in range(3)},
            **{f"c{i}": rng.choice([f"v{j}" for j in range(3 + 4 * i)], n) for i in range(3)},
            **{f"b{i}": rng.random(n) < 0.5 for i in range(3)},  # booleans: no sign
            **{
                f"d{i}": start + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
                for i in range(2)
            },
        }
    )
    frame.loc[rng.random(n) < 0.05, "f0"] = np.nan
    assert discover(frame) == []
    assert discover(frame, confidence=0.999) == []


def test_discover_on_real_tables_finds_the_named_rules(shared_data_dir):
    named = {
        "adult": [FixedCombinations(["education", "education_num"])],
        "california": [
            Inequality("total_bedrooms", "<=", "total_rooms"),
            Inequality("households", "<=", "population"),  # broken by 3 training rows
        ],
        "magic": [Inequality("Conc1", "<=", "Conc"), Inequality("Width", "<=", "Length")],
    }
    files = {"adult": "adult_train.csv.gz", "california": "california.csv.gz"}
    for name, rules in named.items():
        table = pd.read_csv(shared_data_dir / files.get(name, f"{name}_train.csv.gz"))
        found = discover(table, confidence=0.999)
        for rule in rules:
            assert rule in found, (name, rule, found)
        exact = discover(table)
        assert all(r.confidence == 1.0 for r in exact)
        # nonsense orders between unrelated columns are not proposed
        assert not any(
            isinstance(r, Inequality)
            and {r.left, r.right} & {"median_house_value", "Size"}
            and r.right != 0
            for r in exact
        ), exact
    conc = next(r for r in found if r == named["magic"][0])  # the last table's
    assert conc.support == 1.0 and conc.confidence == 1.0


def test_row_discriminator_compares_the_models_own_rows(monkeypatch):
    """The selection's discriminator learns the inner (transformed) training rows against
    inner generated rows, as candidates are scored; generated rows after the rules' inverse
    transform (other columns, other values) would let it tell them apart by that alone."""
    from tabgen.synthesizers.postprocess import selection

    seen = []
    transform = selection.RowFeatures.transform

    def spy(self, frame):
        seen.append(frame)
        return transform(self, frame)

    monkeypatch.setattr(selection.RowFeatures, "transform", spy)
    rules = [Inequality("a", "<", "b"), FixedCombinations(["cat", "code"])]
    params = {**GANSynthesizer._test_params(), "epochs": 2}
    GANSynthesizer(constraints=rules, random_state=0, **params).fit(ruled_frame(300))
    real, fake = seen[0], seen[1]
    # the pair is one joint column of the inner table (``code`` stays as a modelled copy)
    assert set(real["cat"].dropna()) <= {f"combination {i}" for i in range(len(real))}
    assert list(fake.columns) == list(real.columns)
    assert set(fake["cat"].dropna()) <= set(real["cat"])
    # b is a non-negative gap over a on both sides
    assert (fake["b"] >= 0).all() and fake["b"].median() < real["b"].max()


def test_fixed_combinations_keep_the_other_columns_modelled(tmp_path):
    """With ``copies`` (the VAE's choice) the joint category replaces the first column and
    the others stay in the inner table as the model would see them without the rule (a VAE
    learns the remaining columns better beside them); the inverse writes them back from
    the joint category. Other models fold them."""
    df = ruled_frame(200)
    rules = ConstraintSet([FixedCombinations(["cat", "code"])], copies=True)
    inner = rules.fit_transform(df)
    assert inner["cat"].str.startswith("combination ").all()
    assert inner["code"].equals(df["code"])
    generated = inner.assign(code=-1)  # whatever the model makes of the copy
    back = rules.inverse(generated)
    assert back[["cat", "code"]].equals(df[["cat", "code"]])
    # a model file saved before the copies keeps its inner table without them
    state = rules.get_state()
    del state["steps"][0]["copies"]
    old = ConstraintSet.from_state(state)
    assert "code" not in old.transform(df).columns
    assert old.inverse(inner.drop(columns="code"))[["cat", "code"]].equals(df[["cat", "code"]])
    rule = FixedCombinations(["cat", "code"])
    copula = GaussianCopulaSynthesizer(constraints=[rule], random_state=0).fit(df)
    assert "code" not in [spec.name for spec in copula.schema_]
    vae = VAESynthesizer(constraints=[rule], random_state=0, **VAESynthesizer._test_params())
    vae.fit(df)
    assert "code" in [spec.name for spec in vae.schema_]
    out = vae.sample(200, random_state=0)
    assert set(zip(out["cat"], out["code"])) <= set(zip(df["cat"], df["code"]))
    given = vae.sample(20, conditions={"code": 20}, random_state=0)  # the copy is left free
    assert (given["cat"] == "q").all() and (given["code"] == 20).all()
    vae.save(tmp_path / "vae.tabgen")
    loaded = tabgen.load(tmp_path / "vae.tabgen")
    assert loaded.constraints_.steps_[0].copies_
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=1), vae.sample(50, random_state=1))
