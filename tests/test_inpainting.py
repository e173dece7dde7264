"""The one inpainting path (``BaseSynthesizer.inpaint``): every model with
``capabilities.inpainting`` fills missing cells given the observed ones, through the same
conditional sampling as ``sample(conditions=...)``, rules and post-processors included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.constraints import Inequality
from tabgen.synthesizers.inpainting import fill_holes


def _table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    level = np.where(x > 0, "up", "down")
    return pd.DataFrame(
        {
            "x": x,
            "y": 3 * x + rng.normal(0, 0.1, n),
            "level": level,
            "code": np.where(level == "up", 1, 2),  # a function of level
            "z": x + 10 + np.abs(rng.normal(0, 1, n)),  # z > x + 10 always
        }
    )


SMALL = {
    "copula": {},
    "vae": {"epochs": 30, "batch_size": 64, "hidden": 32, "latent_dim": 8, "n_layers": 1},
    "diffusion": {"epochs": 40, "batch_size": 64, "hidden": 64, "n_layers": 2, "n_steps": 8},
}


@pytest.fixture(scope="module", params=sorted(SMALL))
def fitted(request):
    df = _table()
    cls = tabgen.get_synthesizer(request.param)
    return cls(**SMALL[request.param], random_state=0).fit(df), df


def test_every_inpainting_model_keeps_observed_cells_and_fills_the_holes(fitted):
    model, df = fitted
    X = df.head(40).copy()
    rng = np.random.default_rng(1)
    for col in ("x", "y", "level"):
        X.loc[rng.random(len(X)) < 0.3, col] = None
    before = X.copy(deep=True)
    out = model.inpaint(X, random_state=0)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert out.index.equals(X.index) and list(out.columns) == list(X.columns)
    assert not out.isna().any().any()
    observed = X.notna()
    for col in X.columns:
        pd.testing.assert_series_equal(
            out.loc[observed[col], col], X.loc[observed[col], col], check_dtype=False
        )
    assert set(out["level"]) <= {"up", "down"}
    # observed cells condition the row: y follows x where only y was missing (checked on
    # the copula, which learns this linear relation from 300 rows; the tiny networks do not)
    only_y = X["y"].isna() & X["x"].notna()
    if isinstance(model, tabgen.GaussianCopulaSynthesizer):
        assert only_y.sum() >= 5
        err = (out.loc[only_y, "y"] - 3 * X.loc[only_y, "x"]).abs()
        assert float(err.median()) < 0.5


def test_same_seed_same_draws_and_n_draws_differ(fitted):
    model, df = fitted
    X = df.head(25).copy()
    X["x"] = np.nan
    a = model.inpaint(X, n_draws=2, random_state=3)
    b = model.inpaint(X, n_draws=2, random_state=3)
    assert isinstance(a, list) and len(a) == 2
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[0]["x"].equals(a[1]["x"])


def test_post_processors_apply_to_inpainted_cells():
    """Diffusion keeps category dependencies by default: an inpainted ``code`` follows the
    observed ``level`` as in sampled rows (the old diffusion-only path skipped them)."""
    df = _table()
    model = tabgen.DiffusionSynthesizer(**SMALL["diffusion"], random_state=0).fit(df)
    assert [d[0] for d in model.dependencies_] == ["code"]
    X = df.head(60).copy()
    X["code"] = np.nan
    out = model.inpaint(X, random_state=0)
    expected = np.where(X["level"] == "up", 1, 2)
    np.testing.assert_array_equal(out["code"].to_numpy(), expected)


def test_completions_never_go_through_the_candidate_selection(monkeypatch):
    """Rows being completed (``fill_missing``) are the model's own draws, for every model
    with a discriminator selection: the selection is asked for whole rows only."""
    df = _table()
    model = tabgen.VAESynthesizer(**SMALL["vae"], postprocess=["selection"], random_state=0).fit(df)
    selection = model._postprocessor("discriminator")
    assert selection is not None
    calls = []
    original = type(selection).draw
    monkeypatch.setattr(
        type(selection),
        "draw",
        lambda self, *a, **k: calls.append(1) or original(self, *a, **k),
    )
    model.sample(50, random_state=0)
    assert calls  # whole rows are selected
    calls.clear()
    X = df.head(40).copy()
    X.loc[::2, "x"] = np.nan
    X.loc[1::2, "level"] = None
    out = model.inpaint(X, random_state=0)
    assert out.notna().all().all() and not calls


def test_rules_hold_on_inpainted_rows():
    df = _table()
    model = tabgen.GaussianCopulaSynthesizer(
        constraints=[Inequality("x", "<", "z")], random_state=0
    ).fit(df)
    X = df.head(50).copy()
    X.loc[::2, "z"] = np.nan
    X.loc[1::2, "y"] = np.nan
    out = model.inpaint(X, random_state=0)
    assert not out[["y", "z"]].isna().any().any()
    assert (out["z"] > out["x"]).all()


def test_unseen_category_warns_and_leaves_the_row_free():
    df = _table()
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
    X = df.head(5).copy()
    X.loc[0, "level"] = "sideways"
    X.loc[:, "x"] = np.nan
    with pytest.warns(UserWarning, match="'level' holds categories unseen"):
        out = model.inpaint(X, random_state=0)
    assert out.loc[0, "level"] == "sideways" and out["x"].notna().all()


def test_complete_rows_come_back_unchanged_and_errors_name_the_problem():
    df = _table()
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
    X = df.head(4)
    pd.testing.assert_frame_equal(model.inpaint(X, random_state=0), X)
    with pytest.raises(ValueError, match="n_draws"):
        model.inpaint(X, n_draws=0)
    with pytest.raises(ValueError, match="fitted columns; missing \\['y'\\]"):
        model.inpaint(X.drop(columns="y"))
    gan = tabgen.GANSynthesizer(epochs=1, batch_size=100, random_state=0).fit(df)
    assert not gan.capabilities.inpainting
    with pytest.raises(NotImplementedError, match=r"capabilities\.inpainting"):
        gan.inpaint(X)


def test_fill_holes_places_values_by_row_position():
    X = pd.DataFrame({"a": [1, None, 3, None], "b": ["p", "q", None, "s"]})
    values = pd.DataFrame({"a": [20.0, 9.0, 40.0], "b": ["Q", "R", "S"]})
    out = fill_holes(X, values, rows=[1, 2, 3])
    assert out["a"].tolist() == [1.0, 20.0, 3.0, 40.0]
    assert out["b"].tolist() == ["p", "q", "R", "s"]
    ints = pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})
    assert fill_holes(ints, pd.DataFrame({"n": ["text", "v"]}))["n"].tolist() == [1, "v"]
