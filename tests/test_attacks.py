"""Tests of tabgen.metrics.attacks: the statistics by hand, attacks on copied and independent
synthetic data, hand-built singling-out predicates, validation and the report wiring."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from tabgen.metrics import GROUPS, attack_risks, evaluate
from tabgen.metrics.attacks import ATTACKS, residual_risk, wilson_interval

from .conftest import make_mixed_frame

Z95 = 1.959963984540054  # two-sided 95 %: Φ⁻¹(0.975)


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield


def _population(n: int, seed: int) -> pd.DataFrame:
    """Continuous columns (so rows are unique), a dependent category with missing cells, a
    small integer and a datetime."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.8 * x + 0.6 * rng.normal(size=n)
    c = np.where(x + 0.5 * rng.normal(size=n) > 0, "hi", "lo").astype(object)
    c[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "z": rng.gamma(2.0, 3.0, size=n),
            "c": c,
            "k": rng.integers(0, 6, size=n),
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), "D"),
        }
    )


@pytest.fixture(scope="module")
def tables():
    return _population(400, 0), _population(400, 1), _population(400, 2)


@pytest.fixture(scope="module")
def copied(tables):
    train, holdout, _ = tables
    return attack_risks(train, train.copy(), holdout, n_attacks=300, random_state=0)


@pytest.fixture(scope="module")
def independent(tables):
    train, holdout, other = tables
    return attack_risks(train, other, holdout, n_attacks=300, random_state=0)


# --------------------------------------------------------------------------- statistics
def test_wilson_interval_by_hand():
    # (30 + z²/2) / (100 + z²) and z / (100 + z²) · sqrt(30·70/100 + z²/4), z = 1.96
    rate, error = wilson_interval(30, 100)
    assert rate == pytest.approx(0.3073987, abs=1e-6)
    assert error == pytest.approx(0.0884498, abs=1e-6)
    z2 = Z95**2
    assert rate == pytest.approx((30 + z2 / 2) / (100 + z2), rel=1e-12)
    # No success: rate = error = (z²/2) / (50 + z²).
    rate, error = wilson_interval(0, 50)
    assert rate == pytest.approx(0.0356738, abs=1e-6)
    assert error == pytest.approx(0.0356738, abs=1e-6)
    # 90 %: z = 1.6449
    rate, error = wilson_interval(8, 20, confidence=0.9)
    assert rate == pytest.approx(0.4119158, abs=1e-6)
    assert error == pytest.approx(0.1695284, abs=1e-6)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="k <= n"):
        wilson_interval(5, 3)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=1.0)


def test_residual_risk_by_hand():
    # (0.5 - 0.2) / 0.8 = 0.375; error sqrt((0.05/0.8)² + (0.04·0.5/0.8²)²) = 0.0698771
    risk, low, high = residual_risk((0.5, 0.05), (0.2, 0.04))
    assert risk == pytest.approx(0.375)
    assert low == pytest.approx(0.375 - 0.0698771, abs=1e-6)
    assert high == pytest.approx(0.375 + 0.0698771, abs=1e-6)
    # Attack below control: risk clipped to 0, the interval still reaches above 0.
    risk, low, high = residual_risk((0.10, 0.03), (0.12, 0.03))
    assert risk == 0.0 and low == 0.0
    assert high == pytest.approx(-0.02 / 0.88 + math.hypot(0.03 / 0.88, 0.03 * 0.9 / 0.88**2))
    # Interval clipped at 1; a control rate of 1 leaves nothing to measure.
    assert residual_risk((0.99, 0.05), (0.0, 0.01))[2] == 1.0
    assert residual_risk((1.0, 0.0), (1.0, 0.0)) == (0.0, 0.0, 0.0)
    assert all(math.isnan(v) for v in residual_risk((float("nan"), 0.1), (0.1, 0.1)))


def test_details_match_the_formulas(copied):
    for name in ATTACKS:
        entry = copied.details[name]
        n = entry["n_attacks"]
        attack = wilson_interval(entry["attack_successes"], n)
        control = wilson_interval(entry["control_successes"], entry["n_control"])
        assert (entry["attack_rate"], entry["attack_error"]) == attack
        assert (entry["control_rate"], entry["control_error"]) == control
        risk, low, high = residual_risk(attack, control)
        assert copied.scores[f"{name}_risk"] == risk
        assert copied.scores[f"{name}_risk_low"] == low
        assert copied.scores[f"{name}_risk_high"] == high
        assert 0.0 <= low <= risk <= high <= 1.0
    assert copied.details["settings"]["z"] == pytest.approx(Z95)
    per_secret = copied.details["inference_per_secret"]
    assert copied.scores["inference_risk_high_max"] == per_secret["high"].max()
    assert copied.scores["inference_risk_high_max"] >= copied.scores["inference_risk_high"]


