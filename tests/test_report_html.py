"""The HTML report: verdict, SVG figures readable for wide tables, notebook display, privacy."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from tabgen.metrics import Report, evaluate, fidelity
from tabgen.metrics._figures import association_matrices, needs_log_scale


def _wide(n: int = 150, n_cols: int = 50, seed: int = 0) -> pd.DataFrame:
    """50 columns: numbers, a mostly-zero column, categories."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    data = {}
    for i in range(n_cols):
        if i % 3 == 0:
            data[f"num_{i}"] = base + rng.normal(scale=0.5, size=n)
        elif i % 3 == 1:
            data[f"cat_{i}"] = np.where(base + rng.normal(size=n) > 0, "hi", "lo")
        else:
            data[f"gain_{i}"] = np.where(rng.random(n) < 0.85, 0.0, rng.pareto(1.0, n) * 1000)
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def wide_report():
    real, synth = _wide(seed=0), _wide(seed=1)
    return evaluate(real, synth, metrics=["fidelity"])


def test_fifty_column_report_draws_every_column_as_svg_with_labels(wide_report):
    html = wide_report.to_html(max_columns=50)
    assert isinstance(html, str) and html.startswith("<!DOCTYPE html>")
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    # 50 panels in pages of 12 -> 5 distribution figures, plus 3 heatmaps.
    assert len(svgs) == 5 + 3
    text = " ".join(svgs)
    for column in wide_report.kinds:
        assert f">{column}" in text, column  # every column is labelled as SVG text
    assert "log scales" in text  # the mostly-zero columns
    assert "1 − trend score" in text
    # Inline SVGs do not share element ids (clip paths would otherwise clash).
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_max_columns_limits_the_panels_to_the_worst_columns(wide_report):
    html = wide_report.to_html(max_columns=6)
    assert "6 of 50 columns shown" in html
    shapes = wide_report.results["fidelity"].details["column_shapes"]
    worst = shapes.sort_values("score", kind="stable")["column"]
    figures = html.split("<h2>Distributions")[1].split("<h2>")[0]
    assert f">{worst.iloc[0]}" in figures
    assert f">{worst.iloc[-1]} " not in figures
    with pytest.raises(ValueError, match="max_columns"):
        wide_report.to_html(max_columns=0)


def test_to_html_returns_a_string_and_writes_with_the_overwrite_policy(tmp_path):
    real = pd.DataFrame({"x": np.arange(40.0), "c": list("ab") * 20})
    report = evaluate(real, real, metrics=["fidelity"])
    page = report.to_html()
    path = report.to_html(tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    assert path.read_text(encoding="utf-8") == page
    with pytest.raises(FileExistsError):
        report.to_html(path)
    assert report.to_html(path, overwrite=True) == path


def test_repr_html_is_a_fragment_with_the_verdict():
    real = pd.DataFrame({"x": np.arange(40.0), "c": list("ab") * 20})
    report = evaluate(real, real, metrics=["fidelity"])
    fragment = report._repr_html_()
    assert fragment.startswith("<div class='tabgen-report'>")
    assert "<html" not in fragment and "<svg" in fragment
    assert "Verdict" in fragment and "shape 1.00" in fragment


def test_verdict_names_the_stronger_detector_and_explains_the_weaker():
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.1, size=n)})
    # Same marginals, dependence destroyed: a linear detector cannot see it, trees can.
    synth = pd.DataFrame({"x": rng.permutation(real["x"]), "y": rng.permutation(real["y"])})
    holdout = pd.DataFrame({"x": rng.normal(size=n)}).assign(y=lambda d: d.x)
    report = evaluate(real, synth, holdout, metrics=["fidelity", "detection", "privacy"], n_jobs=1)
    lines = report.verdict
    assert set(lines) == {"fidelity", "detection", "privacy"}
    scores = report.scores
    assert scores["detection_gb_auc"] > scores["detection_lr_auc"] + 0.05
    assert "Headline: gradient boosting" in lines["detection"]
    assert "logistic regression reaches only" in lines["detection"]
    assert lines["fidelity"].startswith("poor")  # trend broken, though shapes match
    assert "not a guarantee" in lines["privacy"]
    report._frames = {}  # the verdict table, without drawing the figures
    verdict = report.to_html().split("<h2>Verdict</h2>")[1].split("</table>")[0]
    for group in ("fidelity", "detection", "privacy"):
        assert f"<td>{group}</td>" in verdict


def test_verdict_says_what_was_not_measured():
    real = pd.DataFrame({"x": np.arange(40.0), "c": list("ab") * 20})
    report = evaluate(real, real, metrics=["fidelity", "utility"])
    assert report.verdict["utility"].startswith("not measured: no target column")


def test_privacy_only_report_is_titled_and_organised_as_one():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=80), "c": rng.choice(list("abc"), 80)})
    holdout = pd.DataFrame({"x": rng.normal(size=80), "c": rng.choice(list("abc"), 80)})
    report = evaluate(train, train.copy(), holdout, metrics=["privacy"])
    # A score and a detail another privacy measure might add show up without code changes.
    report.results["privacy"].scores["new_attack_auc"] = 0.75
    report.results["privacy"].details["new_attack"] = {"shadow_models": 4}
    html = report.to_html()
    assert "<title>tabgen privacy report</title>" in html
    assert html.index("Privacy scores") < html.index("What the synthetic data keep")
    assert "new_attack_auc" in html and "shadow_models: 4" in html
    assert "needs attention" in report.verdict["privacy"]  # every row is a copy


def test_evaluation_report_keeps_its_title_without_frames():
    real = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40.0) % 7})
    report = Report({"fidelity": fidelity(real, real)})
    html = report.to_html()
    assert "<title>tabgen evaluation report</title>" in html
    assert "plots omitted" in html


def test_association_matrix_matches_the_trend_measures():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    real = pd.DataFrame(
        {"x": x, "y": 2 * x + 1, "c": np.where(x > 0, "pos", "neg"), "d": rng.choice(list("ab"), n)}
    )
    kinds = {"x": "numerical", "y": "numerical", "c": "categorical", "d": "categorical"}
    r, s = association_matrices(real, real, kinds, list(kinds))
    assert r.loc["x", "y"] == pytest.approx(1.0)  # Pearson on number pairs
    assert r.loc["c", "x"] > 0.8  # Cramér's V, x binned: c is a function of x
    assert r.loc["c", "d"] < 0.15  # independent categories
    assert np.allclose(r.to_numpy(), s.to_numpy())


def test_log_scale_for_mostly_zero_and_heavy_tailed_columns():
    assert needs_log_scale(np.r_[np.zeros(90), np.arange(1.0, 11.0) * 1000])
    assert needs_log_scale(np.r_[np.ones(50), 1e5])
    assert not needs_log_scale(np.random.default_rng(0).normal(size=100))
    assert not needs_log_scale(np.zeros(10))


def test_cli_evaluate_prints_the_verdict(tmp_path, capsys):
    from tabgen.cli import main

    real = pd.DataFrame({"x": np.arange(60.0), "c": list("abc") * 20})
    real.to_csv(tmp_path / "real.csv", index=False)
    argv = ["evaluate", str(tmp_path / "real.csv"), str(tmp_path / "real.csv"), "-q"]
    with threadpool_limits(limits=1):  # gradient boosting on a busy machine
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fidelity: good: single-column distributions match at shape 1.00" in out
