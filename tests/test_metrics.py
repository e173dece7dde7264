"""Tests of tabgen.metrics: hand-computed values, degenerate cases, report rendering."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from tabgen.metrics import (
    HEADLINE_KEYS,
    Report,
    alpha_precision_beta_recall,
    column_pair_trends,
    column_shapes,
    contingency_similarity,
    correlation_similarity,
    detection,
    evaluate,
    exact_copy_rate,
    fidelity,
    infer_task,
    ks_complement,
    precision_recall,
    privacy,
    tv_complement,
    utility,
)

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _one_thread():
    """Small models on a shared machine: OpenMP threads only add contention (results are
    the same with any thread count)."""
    with threadpool_limits(limits=1):
        yield


def _correlated(n: int, seed: int) -> pd.DataFrame:
    """Two strongly correlated numbers and a category driven by the first one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.9 * x + 0.3 * rng.normal(size=n)
    c = np.where(x + 0.3 * rng.normal(size=n) > 0, "hi", "lo")
    return pd.DataFrame({"x": x, "y": y, "c": c})


def _mixed(n: int, seed: int) -> pd.DataFrame:
    """Numbers, categories, bool, datetimes, nullable ints, category dtype, missing values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "num": x,
            "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "cat": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "text": rng.choice(["u", "v"], n).astype(object),
            "flag": rng.random(n) > 0.5,
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), "D"),
            "label": np.where(x + rng.normal(size=n) > 0, "yes", "no"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "num"] = np.nan
    frame.loc[rng.random(n) < 0.1, "text"] = None
    frame.loc[rng.random(n) < 0.1, "when"] = pd.NaT
    frame.loc[rng.random(n) < 0.1, "count"] = pd.NA
    return frame


# --------------------------------------------------------------------------- fidelity: by hand
def test_ks_complement_by_hand():
    # ECDFs of [1,2,3] and [1,2,4] differ by 1/3 on [3, 4): D = 1/3.
    assert ks_complement([1, 2, 3], [1, 2, 4]) == pytest.approx(2 / 3)
    assert ks_complement([1, 2, 3], [10, 20, 30]) == pytest.approx(0.0)
    # Missing values are dropped before the test.
    assert ks_complement([1.0, 2.0, np.nan], [1.0, 2.0]) == pytest.approx(1.0)


def test_ks_complement_datetimes():
    real = pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]))
    synth = pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-04"]))
    assert ks_complement(real, synth) == pytest.approx(2 / 3)


def test_tv_complement_by_hand():
    # p = (a .5, b .5, c 0), q = (a .25, b .5, c .25): TV = ½(.25 + 0 + .25) = .25.
    real = ["a", "a", "b", "b"]
    synth = ["a", "b", "b", "c"]
    assert tv_complement(real, synth) == pytest.approx(0.75)
    # Missing values are ignored in the shape score.
    assert tv_complement(["a", "b", None], ["a", "b"]) == pytest.approx(1.0)


def test_correlation_similarity_by_hand():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0]})  # ρ = 1
    # Centred x = (-1.5, -.5, .5, 1.5), centred y = (-1.5, .5, -.5, 1.5):
    # Σxy = 2.25 - .25 - .25 + 2.25 = 4, Σx² = Σy² = 5 → ρ = .8.
    synth = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 3.0, 2.0, 4.0]})
    assert correlation_similarity(real, synth) == pytest.approx(1 - 0.2 / 2)
    constant = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0, 4.0]})
    assert np.isnan(correlation_similarity(real, constant))


def test_contingency_similarity_by_hand():
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    synth = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": ["u", "u", "v", "v"]})
    # Real cells: xu xv yu yv = .25 each. Synthetic: xu .5, xv .25, yv .25.
    # Σ|diff| = .25 + 0 + .25 + 0 = .5 → score 1 - .25.
    assert contingency_similarity(real, synth) == pytest.approx(0.75)
    # A missing value is a level of its own.
    with_nan = pd.DataFrame({"a": ["x", "x", "y", None], "b": ["u", "v", "u", "v"]})
    assert contingency_similarity(real, with_nan) == pytest.approx(0.75)


def test_contingency_binning_each_vs_real():
    # Synthetic numbers are the real ones shifted by +100: binned on their own range (SDMetrics)
    # the joint table is identical; binned on the real range everything falls off the end.
    real = pd.DataFrame({"n": np.arange(20.0), "c": ["a"] * 10 + ["b"] * 10})
    synth = real.assign(n=real["n"] + 100)
    each = contingency_similarity(real, synth, continuous=["n"])
    on_real = contingency_similarity(real, synth, continuous=["n"], bin_edges="real")
    assert each == pytest.approx(1.0)
    assert on_real < 0.2


def test_column_shapes_reports_missing_rates_separately():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    synth = pd.DataFrame({"x": [1.0, 2.0, np.nan, np.nan], "c": ["a", "b", "a", "b"]})
    shapes = column_shapes(real, synth).set_index("column")
    assert shapes.loc["x", "metric"] == "KSComplement"
    assert shapes.loc["c", "metric"] == "TVComplement"
    # Non-missing [1,2] vs [1,2,3,4]: D = .5.
    assert shapes.loc["x", "score"] == pytest.approx(0.5)
    assert shapes.loc["x", "missing_similarity"] == pytest.approx(0.5)
    assert shapes.loc["c", "missing_similarity"] == pytest.approx(1.0)


def test_pair_trends_kinds_and_thresholds():
    real = _correlated(300, 0).assign(noise=np.random.default_rng(1).normal(size=300))
    trends = column_pair_trends(real, real).set_index(["column_1", "column_2"])
    assert trends.loc[("x", "y"), "metric"] == "CorrelationSimilarity"
    assert trends.loc[("x", "c"), "metric"] == "ContingencySimilarity"
    assert trends["score"].tolist() == pytest.approx([1.0] * len(trends))
    # With SDMetrics' newer thresholds only strongly related pairs contribute.
    gated = column_pair_trends(real, real, real_correlation_threshold=0.5)
    contributing = set(zip(gated.loc[gated["contributes"], "column_1"], gated["column_2"]))
    assert ("x", "y") in contributing
    assert ("x", "noise") not in contributing


# --------------------------------------------------------------------------- fidelity: cases
def test_identical_tables_score_one():
    real = _mixed(200, 0)
    result = fidelity(real, real.copy())
    assert result.scores["shape"] == pytest.approx(1.0)
    assert result.scores["trend"] == pytest.approx(1.0)
    assert result.scores["missing_similarity"] == pytest.approx(1.0)


def test_shuffled_columns_keep_shapes_but_lose_trends():
    real = _correlated(2000, 0)
    rng = np.random.default_rng(1)
    shuffled = pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns})
    result = fidelity(real, shuffled)
    assert result.scores["shape"] == pytest.approx(1.0)
    assert result.scores["trend"] < 0.8
    pairs = result.details["column_pair_trends"].set_index(["column_1", "column_2"])
    # ρ_real ≈ 0.95, ρ_shuffled ≈ 0 → score ≈ 1 - 0.95/2.
    assert pairs.loc[("x", "y"), "score"] == pytest.approx(0.525, abs=0.03)


def test_fidelity_column_order_and_metadata():
    real = _correlated(100, 0)
    reordered = real[["c", "y", "x"]]
    assert fidelity(real, reordered).scores["trend"] == pytest.approx(1.0)
    shapes = column_shapes(real, real, metadata={"x": "categorical"}).set_index("column")
    assert shapes.loc["x", "metric"] == "TVComplement"
    # An id column is left out of every metric (as in SDMetrics); SDV-style metadata works.
    with_id = real.assign(row_id=np.arange(100))
    synth = with_id.assign(row_id=np.arange(100) + 1000)
    meta = {"columns": {"row_id": {"sdtype": "id"}}}
    assert "row_id" not in set(column_shapes(with_id, synth, metadata=meta)["column"])
    assert exact_copy_rate(with_id, synth, metadata=meta) == 1.0


# --------------------------------------------------------------------------- detection
def test_detection_same_distribution_near_half():
    real = _correlated(600, 0)
    other = _correlated(600, 1)
    scores = detection(real, other, random_state=0).scores
    assert abs(scores["detection_lr_auc"] - 0.5) < 0.08
    assert abs(scores["detection_gb_auc"] - 0.5) < 0.1
    assert scores["detection_score_lr"] > 0.8


def test_detection_shifted_table_is_detected():
    real = _correlated(600, 0)
    shifted = _correlated(600, 1).assign(x=lambda d: d["x"] + 4.0)
    scores = detection(real, shifted, random_state=0).scores
    assert scores["detection_lr_auc"] > 0.97
    assert scores["detection_gb_auc"] > 0.97
    assert scores["detection_score_lr"] < 0.06
    assert scores["detection_score_gb"] < 0.06


def test_detection_is_seeded():
    real, other = _correlated(300, 0), _correlated(300, 1)
    a = detection(real, other, random_state=3).scores
    b = detection(real, other, random_state=3).scores
    assert a == b


# --------------------------------------------------------------------------- precision/recall
def test_alpha_precision_beta_recall_extremes():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 3))
    same = rng.normal(size=(400, 3))
    far = rng.normal(size=(400, 3)) + 10.0
    good = alpha_precision_beta_recall(real, same)
    bad = alpha_precision_beta_recall(real, far)
    assert good["alpha_precision"] > 0.9
    assert good["beta_recall"] > 0.3
    assert bad["alpha_precision"] < 0.1
    assert bad["beta_recall"] < 0.1
    with pytest.raises(ValueError, match="same shape"):
        alpha_precision_beta_recall(real, far[:10])


def test_precision_recall_on_frames_subsamples_to_equal_size():
    real = _mixed(300, 0)
    result = precision_recall(real, _mixed(200, 1), max_rows=150)
    assert result.details["rows"] == 150
    assert 0.5 < result.scores["alpha_precision"] <= 1.0


# --------------------------------------------------------------------------- utility
def test_infer_task():
    assert infer_task(pd.Series(["a", "b", "a"])) == "binary"
    assert infer_task(pd.Series([True, False])) == "binary"
    assert infer_task(pd.Series([0, 1, 2, 3, 1])) == "multiclass"
    assert infer_task(pd.Series(np.arange(100))) == "regression"
    assert infer_task(pd.Series([0.5, 1.5, 2.0])) == "regression"


def test_utility_binary_and_real_baseline():
    frame = _correlated(800, 0)
    train, test = frame[:400], frame[400:]
    result = utility(train, train, test, "c", random_state=0)
    assert result.details["metric"] == "roc_auc"
    assert result.scores["utility_synthetic"] == pytest.approx(result.scores["utility_real"])
    assert result.scores["utility_real"] > 0.8
    noise = train.assign(c=np.random.default_rng(0).permutation(train["c"].to_numpy()))
    assert utility(train, noise, test, "c").scores["utility_synthetic"] < 0.65


def test_utility_regression_reports_r2_and_rmse():
    frame = _correlated(800, 0)
    result = utility(frame[:400], frame[:400], frame[400:], "y")
    assert result.details["task"] == "regression"
    assert result.scores["utility_synthetic"] > 0.7
    assert result.details["synthetic"]["rmse"] > 0


def test_utility_synthetic_missing_a_class():
    frame = _correlated(600, 0)
    train, test = frame[:300], frame[300:]
    one_class = train.assign(c="hi")
    result = utility(train, one_class, test, "c")
    assert np.isnan(result.scores["utility_synthetic"])
    assert "single class" in result.notes["synthetic_roc_auc"]
    # Multiclass with a class absent from the synthetic table: computed with 0 probability.
    rng = np.random.default_rng(0)
    multi = frame.assign(c=rng.choice(["p", "q", "r"], len(frame)))
    no_r = multi[:300][multi[:300]["c"] != "r"]
    result = utility(multi[:300], no_r, multi[300:], "c")
    assert result.details["task"] == "multiclass"
    assert np.isfinite(result.scores["utility_synthetic"])
    assert "lacks 1 of the 3 classes" in result.notes["synthetic_classes"]


# --------------------------------------------------------------------------- privacy: by hand
def test_dcr_share_and_nndr_by_hand():
    # One column, min-max scaled on train range 10: train .0 .5 1., holdout .1 .6 .9,
    # synthetic .05 .4 .95.
    train = pd.DataFrame({"x": [0.0, 5.0, 10.0]})
    holdout = pd.DataFrame({"x": [1.0, 6.0, 9.0]})
    synth = pd.DataFrame({"x": [0.5, 4.0, 9.5]})
    result = privacy(train, synth, holdout)
    # d_train = .05 .1 .05, d_holdout = .05 .2 .05: tie, closer to train, tie → (.5+1+.5)/3.
    assert result.scores["dcr_share"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(result.arrays["dcr_train"], [0.05, 0.1, 0.05])
    np.testing.assert_allclose(result.arrays["dcr_holdout"], [0.05, 0.2, 0.05])
    # NNDR against train: .05/.45, .1/.4, .05/.45 → median 1/9.
    assert result.scores["nndr"] == pytest.approx(1 / 9)
    assert result.scores["exact_copy_rate"] == 0.0


def test_exact_copy_rate_by_hand():
    real = pd.DataFrame({"x": [1, 2, 3], "c": ["a", "b", None]})
    synth = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "z", np.nan]})
    # Row 0 equal (1 == 1.0), row 1 differs, row 2 equal (missing matches missing).
    assert exact_copy_rate(real, synth) == pytest.approx(2 / 3)
    # Column order does not matter; category dtype vs object does not matter.
    synth2 = synth[["c", "x"]].assign(c=lambda d: d["c"].astype("category"))
    assert exact_copy_rate(real, synth2) == pytest.approx(2 / 3)


def test_copy_of_training_set_is_flagged():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(list("pqr"), 300)})
    holdout = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(list("pqr"), 300)})
    scores = privacy(train, train.sample(frac=1.0, random_state=0), holdout).scores
    assert scores["dcr_share"] == pytest.approx(1.0)
    assert scores["exact_copy_rate"] == pytest.approx(1.0)
    assert scores["exact_copy_rate_holdout"] == pytest.approx(0.0)
    assert scores["mia_auc"] > 0.95
    assert scores["nndr"] == pytest.approx(0.0)


def test_independent_sample_has_dcr_share_near_half():
    def draw(n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])

    scores = privacy(draw(1000, 0), draw(2000, 1), draw(1000, 2)).scores
    # 2000 synthetic rows: the binomial s.d. of the share is ≈ sqrt(.25/2000) ≈ .011; the two
    # reference samples add about as much again, so .06 is > 3 s.d.
    assert scores["dcr_share"] == pytest.approx(0.5, abs=0.06)
    assert scores["mia_auc"] == pytest.approx(0.5, abs=0.06)
    assert scores["exact_copy_rate"] == 0.0


def test_privacy_without_holdout_explains_nans():
    real = _correlated(100, 0)
    result = privacy(real, _correlated(100, 1))
    assert np.isnan(result.scores["dcr_share"])
    assert np.isnan(result.scores["mia_auc"])
    assert "holdout" in result.notes["dcr_share"]
    assert np.isfinite(result.scores["nndr"])


# --------------------------------------------------------------------------- evaluate / Report
def test_evaluate_with_missing_values_datetimes_and_json_roundtrip():
    real, synth, holdout = _mixed(300, 0), _mixed(300, 1), _mixed(200, 2)
    originals = [f.copy() for f in (real, synth, holdout)]
    report = evaluate(real, synth, holdout, target="label", random_state=0)
    for before, after in zip(originals, (real, synth, holdout)):
        pd.testing.assert_frame_equal(before, after)  # inputs untouched
    assert report.kinds["when"] == "datetime"
    assert report.kinds["flag"] == "categorical"
    assert report.kinds["count"] == "numerical"
    scores = report.scores
    assert set(HEADLINE_KEYS) <= set(scores)
    assert all(np.isfinite(scores[k]) for k in HEADLINE_KEYS), scores
    loaded = json.loads(report.to_json())
    assert set(HEADLINE_KEYS) | {"time_s"} <= set(loaded["scores"])
    assert loaded["scores"]["shape"] == pytest.approx(scores["shape"])
    assert isinstance(loaded["details"]["fidelity"]["column_shapes"], list)
    assert "shape=" in repr(report)


def test_evaluate_all_missing_and_constant_columns():
    real, synth, holdout = (
        _correlated(120, s).assign(empty=None, const="k", nothing=np.nan) for s in range(3)
    )
    report = evaluate(real, synth, holdout, target="c", schema={"empty": "categorical"})
    shapes = report.details["fidelity"]["column_shapes"].set_index("column")
    assert np.isnan(shapes.loc["empty", "score"])  # nothing to compare: left out of the mean
    assert shapes.loc["empty", "missing_similarity"] == 1.0
    assert all(np.isfinite(report.scores[k]) for k in HEADLINE_KEYS), report.scores


def test_evaluate_skips_with_reasons_and_json_nulls(tmp_path):
    real = _correlated(60, 0)
    report = evaluate(real, _correlated(60, 1), metrics=["fidelity", "utility", "privacy"])
    assert "target" in report.skipped["utility"]
    path = tmp_path / "r.json"
    text = report.to_json(path)
    assert path.read_text() == text
    loaded = json.loads(text)
    assert loaded["scores"]["detection_lr_auc"] is None  # NaN → null
    assert loaded["scores"]["dcr_share"] is None
    report = evaluate(real, real, target="c", metrics="utility")
    assert "holdout" in report.skipped["utility"]


def test_evaluate_is_reproducible():
    real, synth, holdout = _correlated(200, 0), _correlated(200, 1), _correlated(200, 2)
    a = evaluate(real, synth, holdout, target="c", random_state=5).scores
    b = evaluate(real, synth, holdout, target="c", random_state=5).scores
    a.pop("time_s"), b.pop("time_s")
    assert a == b


def test_evaluate_validates_inputs():
    real = _correlated(50, 0)
    with pytest.raises(ValueError, match="'y'"):
        evaluate(real, real.drop(columns="y"))
    with pytest.raises(ValueError, match="'extra'"):
        evaluate(real, real.assign(extra=1))
    with pytest.raises(ValueError, match="'nope'"):
        evaluate(real, real, target="nope")
    with pytest.raises(ValueError, match="holdout"):
        evaluate(real, real, real.rename(columns={"x": "z"}))
    with pytest.raises(ValueError, match="unknown kind"):
        evaluate(real, real, schema={"x": "weird"})
    with pytest.raises(ValueError, match="metrics"):
        evaluate(real, real, metrics=["fidelity", "bogus"])
    with pytest.raises(TypeError):
        evaluate(real, real.to_numpy())
    with pytest.raises(ValueError, match="n_jobs"):
        evaluate(real, real, n_jobs=0)
    assert evaluate(real, real, metrics="fidelity", n_jobs=1).scores["shape"] == 1.0


def test_to_html_is_self_contained_and_escaped(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    real = pd.DataFrame(
        {
            "<b>price</b>": rng.normal(size=n),
            "cost & $fee$": rng.normal(size=n),
            "kind": rng.choice(["<script>x</script>", "plain"], n),
            "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D"),
        }
    )
    real.loc[:10, "<b>price</b>"] = np.nan
    synth = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    holdout = real.assign(**{"<b>price</b>": rng.normal(size=n)})
    report = evaluate(real, synth, holdout, metrics=["fidelity", "privacy"])
    path = report.to_html(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") >= 5  # distributions, 3 heatmaps, DCR histogram
    assert "<img" not in html  # figures are inline SVG, nothing fetched
    assert "&lt;b&gt;price&lt;/b&gt;" in html
    assert "cost &amp; $fee$" in html
    assert "<b>price</b>" not in html
    assert "<script>" not in html


def test_report_from_results_renders_without_frames(tmp_path):
    real = _correlated(50, 0)
    result = fidelity(real, real)
    report = Report({"fidelity": result})
    assert report.scores["shape"] == 1.0
    html = report.to_html(tmp_path / "r.html").read_text()
    assert "plots omitted" in html


# --------------------------------------------------------------------------- real data
def test_adult_bootstrap_end_to_end():
    path = DATA_DIR / "adult_train.csv.gz"
    if not path.exists():
        pytest.skip(f"shared dataset not found at {path}")
    real = pd.read_csv(path).iloc[:3000]
    rng = np.random.default_rng(0)
    independent = pd.DataFrame(
        {c: real[c].to_numpy()[rng.integers(0, len(real), len(real))] for c in real.columns}
    )
    result = fidelity(real, independent)
    assert result.scores["shape"] > 0.97
    assert result.scores["trend"] < 0.97  # dependencies destroyed
    report = evaluate(
        real[:2000], independent[:2000], real[2000:], "income", metrics=["detection", "utility"]
    )
    assert report.scores["detection_gb_auc"] > 0.8  # independent columns are detectable
    assert report.scores["utility_real"] > report.scores["utility_synthetic"]