# --------------------------------------------------------------------------- attacks
def test_copy_of_training_rows_is_caught(copied):
    scores = copied.scores
    for name in ATTACKS:  # measured ≈ 0.98-0.99 on this table
        assert scores[f"{name}_risk_low"] > 0.9, name
    table = copied.details["inference_per_secret"]
    assert set(table["secret"]) == set(_population(5, 0).columns)
    assert list(table["risk"]) == sorted(table["risk"], reverse=True)
    assert (table["low"] > 0.9).all()  # every column is exposed by an exact copy
    assert copied.details["inference"]["secret"] == table["secret"].iloc[0]
    assert copied.details["linkability"]["attack_rate"] > 0.95
    assert copied.details["singling_out_univariate"]["n_attacks"] == 300


def test_independent_sample_has_no_measurable_risk(independent):
    for name in ATTACKS:
        risk = independent.scores[f"{name}_risk"]
        low = independent.scores[f"{name}_risk_low"]
        assert low == 0.0 or risk < 0.1, (name, risk, low)
    # The attacks that are no better than random guessing say so.
    for name in ATTACKS:
        entry = independent.details[name]
        if entry["attack_rate"] <= entry["baseline_rate"]:
            assert "random guessing" in independent.notes[name]


def test_is_deterministic_for_a_seed(tables, copied):
    train, holdout, _ = tables
    again = attack_risks(train, train.copy(), holdout, n_attacks=300, random_state=0)
    assert again.scores == copied.scores
    pd.testing.assert_frame_equal(
        again.details["inference_per_secret"], copied.details["inference_per_secret"]
    )
    other = attack_risks(train, train.copy(), holdout, n_attacks=300, random_state=1)
    split = other.details["linkability"]["aux_cols"]
    assert split != copied.details["linkability"]["aux_cols"]  # the seed drives the split
    assert sorted(split[0] + split[1]) == sorted(train.columns)


def test_singling_out_predicates_by_hand():
    # Synthetic: a == 1 is its only unique value; min 1, max 9. Category "w" occurs once.
    synthetic = pd.DataFrame({"a": [1, 2, 2, 5, 5, 5, 7, 7, 9, 9], "b": list("xxyyzzzzzw")})
    # Predicates: a == 1, a <= 1, a >= 9, b == "w".
    real = pd.DataFrame({"a": [1, 3, 4, 4, 6, 6, 8, 8, 10, 10], "b": list("xyzzzzzzzw")})
    # a == 1: 1 row ✓, a <= 1: 1 ✓, a >= 9: 2 ✗, b == "w": 1 ✓  → 3 of 4
    holdout = pd.DataFrame({"a": [0, 0, 2, 3, 5, 6, 7, 8, 9, 11], "b": list("xyzzzzzzww")})
    # a == 1: 0 ✗, a <= 1: 2 ✗, a >= 9: 2 ✗, b == "w": 2 ✗  → 0 of 4
    res = attack_risks(real, synthetic, holdout, n_attacks=100)
    entry = res.details["singling_out_univariate"]
    assert entry["queries_available"] == 4
    assert entry["n_attacks"] == 4
    assert entry["attack_successes"] == 3
    assert entry["control_successes"] == 0
    assert "only 4 predicates" in res.notes["singling_out_univariate"]


def test_multivariate_predicates_single_out_in_synthetic(tables):
    train, holdout, _ = tables
    res = attack_risks(train, train.copy(), holdout, n_attacks=50, n_cols=2, random_state=3)
    entry = res.details["singling_out_multivariate"]
    assert entry["n_attacks"] == 50
    assert entry["n_cols"] == 2
    # Every kept predicate singles out a row of the synthetic (= training) table, so the
    # main attack succeeds every time here.
    assert entry["attack_successes"] == 50
    # max_attempts bounds the search and the shortfall is reported.
    res = attack_risks(train, train.copy(), holdout, n_attacks=50, max_attempts=5)
    assert res.details["singling_out_multivariate"]["attempts"] == 5
    assert res.details["singling_out_multivariate"]["n_attacks"] <= 5
    assert (
        "attempts" in res.notes["singling_out_multivariate"]
        or "underestimated" in (res.notes["singling_out_multivariate"])
    )


def test_no_predicate_gives_nan_with_a_reason():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"u": rng.choice(list("ab"), 40), "v": rng.choice(list("pq"), 40)})
    res = attack_risks(frame, frame, frame.sample(frac=1.0, random_state=0), n_attacks=20)
    assert math.isnan(res.scores["singling_out_univariate_risk"])
    assert "no predicate" in res.notes["singling_out_univariate"]


