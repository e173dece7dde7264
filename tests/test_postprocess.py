"""The fit pipeline's post-processors (tabgen.synthesizers.postprocess) on every model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.synthesizers.postprocess import postprocessor_class


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    edu = rng.choice(["a", "b", "c"], n)
    return pd.DataFrame(
        {
            "edu": edu,
            "years": pd.Series(edu).map({"a": 9, "b": 12, "c": 16}).to_numpy(),
            "gain": np.where(rng.random(n) < 0.9, 0, rng.choice([500, 2000, 7500], n)),
            "age": rng.normal(40, 10, n).round(1),
        }
    )


def _vae(**params):
    params = {"postprocess": ("selection", "snap", "dependencies"), **params}  # any order
    return tabgen.VAESynthesizer(
        random_state=0, **{**tabgen.VAESynthesizer._test_params(), "epochs": 3, **params}
    )


def test_any_model_fits_and_applies_declared_postprocessors(tmp_path):
    df = _table()
    model = _vae().fit(df)
    # fitted in the registry's order, whatever the declared order
    assert [p.name for p in model.postprocessors_] == ["supports", "dependencies", "discriminator"]
    assert [(d, a) for d, a, _ in model.dependencies_] == [("years", "edu")]
    assert model.supports_["gain"] == [0.0, 500.0, 2000.0, 7500.0]
    assert model.discriminator_ is not None
    rows = model.sample(300, random_state=1)
    assert (rows["years"] == rows["edu"].map({"a": 9, "b": 12, "c": 16})).all()
    assert set(rows["gain"]) <= {0, 500, 2000, 7500}
    # the selection draws candidates around the model's own sampling and keeps conditions
    held = model.sample(50, conditions={"edu": "b"}, random_state=2)
    assert (held["edu"] == "b").all() and (held["years"] == 12).all()
    per_row = model.sample(conditions=pd.DataFrame({"edu": ["a", None, "c"]}), random_state=3)
    assert per_row["edu"].iloc[0] == "a" and per_row["edu"].iloc[2] == "c"
    # the post-processors travel with the model file
    path = tmp_path / "vae.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert [p.name for p in loaded.postprocessors_] == [p.name for p in model.postprocessors_]
    pd.testing.assert_frame_equal(
        loaded.sample(100, random_state=4), model.sample(100, random_state=4)
    )


def test_selection_changes_rows_and_models_without_it_sample_as_before():
    df = _table()
    plain = tabgen.VAESynthesizer(
        random_state=0, **{**tabgen.VAESynthesizer._test_params(), "epochs": 3}
    ).fit(df)
    assert [p.name for p in plain.postprocessors_] == ["dependencies"]  # the VAE's default
    chosen = _vae().fit(df)
    # same training stream: the post-processors are fitted after the model
    np.testing.assert_allclose(plain.loss_history_, chosen.loss_history_)
    a = plain.sample(200, random_state=1)
    kept = chosen.postprocessors_
    chosen.postprocessors_ = [p for p in kept if p.name == "dependencies"]
    pd.testing.assert_frame_equal(chosen.sample(200, random_state=1), a)
    chosen.postprocessors_ = [p for p in kept if p.name != "discriminator"]
    b = chosen.sample(200, random_state=1)
    chosen.postprocessors_ = kept
    c = chosen.sample(200, random_state=1)
    assert not b.equals(c)  # the selection picked other candidates


def test_fit_from_a_file_runs_the_same_postprocessors(tmp_path):
    df = _table(300)
    path = tmp_path / "t.parquet"
    df.to_parquet(path, index=False)
    params = {**tabgen.GANSynthesizer._test_params(), "epochs": 2}
    model = tabgen.GANSynthesizer(random_state=0, **params).fit(path)
    assert [(d, a) for d, a, _ in model.dependencies_] == [("years", "edu")]
    assert model.supports_["gain"] == [0.0, 500.0, 2000.0, 7500.0]
    assert model.discriminator_ is not None
    rows = model.sample(100, random_state=0)
    assert (rows["years"] == rows["edu"].map({"a": 9, "b": 12, "c": 16})).all()


def test_unknown_postprocessor_is_named():
    with pytest.raises(ValueError, match="unknown post-processor 'smooth'"):
        postprocessor_class("smooth")


def test_postprocess_parameter_switches_them_publicly(tmp_path):
    """``postprocess``: "default" keeps the model's declared set (also in its capabilities),
    ``()`` runs none, a list runs those; the choice is a parameter that travels with the
    model file."""
    df = _table(300)
    assert tabgen.VAESynthesizer.capabilities.postprocessors == ("dependencies",)
    assert tabgen.GANSynthesizer.capabilities.postprocessors == (
        "snap",
        "dependencies",
        "selection",
    )
    assert tabgen.GaussianCopulaSynthesizer.capabilities.postprocessors == ()
    base = {**tabgen.VAESynthesizer._test_params(), "epochs": 2, "random_state": 0}
    default = tabgen.VAESynthesizer(**base).fit(df)
    assert default.get_params()["postprocess"] == "default"
    assert [p.name for p in default.postprocessors_] == ["dependencies"]
    none = tabgen.VAESynthesizer(**base, postprocess=()).fit(df)
    assert none.postprocessors_ == []
    snap = tabgen.VAESynthesizer(**base, postprocess=["snap"]).fit(df)
    assert [p.name for p in snap.postprocessors_] == ["supports"]
    path = tmp_path / "snap.tabgen"
    snap.save(path)
    loaded = tabgen.load(path)
    assert list(loaded.get_params()["postprocess"]) == ["snap"]
    pd.testing.assert_frame_equal(
        loaded.sample(50, random_state=1), snap.sample(50, random_state=1)
    )
    # the copula declares none, but runs any it is given
    copula = tabgen.GaussianCopulaSynthesizer(random_state=0, postprocess=["dependencies"])
    rows = copula.fit(df).sample(200, random_state=0)
    assert [(d, a) for d, a, _ in copula.dependencies_] == [("years", "edu")]
    assert (rows["years"] == rows["edu"].map({"a": 9, "b": 12, "c": 16})).all()
    # the GAN's selection=None removes "selection" from whatever is asked
    gan = tabgen.GANSynthesizer(selection=None, postprocess=["snap", "selection"])
    assert gan._postprocessor_names() == ("snap",)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("all", "must be 'default' or a list of names, got 'all'"),
        (3, "must be 'default' or a list of names, got 3"),
        (["smooth"], "unknown post-processor 'smooth'"),
        (["snap", "snap"], "names a post-processor twice"),
    ],
)
def test_bad_postprocess_is_named(value, message):
    df = _table(100)
    with pytest.raises(ValueError, match=message):
        tabgen.GaussianCopulaSynthesizer(postprocess=value).fit(df)


def test_postprocess_with_epsilon():
    """A DP fit runs none: the default means none there, naming some is an error."""
    df = _table(200)
    dp = tabgen.GaussianCopulaSynthesizer(epsilon=1.0, random_state=0).fit(df)
    assert dp.postprocessors_ == []
    with pytest.raises(ValueError, match="privacy accounting"):
        tabgen.GaussianCopulaSynthesizer(epsilon=1.0, postprocess=["snap"]).fit(df)
