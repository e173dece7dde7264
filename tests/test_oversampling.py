"""SyntheticOverSampler: imbalanced-learn conventions, exact class conditioning, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import tabgen
from tabgen.pipelines import SyntheticOverSampler, target_counts


@pytest.fixture(scope="module")
def adult_small():
    df = tabgen.datasets.load_adult().sample(3000, random_state=0).reset_index(drop=True)
    return df.drop(columns="income"), df["income"]


@pytest.mark.parametrize(
    ("strategy", "y", "expected"),
    [
        ("auto", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4, "c": 5}),
        ("not majority", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4, "c": 5}),
        ("minority", ["a"] * 6 + ["b"] * 2 + ["c"], {"c": 5}),
        ("not minority", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4}),
        ("all", ["a"] * 6 + ["b"] * 2, {"b": 4}),
        (0.5, [0] * 10 + [1] * 2, {1: 3}),
        ({"b": 5}, ["a"] * 6 + ["b"] * 2, {"b": 3}),
        (lambda y: {"b": 7}, ["a"] * 6 + ["b"] * 2, {"b": 5}),
    ],
)
def test_sampling_strategy_means_what_imblearn_means(strategy, y, expected):
    assert target_counts(strategy, y) == expected


def test_strategy_agrees_with_imbalanced_learn():
    imblearn = pytest.importorskip("imblearn")
    from imblearn.utils import check_sampling_strategy

    y = np.array([0] * 50 + [1] * 20 + [2] * 5)
    for strategy in ("auto", "minority", "not minority", "all", {1: 30, 2: 40}):
        ours = target_counts(strategy, y)
        theirs = check_sampling_strategy(strategy, y, "over-sampling")
        assert ours == {k: v for k, v in theirs.items() if v > 0}, (strategy, imblearn.__version__)


@pytest.mark.parametrize(
    ("strategy", "pattern"),
    [
        ({"b": 1}, "shrink class 'b'"),
        ({"z": 10}, "absent from the target"),
        (0.1, "cannot shrink"),
        ("most", "must be one of"),
        ([1, 2], "must be a float, str, dict or callable"),
    ],
)
def test_bad_strategies_raise(strategy, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        target_counts(strategy, ["a"] * 6 + ["b"] * 2)


def test_float_strategy_needs_binary_target():
    with pytest.raises(ValueError, match="binary"):
        target_counts(0.5, ["a"] * 6 + ["b"] * 2 + ["c"])


def test_fit_resample_balances_with_exact_labels(adult_small):
    X, y = adult_small
    sampler = SyntheticOverSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    counts = y_res.value_counts()
    assert counts[">50K"] == counts["<=50K"] == (y == "<=50K").sum()
    assert list(X_res.columns) == list(X.columns) and (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)  # originals first, untouched
    assert sampler.synthetic_mask_.sum() == len(X_res) - len(X)
    synth = X_res[sampler.synthetic_mask_]
    # the synthetic minority looks like the real minority, not like the majority
    rich_real = X.loc[y == ">50K", "age"].mean()
    poor_real = X.loc[y == "<=50K", "age"].mean()
    assert abs(synth["age"].mean() - rich_real) < abs(synth["age"].mean() - poor_real)
    assert y_res.name == "income"


def test_numpy_input_multiclass_and_determinism():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.array([0] * 200 + [1] * 70 + [2] * 30)
    X[y == 2, 0] += 4
    a = SyntheticOverSampler(random_state=1).fit_resample(X, y)
    b = SyntheticOverSampler(random_state=1).fit_resample(X, y)
    assert isinstance(a[0], np.ndarray) and a[0].shape == (600, 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.bincount(a[1]).tolist() == [200, 200, 200]
    # class 2 sits 4 units to the right; the default copula moves its synthetic rows the same
    # way but blurs the gap (measured: mean 1.6 against 4.0 real, 0.0 for the other classes)
    synth_x, synth_y = a[0][300:, 0], a[1][300:]
    assert synth_x[synth_y == 2].mean() > 1.0
    assert synth_x[synth_y == 2].mean() > synth_x[synth_y == 1].mean() + 0.8


def test_errors(adult_small):
    X, y = adult_small
    with pytest.raises(ValueError, match="missing labels"):
        SyntheticOverSampler().fit_resample(X, y.where(y.index != 5))
    with pytest.raises(ValueError, match="labels but X has"):
        SyntheticOverSampler().fit_resample(X, y[:10])
    tiny = pd.Series(["a"] * 20 + ["b"])
    with pytest.raises(ValueError, match="fewer than min_class_rows"):
        SyntheticOverSampler().fit_resample(pd.DataFrame({"x": range(21)}), tiny)
    with pytest.raises(TypeError, match="tabgen synthesizer"):
        SyntheticOverSampler(synthesizer="copula").fit_resample(X, y)


def test_works_in_an_imblearn_pipeline_without_leaking_into_validation():
    pytest.importorskip("imblearn")
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + rng.normal(scale=0.5, size=400) > 1.3).astype(int)
    pipe = Pipeline([("over", SyntheticOverSampler(random_state=0)), ("clf", LogisticRegression())])
    scores = cross_val_score(pipe, X, y, cv=3, scoring="roc_auc")
    assert scores.mean() > 0.8
    assert clone(pipe).get_params()["over__sampling_strategy"] == "auto"