def test_inference_tolerance_and_missing_categories(tables):
    train, holdout, _ = tables
    within = train.assign(z=train["z"] * 1.04)  # 4 % off: still right at tolerance 5 %
    res = attack_risks(train, within, holdout, n_attacks=200, secrets="z")
    entry = res.details["inference"]
    assert entry["secret"] == "z"
    assert entry["attack_successes"] == 200
    assert len(res.details["inference_per_secret"]) == 1
    res = attack_risks(train, within, holdout, n_attacks=200, secrets=["z"], tolerance=0.03)
    assert res.details["inference"]["attack_successes"] == 0
    # A missing category guessed as missing counts as right.
    res = attack_risks(train, train.copy(), holdout, n_attacks=400, secrets=["c"])
    assert res.details["inference"]["attack_successes"] == 400
    assert train["c"].isna().any()


def test_aux_split_and_neighbours(tables):
    train, holdout, other = tables
    res = attack_risks(
        train, train.copy(), holdout, n_attacks=100, aux_split=(["x", "c"], ["y", "when"])
    )
    assert res.details["linkability"]["aux_cols"] == [["x", "c"], ["y", "when"]]
    assert res.details["linkability"]["attack_successes"] == 100
    # More neighbours: random guessing links more often.
    one = attack_risks(train, other, holdout, n_attacks=300, n_neighbors=1)
    many = attack_risks(train, other, holdout, n_attacks=300, n_neighbors=20)
    assert (
        many.details["linkability"]["baseline_rate"] > one.details["linkability"]["baseline_rate"]
    )
    assert many.details["linkability"]["n_neighbors"] == 20


def test_subsamples_the_larger_table():
    real, holdout = _population(300, 0), _population(120, 1)
    res = attack_risks(real, real, holdout, n_attacks=500)
    assert res.details["settings"]["rows_target"] == 120
    assert "subsampled from 300 to 120" in res.notes["subsample"]
    assert res.details["linkability"]["n_attacks"] == 120  # capped by the targets


def test_validation_errors(tables):
    train, holdout, _ = tables
    with pytest.raises(ValueError, match="holdout"):
        attack_risks(train, train, None)
    with pytest.raises(ValueError, match="at least 10"):
        attack_risks(train, train, holdout.iloc[:5])
    with pytest.raises(ValueError, match="'y'"):
        attack_risks(train, train.drop(columns="y"), holdout)
    with pytest.raises(ValueError, match="'extra'"):
        attack_risks(train, train, holdout.assign(extra=1))
    with pytest.raises(ValueError, match="'nope'"):
        attack_risks(train, train, holdout, secrets=["x", "nope"])
    with pytest.raises(ValueError, match="'ghost'"):
        attack_risks(train, train, holdout, aux_split=(["x"], ["ghost"]))
    with pytest.raises(ValueError, match="disjoint"):
        attack_risks(train, train, holdout, aux_split=(["x", "y"], ["y"]))
    with pytest.raises(ValueError, match="n_attacks"):
        attack_risks(train, train, holdout, n_attacks=0)
    with pytest.raises(ValueError, match="confidence"):
        attack_risks(train, train, holdout, confidence=95)
    with pytest.raises(ValueError, match="tolerance"):
        attack_risks(train, train, holdout, tolerance=-0.1)
    with pytest.raises(TypeError):
        attack_risks(train, train.to_numpy(), holdout)


# --------------------------------------------------------------------------- report
def test_evaluate_runs_attacks_only_when_asked(tables, tmp_path):
    train, holdout, other = tables
    assert "attacks" not in GROUPS
    report = evaluate(
        train,
        train.copy(),
        holdout,
        metrics=["privacy", "attacks"],
        attack_params={"n_attacks": 150},
    )
    assert report.results["attacks"].details["settings"]["n_attacks"] == 150
    assert report.scores["linkability_risk_low"] > 0.8
    assert report.config["attack_params"] == {"n_attacks": 150}
    # The default groups' seeds do not move when attacks are added.
    alone = evaluate(train, train.copy(), holdout, metrics=["privacy"]).scores
    both = report.scores
    assert all(both[k] == alone[k] for k in alone if k != "time_s" and not math.isnan(alone[k]))
    loaded = json.loads(report.to_json())
    assert loaded["details"]["attacks"]["inference_per_secret"][0]["secret"]
    html = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Privacy attacks (measured risk)" in html
    assert "Inference risk by secret column" in html
    assert "not a guarantee" in html
    # "all" leaves the attacks out; without a holdout they are skipped with a reason.
    assert "attacks" not in evaluate(train, other, metrics="fidelity").results
    report = evaluate(train, other, metrics=["attacks"])
    assert "holdout" in report.skipped["attacks"]
    with pytest.raises(ValueError, match="attack_params"):
        evaluate(train, other, holdout, metrics=["attacks"], attack_params={"n_attack": 5})
    with pytest.raises(ValueError, match="attacks"):
        evaluate(train, other, metrics=["attack"])


