"""SyntheticImputer: fills every kind of cell, conditioned on the row; sklearn transformer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import tabgen
from tabgen.pipelines import SyntheticImputer


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(0)
    x = rng.normal(size=800)
    df = pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(scale=0.2, size=800),
            "g": np.where(x > 0, "pos", "neg"),
            "k": (x * 3).round().astype("int64"),
        }
    )
    holes = df.copy()
    holes.loc[rng.random(800) < 0.3, "y"] = np.nan
    holes.loc[rng.random(800) < 0.3, "g"] = None
    return df, holes


def test_fills_everything_and_beats_mean_imputation(correlated):
    truth, holes = correlated
    out = SyntheticImputer(random_state=0).fit_transform(holes)
    assert out.notna().all().all()
    assert (out.dtypes == holes.dtypes).all()
    observed = holes.notna()
    pd.testing.assert_frame_equal(out.where(observed), holes.where(observed))
    miss_y = holes["y"].isna()
    rmse = np.sqrt(((out.loc[miss_y, "y"] - truth.loc[miss_y, "y"]) ** 2).mean())
    rmse_mean = np.sqrt(((holes["y"].mean() - truth.loc[miss_y, "y"]) ** 2).mean())
    assert rmse < 0.5 * rmse_mean
    miss_g = holes["g"].isna()
    assert (out.loc[miss_g, "g"] == truth.loc[miss_g, "g"]).mean() > 0.85


def test_every_column_kind(mixed_frame):
    holes = mixed_frame.copy()
    rng = np.random.default_rng(1)
    for col in ("num", "int", "cat", "flag", "when", "catdtype"):
        holes[col] = holes[col].mask(rng.random(len(holes)) < 0.2)
    out = SyntheticImputer(random_state=0, n_draws=3).fit_transform(holes)
    for col in ("num", "num_nan", "int", "int_nan", "cat", "cat_nan", "when", "catdtype", "nbool"):
        assert out[col].notna().all(), col
    assert out["all_nan"].isna().all()  # nothing to learn: stays missing
    assert out["catdtype"].dtype == mixed_frame["catdtype"].dtype
    assert set(out["cat"]) <= set(mixed_frame["cat"])


def test_multiple_imputation_gives_different_completions(correlated):
    _, holes = correlated
    imp = SyntheticImputer(random_state=0).fit(holes)
    draws = imp.transform_multiple(holes, m=3, random_state=0)
    assert len(draws) == 3
    miss = holes["y"].isna()
    assert not np.allclose(draws[0].loc[miss, "y"], draws[1].loc[miss, "y"])
    again = imp.transform_multiple(holes, m=3, random_state=0)
    pd.testing.assert_frame_equal(draws[2], again[2])
    observed = holes.notna()
    for d in draws:  # observed cells untouched, categories from the seen levels
        pd.testing.assert_frame_equal(d.where(observed), holes.where(observed))
        assert set(d["g"]) <= {"pos", "neg"}


def test_default_multiple_imputation_intervals_cover_the_hidden_values(correlated):
    """95 % intervals from 40 draws hold about 95 % of the hidden numbers (too narrow an
    interval, e.g. draws at the conditional mean, covers far less)."""
    truth, holes = correlated
    imp = SyntheticImputer(random_state=0).fit(holes)
    draws = imp.transform_multiple(holes, m=40, random_state=1)
    miss = holes["y"].isna().to_numpy()
    stack = np.vstack([d["y"].to_numpy()[miss] for d in draws])
    lo, hi = np.quantile(stack, [0.025, 0.975], axis=0)
    hidden = truth["y"].to_numpy()[miss]
    assert 0.88 <= np.mean((hidden >= lo) & (hidden <= hi)) <= 0.99
    g_miss = holes["g"].isna().to_numpy()  # g is the sign of x: its draws are right
    levels = np.vstack([d["g"].to_numpy()[g_miss] for d in draws])
    assert (levels == truth["g"].to_numpy()[g_miss]).mean() > 0.85


def test_default_beats_mean_filling_on_a_nonlinear_table():
    """Numbers that depend on the others non-linearly, a category that depends on two
    numbers: the default predicts both far better than the mean / mode, on new rows too."""
    rng = np.random.default_rng(3)
    n = 1200
    a, b = rng.normal(size=n), rng.normal(size=n)
    truth = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "c": np.sin(2 * a) + b**2 + rng.normal(scale=0.1, size=n),
            "d": np.where(a * b > 0, "same", "diff"),
        }
    )
    holes = truth.mask(rng.random(truth.shape) < 0.2)
    imp = SyntheticImputer(random_state=0).fit(holes.iloc[:900])
    out = imp.transform(holes.iloc[900:])
    t, h = truth.iloc[900:], holes.iloc[900:]
    both = h["a"].notna() & h["b"].notna()  # the rows that pin c and d down

    def rmse(hit):
        return np.sqrt(((out.loc[hit, "c"] - t.loc[hit, "c"]) ** 2).mean())

    rmse_mean = np.sqrt(((h["c"].mean() - t.loc[h["c"].isna(), "c"]) ** 2).mean())
    assert rmse(h["c"].isna()) < 0.8 * rmse_mean
    assert rmse(h["c"].isna() & both) < 0.4 * rmse_mean
    hit = h["d"].isna() & both
    assert (out.loc[hit, "d"] == t.loc[hit, "d"]).mean() > 0.85  # the mode scores ~0.5


def test_presets_and_their_errors(correlated):
    _, holes = correlated
    fast = SyntheticImputer(preset="fast", random_state=0).fit(holes)
    assert fast.method_ == "generative"
    assert type(fast.synthesizer_).__name__ == "GaussianCopulaSynthesizer"
    assert fast.transform(holes).notna().all().all()
    default = SyntheticImputer(random_state=0).fit(holes)
    assert default.method_ == "chained" and default.synthesizer_ is None
    with pytest.raises(ValueError, match=r"preset must be one of .* got 'best'"):
        SyntheticImputer(preset="best").fit(holes)
    with pytest.raises(ValueError, match="preset or synthesizer, not both"):
        SyntheticImputer(preset="fast", synthesizer=tabgen.GaussianCopulaSynthesizer()).fit(holes)
    accurate = SyntheticImputer(preset="diffusion")  # not fitted here: minutes
    model = accurate._generative_model()
    assert type(model).__name__ == "DiffusionSynthesizer" and model.cond_fraction == 1.0
    assert accurate._draw_count() == 30 and SyntheticImputer(n_draws=4)._draw_count() == 4


def test_cli_impute_uses_the_default_unless_a_model_is_named(tmp_path, correlated, capsys):
    from tabgen.cli import main

    _, holes = correlated
    path = tmp_path / "holes.csv"
    holes.to_csv(path, index=False)
    out = tmp_path / "filled.csv"
    assert main(["impute", str(path), "-o", str(out), "--schema", "k=categorical"]) == 0
    filled = pd.read_csv(out)
    assert filled[["y", "g"]].notna().all().all()
    assert main(["impute", str(path), "-o", str(tmp_path / "e.csv"), "--epochs", "2"]) == 2
    assert "--epochs sets a synthesizer's parameter" in capsys.readouterr().err


def test_schema_override_makes_integer_codes_categories():
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    df = pd.DataFrame({"x": x, "code": np.where(x > 0.5, 3, np.where(x < -0.5, 1, 2))})
    holes = df.copy()
    holes.loc[rng.random(600) < 0.3, "code"] = np.nan
    out = SyntheticImputer(schema={"code": "categorical"}, random_state=0).fit_transform(holes)
    assert set(out["code"]) <= {1.0, 2.0, 3.0}  # levels, never a mean such as 2.4
    hit = holes["code"].isna()
    assert (out.loc[hit, "code"] == df.loc[hit, "code"]).mean() > 0.9


def test_new_rows_indicator_pipeline_and_names(correlated):
    _, holes = correlated
    imp = SyntheticImputer(random_state=0, add_indicator=True).fit(holes.iloc[:600])
    out = imp.transform(holes.iloc[600:])
    assert list(out.columns[-2:]) == ["missingindicator_y", "missingindicator_g"]
    assert out["missingindicator_y"].sum() == holes.iloc[600:]["y"].isna().sum()
    assert list(imp.get_feature_names_out()) == list(out.columns)
    pipe = make_pipeline(
        SyntheticImputer(random_state=0), FunctionTransformer(lambda d: d[["x", "y"]])
    )
    assert pipe.fit_transform(holes).notna().all().all()


def test_errors_and_warnings(correlated):
    _, holes = correlated
    imp = SyntheticImputer(random_state=0).fit(holes)
    with pytest.raises(ValueError, match="unseen: \\['extra'\\]"):
        imp.transform(holes.assign(extra=1))
    with pytest.raises(ValueError, match="absent: \\['g'\\]"):
        imp.transform(holes.drop(columns="g"))
    with pytest.raises(ValueError, match="n_draws"):
        SyntheticImputer(n_draws=0).fit(holes)
    with pytest.raises(ValueError, match="m must be a positive integer, got 0"):
        imp.transform_multiple(holes, m=0)
    with pytest.warns(UserWarning, match="entirely missing"):
        SyntheticImputer(random_state=0).fit(holes.assign(empty=np.nan))
    new = holes.iloc[:5].copy()
    new.loc[new.index[0], "g"] = "unknown"
    new.loc[new.index[0], "y"] = np.nan
    with pytest.warns(UserWarning, match="unseen in fit"):
        out = imp.transform(new)
    assert out["g"].iloc[0] == "unknown" and out["y"].notna().all()


def test_adult_categorical_imputation_uses_the_row():
    df = tabgen.datasets.load_adult().sample(2000, random_state=0).reset_index(drop=True)
    holes = df.copy()
    rng = np.random.default_rng(0)
    hit = rng.random(len(df)) < 0.3
    holes.loc[hit, "education"] = None
    out = SyntheticImputer(random_state=0).fit_transform(holes)
    accuracy = (out.loc[hit, "education"] == df.loc[hit, "education"]).mean()
    majority = (df.loc[hit, "education"] == df["education"].mode()[0]).mean()
    assert accuracy > majority + 0.3  # education-num pins education down


@pytest.mark.parametrize("name", sorted(tabgen.SYNTHESIZERS))
def test_every_registered_synthesizer_can_impute_or_says_why_not(name, correlated):
    _, holes = correlated
    cls = tabgen.SYNTHESIZERS[name]
    if not cls._supports_inpainting:
        with pytest.raises(ValueError, match="cannot condition a row"):
            SyntheticImputer(synthesizer=cls(**cls._test_params())).fit(holes)
        return
    imputer = SyntheticImputer(synthesizer=cls(**cls._test_params()), n_draws=2, random_state=0)
    out = imputer.fit_transform(holes.iloc[:300])
    assert out.notna().all().all()
    pd.testing.assert_frame_equal(
        out.where(holes.iloc[:300].notna()), holes.iloc[:300].where(holes.iloc[:300].notna())
    )
