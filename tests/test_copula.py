"""What the Gaussian copula must get right beyond the common contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.synthesizers._gaussian import conditional_sample, truncated_normal


@pytest.fixture(scope="module")
def adult_model():
    df = tabgen.datasets.load_adult().sample(8000, random_state=0)
    return tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df), df


def test_marginals_and_correlation_recovered():
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=4000)
    df = pd.DataFrame({"a": np.exp(z[:, 0]), "b": z[:, 1] * 10 + 3})
    out = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df).sample(4000, random_state=1)
    assert abs(out["a"].median() - df["a"].median()) < 0.1
    assert abs(out["b"].std() - df["b"].std()) < 0.5
    rho = out.corr(method="spearman").iloc[0, 1]
    assert abs(rho - df.corr(method="spearman").iloc[0, 1]) < 0.05


def test_category_condition_shifts_dependent_columns(adult_model):
    model, _df = adult_model
    rich = model.sample(3000, conditions={"income": ">50K"}, random_state=0)
    poor = model.sample(3000, conditions={"income": "<=50K"}, random_state=0)
    assert (rich["income"] == ">50K").all() and (poor["income"] == "<=50K").all()
    # the conditional shift the data has (older, more schooling) must appear
    assert rich["age"].mean() - poor["age"].mean() > 3
    assert rich["education_num"].mean() - poor["education_num"].mean() > 1


def test_numeric_and_atom_conditions_are_exact(adult_model):
    model, _ = adult_model
    out = model.sample(500, conditions={"capital_gain": 0, "hours_per_week": 60}, random_state=0)
    assert (out["capital_gain"] == 0).all() and (out["hours_per_week"] == 60).all()


def test_missing_rate_and_its_correlation(adult_model):
    model, df = adult_model
    out = model.sample(8000, random_state=2)
    # workclass and occupation are missing together in Adult; the copula keeps that link
    both_real = (df["workclass"].isna() & df["occupation"].isna()).mean()
    both_synth = (out["workclass"].isna() & out["occupation"].isna()).mean()
    assert abs(out["occupation"].isna().mean() - df["occupation"].isna().mean()) < 0.01
    assert both_synth > 0.5 * both_real


def test_truncated_normal_respects_bounds_in_far_tails():
    rng = np.random.default_rng(0)
    x = truncated_normal(rng, 0.0, 1.0, np.full(1000, 6.0), np.full(1000, np.inf))
    assert np.all(x >= 6.0) and np.all(np.isfinite(x)) and x.mean() < 6.5
    y = truncated_normal(rng, 2.0, 0.5, np.full(1000, -np.inf), np.full(1000, -1.0))
    assert np.all(y <= -1.0) and np.all(np.isfinite(y))


def test_conditional_sample_matches_gaussian_conditioning():
    rng = np.random.default_rng(0)
    corr = np.array([[1.0, 0.7], [0.7, 1.0]])
    z = conditional_sample(rng, corr, 20000, {0: np.full(20000, 1.0)}, {0: np.full(20000, 1.0)})
    assert np.all(z[:, 0] == 1.0)
    assert abs(z[:, 1].mean() - 0.7) < 0.02 and abs(z[:, 1].std() - np.sqrt(1 - 0.49)) < 0.02


def test_max_knots_validated():
    with pytest.raises(ValueError, match="max_knots"):
        tabgen.GaussianCopulaSynthesizer(max_knots=1).fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(TypeError, match="random_state"):
        tabgen.GaussianCopulaSynthesizer(random_state="seed").fit(pd.DataFrame({"a": [1.0, 2.0]}))


def test_mixed_type_and_integer_nan_columns_sample_from_the_seen_values():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "m": rng.choice(np.array([1, "a", 2.5, None], dtype=object), 300),
            "k": pd.array(rng.choice([1, 2, 3, None], 300), dtype="Int64"),
        }
    )
    out = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df).sample(500, random_state=0)
    seen = {(type(v), v) for v in df["m"].dropna()}
    assert {(type(v), v) for v in out["m"].dropna()} <= seen
    assert out["k"].dtype == "Int64" and set(out["k"].dropna()) <= {1, 2, 3}
    assert 0.1 < out["m"].isna().mean() < 0.4 and 0.1 < out["k"].isna().mean() < 0.4