def test_evaluate_leaves_id_columns_out_of_the_attacks(tables):
    train, holdout, _ = tables
    add_id = {"row_id": np.arange(len(train))}
    report = evaluate(
        train.assign(**add_id),
        train.assign(**add_id),
        holdout.assign(**add_id),
        schema={"row_id": "id"},
        metrics=["attacks"],
        attack_params={"n_attacks": 50},
    )
    secrets = report.results["attacks"].details["inference_per_secret"]["secret"]
    assert "row_id" not in set(secrets)
    assert len(secrets) == train.shape[1]


def test_every_column_kind_and_missing_values():
    real, synth, holdout = (make_mixed_frame(150, seed) for seed in (0, 1, 2))
    res = attack_risks(real, synth, holdout, n_attacks=60, metadata={"date_str": "datetime"})
    for name in ATTACKS:
        assert 0.0 <= res.scores[f"{name}_risk"] <= 1.0, name
    table = res.details["inference_per_secret"]
    assert set(table["secret"]) == set(real.columns)
    assert table.set_index("secret").loc["when_tz", "kind"] == "datetime"
    # An all-missing column is always guessed right (missing as missing), by everyone.
    assert table.set_index("secret").loc["all_nan", "attack_rate"] > 0.9
    copied = attack_risks(real, real, holdout, n_attacks=60, secrets=["nbool", "int_nan"])
    assert copied.scores["inference_risk_low"] > 0.3


# --------------------------------------------------------------------------- leak-free floor


def test_null_upper_bounds_widen_as_the_control_rate_nears_one():
    from tabgen.metrics.attacks.statistics import null_upper_bounds

    rng = np.random.default_rng(0)
    n = np.array([5000, 5000])
    # Adult's education_num (control .94) against a secret at .60, both leak-free
    risk, high = null_upper_bounds(np.array([4700, 3000]), np.array([4700, 3000]), n, 0.95, rng)
    assert high.shape == (2000, 2) and risk.min() >= 0 and high.max() <= 1
    q_near, q_mid = np.quantile(high, 0.95, axis=0)
    assert 0.2 < q_near < 0.35  # (1 - c) = .06 divides the noise
    assert q_mid < 0.1
    # the redrawn counts are scored as measured: median risk about half the draws at 0
    assert 0.4 < np.mean(risk[:, 1] == 0) < 0.6


def test_inference_floor_is_reported_and_covers_a_determined_secret():
    rng = np.random.default_rng(3)

    def draw(n):
        level = rng.integers(0, 8, n)
        return pd.DataFrame(
            {
                "level": level.astype(str),  # determines 'years' exactly
                "years": level * 2 + 6,
                "x": rng.normal(size=n),
                "c": rng.choice(list("ab"), n),
            }
        )

    train, holdout, other = draw(600), draw(600), draw(600)
    res = attack_risks(train, other, holdout, n_attacks=600, random_state=0)
    floor = res.scores["inference_risk_high_floor"]
    per = res.details["inference_per_secret"].set_index("secret")["floor"]
    assert per.notna().all()
    assert per["years"] > per["x"]  # a near-1 control rate widens the floor
    headline = res.details["inference"]["secret"]
    assert floor == per[headline]
    # a leak-free release sits below its floor; a copy sits far above it
    assert res.scores["inference_risk_high"] <= floor
    copy = attack_risks(train, train.copy(), holdout, n_attacks=600, random_state=0)
    assert copy.scores["inference_risk_low"] > copy.scores["inference_risk_high_floor"]


def test_a_subset_of_attacks_gives_the_same_numbers(tables, independent):
    train, holdout, other = tables
    only = attack_risks(train, other, holdout, n_attacks=300, attacks=["inference"])
    assert "linkability_risk" not in only.scores
    assert "singling_out_univariate_risk" not in only.scores
    for key in ("inference_risk", "inference_risk_high", "inference_risk_high_floor"):
        assert only.scores[key] == independent.scores[key]
    with pytest.raises(ValueError, match="attacks must name"):
        attack_risks(train, other, holdout, attacks=["membership"])


def test_verdict_does_not_alarm_on_an_inference_bound_within_its_floor(tables):
    train, holdout, other = tables
    report = evaluate(
        train, other, holdout, metrics=["privacy", "attacks"], attack_params={"n_attacks": 300}
    )
    scores = report.results["attacks"].scores
    for key in ("singling_out_univariate", "singling_out_multivariate", "linkability"):
        scores[f"{key}_risk"] = 0.0
    scores.update(inference_risk=0.13, inference_risk_high=0.27, inference_risk_high_floor=0.33)
    line = report.verdict["privacy"]
    assert "within what a release leaking nothing reaches" in line, line
    assert line.startswith("no sign of copying"), line
    scores["inference_risk_high_floor"] = 0.2  # above its floor: a risk of .13 worries
    assert report.verdict["privacy"].startswith("needs attention")
