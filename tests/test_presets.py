"""``preset=`` of the over-sampler and the Anonymizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tabgen.pipelines import Anonymizer, SyntheticOverSampler
from tabgen.pipelines._presets import PRESETS


def _table(n: int = 160) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})


def test_oversampler_fast_preset_is_the_copula():
    X = _table()
    y = np.where(X["x"] > 1.0, "rare", "common")
    sampler = SyntheticOverSampler(preset="fast", selection=None, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == len(y_res)
    assert type(sampler.synthesizer_).__name__ == "GaussianCopulaSynthesizer"
    assert (pd.Series(y_res) == "rare").sum() == (y == "common").sum()
    assert clone(sampler).get_params()["preset"] == "fast"


def test_anonymizer_fast_preset_is_the_copula():
    anon = Anonymizer(preset="fast", random_state=0).fit(_table())
    assert type(anon.synthesizer_).__name__ == "GaussianCopulaSynthesizer"
    assert len(anon.sample(20)) == 20


@pytest.mark.parametrize("cls", [SyntheticOverSampler, Anonymizer])
def test_preset_errors_name_the_choices(cls):
    from tabgen import GaussianCopulaSynthesizer

    X = _table()
    y = np.where(X["x"] > 1.0, "rare", "common")
    fit = (lambda m: m.fit_resample(X, y)) if cls is SyntheticOverSampler else (lambda m: m.fit(X))
    with pytest.raises(ValueError, match=r"preset must be one of \['best', 'fast'\].*'quick'"):
        fit(cls(preset="quick"))
    with pytest.raises(ValueError, match="not both"):
        fit(cls(preset="fast", synthesizer=GaussianCopulaSynthesizer()))
    assert set(PRESETS[cls.__name__]) == {"fast", "best"}


def test_pipeline_diffusion_models_skip_the_candidate_selection():
    """The over-sampler's and the imputer's own diffusion models fit no selection
    discriminator (completions never use it; the over-sampler has its own pick); a model the
    user passes keeps its post-processors."""
    from tabgen import DiffusionSynthesizer
    from tabgen.pipelines import SyntheticImputer

    rng = np.random.default_rng(0)
    for preset in (None, "best"):
        model = SyntheticOverSampler(preset=preset)._make_synthesizer("t", rng)
        assert model.postprocess == ["dependencies"]
    mine = SyntheticOverSampler(synthesizer=DiffusionSynthesizer())._make_synthesizer("t", rng)
    assert mine.postprocess == "default"
    assert SyntheticImputer(preset="diffusion")._generative_model().postprocess == ["dependencies"]
    assert DiffusionSynthesizer().postprocess == "default"  # the model's own default unchanged
