"""The public protocol other packages use: capabilities, sampling options, fitted state."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import tabgen
from tabgen.synthesizers import Capabilities
from tabgen.synthesizers.registry import SYNTHESIZERS


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(120),
            "x": np.where(rng.random(120) < 0.4, np.nan, rng.normal(size=120)),
            "c": rng.choice(list("abc"), 120),
        }
    )


@pytest.fixture(scope="module")
def copula(frame):
    return tabgen.GaussianCopulaSynthesizer(random_state=0).fit(frame)


@pytest.mark.parametrize("name", sorted(SYNTHESIZERS))
def test_capabilities_read_from_class_and_instance(name):
    cls = SYNTHESIZERS[name]
    caps = cls.capabilities
    assert isinstance(caps, Capabilities)
    assert cls().capabilities == caps
    assert caps.conditions  # every model fixes categorical columns
    assert caps.differential_privacy == ("epsilon" in cls().get_params())
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.inpainting = not caps.inpainting


def test_capabilities_of_the_models():
    copula = tabgen.GaussianCopulaSynthesizer.capabilities
    assert copula.inpainting and copula.row_conditions and copula.differential_privacy
    assert not copula.streaming_fit and not copula.data_parallel
    assert not tabgen.GANSynthesizer.capabilities.inpainting
    vae = tabgen.VAESynthesizer.capabilities
    assert vae.inpainting and vae.streaming_fit and vae.data_parallel


def test_can_condition_on_follows_kind_and_capabilities(copula):
    assert copula.can_condition_on("c")
    assert copula.can_condition_on("x") == copula.capabilities.numeric_conditions
    assert not copula.can_condition_on("id")
    with pytest.raises(NotFittedError):
        tabgen.GaussianCopulaSynthesizer().can_condition_on("c")


def test_sample_id_offset_and_fill_missing(copula, frame):
    first = copula.sample(4, random_state=0)
    shifted = copula.sample(4, random_state=0, id_offset=50)
    assert (shifted["id"] - first["id"]).eq(50).all()
    pd.testing.assert_frame_equal(first.drop(columns="id"), shifted.drop(columns="id"))
    conditions = pd.DataFrame({"c": ["a", None, "b"] * 20, "x": [None, 0.5, None] * 20})
    free = copula.sample(conditions=conditions, random_state=0)
    assert free["x"].isna().any()  # x is missing in 40 % of the training rows
    out = copula.sample(conditions=conditions, random_state=0, fill_missing=True)
    assert out[["x", "c"]].notna().all().all()
    assert list(out["c"].iloc[[0, 2]]) == ["a", "b"] and out["x"].iloc[1] == 0.5


def test_fitted_state_follows_the_sklearn_protocol(copula):
    check_is_fitted(copula)
    with pytest.raises(NotFittedError):
        check_is_fitted(tabgen.GaussianCopulaSynthesizer())
