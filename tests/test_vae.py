"""Focused tests of the VAE synthesizer: layout, loss, conditioning, loop, persistence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen import VAESynthesizer
from tabgen.encoders import TableEncoder
from tabgen.nn import ShuffledBatches, Trainer
from tabgen.schema import Schema
from tabgen.synthesizers.vae.conditioning import ConditionBuilder
from tabgen.synthesizers.vae.layout import Layout
from tabgen.synthesizers.vae.loss import beta_at, kl_standard_normal, reconstruction_nll

SMALL = {"hidden": 64, "latent_dim": 8, "batch_size": 64, "lr": 3e-3, "random_state": 0}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small networks train much faster on one thread (and do not fight over shared cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _easy_frame(n=1000, seed=0):
    """``g`` drives ``x`` (0 or 10, plus noise) and ``y`` (mostly "u" for a, "v" for b)."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    x = np.where(g == "b", 10.0, 0.0) + rng.normal(0, 1, n)
    flip = rng.random(n) < 0.1
    y = np.where((g == "a") ^ flip, "u", "v")
    return pd.DataFrame({"g": g, "x": x, "y": y})


# -- layout and loss ------------------------------------------------------------------------
def test_layout_reads_the_encoder_spans():
    df = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "c": ["a", "b", "a", "c"]})
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    layout = Layout.from_spans(enc.spans, enc.output_dim_)
    assert layout.dim == 5
    assert layout.continuous == (0,) and layout.continuous_missing == (1,)
    assert layout.binary == (1,)
    assert layout.blocks == ((2, 5),) and layout.blocks_missing == (-1,)
    assert layout.cond_columns == ("x", "c")
    assert layout.cond_width == 1 + 3 + 2
    np.testing.assert_array_equal(layout.cond_cover()[0], [1, 1, 0, 0, 0])


def _tiny_layout():
    # slot 0: number of column "x" (missing flag in slot 1); slots 2-4: category block of "c"
    return Layout(
        dim=5,
        continuous=(0,),
        continuous_missing=(1,),
        blocks=((2, 5),),
        blocks_missing=(-1,),
        binary=(1,),
        cond_columns=("x", "c"),
        cond_values=((0, 1), (2, 5)),
        cond_missing=(1, -1),
    )


def test_reconstruction_loss_by_hand():
    layout = _tiny_layout()
    x = torch.tensor([[0.5, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 0.0]])
    out = torch.zeros(2, 5)
    out[:, 3] = math.log(2.0)  # logits (0, ln 2, 0): p = (1/4, 1/2, 1/4)
    log_scale = torch.tensor([math.log(0.5)])
    nll = reconstruction_nll(out, x, log_scale, layout)
    gauss = 0.5 * (0.5 / 0.5) ** 2 + math.log(0.5) + 0.5 * math.log(2 * math.pi)
    # row 0: observed x (Gaussian), category 1 (p=1/2), not missing (logit 0)
    assert nll[0].item() == pytest.approx(gauss + math.log(2) + math.log(2), rel=1e-5)
    # row 1: x missing -> no Gaussian term; category 0 (p=1/4); missing flag 1 (logit 0)
    assert nll[1].item() == pytest.approx(math.log(4) + math.log(2), rel=1e-5)
    # a condition on column "c" switches its block off
    builder = ConditionBuilder(layout, torch.device("cpu"))
    weights = builder.free_slots(torch.tensor([[False, True], [True, False]]))
    np.testing.assert_array_equal(weights.numpy(), [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]])
    nll_w = reconstruction_nll(out, x, log_scale, layout, weights)
    assert nll_w[0].item() == pytest.approx(gauss + math.log(2), rel=1e-5)
    assert nll_w[1].item() == pytest.approx(math.log(4), rel=1e-5)


def test_kl_and_beta_schedule():
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0)]])
    expected = 0.5 * 1.0 + 0.5 * (2.0 - 1.0 - math.log(2.0))
    assert kl_standard_normal(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    assert beta_at(0, 10, 2.0, 0.0) == 2.0
    assert beta_at(5, 100, 2.0, 0.1) == pytest.approx(1.0)


def test_condition_vector_and_training_mask():
    layout = _tiny_layout()
    builder = ConditionBuilder(layout, torch.device("cpu"))
    x = torch.tensor([[0.5, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 0.0]])
    include = torch.tensor([[True, False], [False, True]])
    vec = builder.vector(x, include)
    np.testing.assert_array_equal(vec.numpy(), [[0.5, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]])
    observed = builder.observed(x)
    np.testing.assert_array_equal(observed.numpy(), [[True, True], [False, True]])
    gen = torch.Generator().manual_seed(0)
    mask = builder.training_mask(observed.repeat(2000, 1), gen, 0.5)
    assert not mask[1::2, 0].any()  # a missing cell is never a condition
    none = (~mask.any(dim=1)).float().mean().item()
    assert 0.45 < none < 0.7


# -- estimator ------------------------------------------------------------------------------
def test_conditions_shift_dependent_columns():
    df = _easy_frame()
    model = VAESynthesizer(epochs=60, **SMALL).fit(df)
    for g, lo, hi, y in (("a", -2, 2.5, "u"), ("b", 7.5, 12, "v")):
        out = model.sample(400, conditions={"g": g}, random_state=1)
        assert (out["g"] == g).all()
        assert lo < out["x"].mean() < hi, g
        assert (out["y"] == y).mean() > 0.75, g
    # a numeric condition is native too and informs the categories
    out = model.sample(300, conditions={"x": 10.0}, random_state=2)
    assert (out["x"] == 10.0).all() and (out["g"] == "b").mean() > 0.8


def test_easy_data_quality_and_no_global_rng_use():
    df = _easy_frame(seed=1)
    state = torch.get_rng_state()
    model = VAESynthesizer(epochs=60, **SMALL).fit(df)
    assert torch.equal(state, torch.get_rng_state())
    out = model.sample(2000, random_state=0)
    assert abs((out["g"] == "b").mean() - 0.4) < 0.05
    # the mixture in x is reproduced: few rows fall between the two modes
    assert ((out["x"] > 4) & (out["x"] < 6)).mean() < 0.05
    assert abs(out["x"].mean() - df["x"].mean()) < 0.6
    agree = ((out["g"] == "a") == (out["y"] == "u")).mean()
    assert agree > 0.75  # independent columns would give about 0.52


def test_max_time_stops_training_cleanly():
    df = _easy_frame(300)
    model = VAESynthesizer(epochs=100_000, max_time=0.3, **SMALL).fit(df)
    assert 1 <= model.n_epochs_ < 100_000
    assert len(model.loss_history_) == model.n_epochs_
    assert len(model.sample(10, random_state=0)) == 10


def test_verbose_shows_a_progress_bar(capfd):
    df = _easy_frame(200)
    VAESynthesizer(epochs=3, verbose=True, **SMALL).fit(df)
    err = capfd.readouterr().err
    assert "vae" in err and "3/3" in err and "loss=" in err
    VAESynthesizer(epochs=3, **SMALL).fit(df)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("scale", ["slot", "row"])
def test_persistence_round_trip(tmp_path, scale):
    df = _easy_frame(300)
    model = VAESynthesizer(epochs=5, scale=scale, **SMALL).fit(df)
    state, arrays = model._get_state()
    assert state["n_epochs"] == 5
    assert all(a.dtype == np.float32 for a in arrays.values())
    assert "log_scale" in arrays and any(k.startswith("prior.") for k in arrays)
    path = tmp_path / "vae.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert loaded.device_ is None  # resolved lazily on the loading machine
    pd.testing.assert_frame_equal(
        loaded.sample(50, conditions={"g": "b"}, random_state=3),
        model.sample(50, conditions={"g": "b"}, random_state=3),
    )
    assert loaded.loss_history_ == model.loss_history_


def test_bad_params_name_the_parameter():
    df = _easy_frame(50)
    for params, name in (
        ({"latent_dim": 0}, "latent_dim"),
        ({"beta": -1.0}, "beta"),
        ({"cond_fraction": 1.5}, "cond_fraction"),
        ({"max_time": 0}, "max_time"),
        ({"device": "nonsense"}, "device"),
        ({"scale": "column"}, "scale"),
    ):
        with pytest.raises(ValueError, match=name):
            VAESynthesizer(**params).fit(df)


def test_trainer_reports_early_stop():
    batches = ShuffledBatches(10, 3, torch.Generator().manual_seed(0))
    log = Trainer(lambda idx, t: 1.0, batches, epochs=5, max_time=0.0).run()
    assert log.stopped_early and log.n_epochs == 1 and log.n_steps == 1


def test_per_row_conditions_and_present_columns():
    df = _easy_frame(400).astype({"x": "float64"})
    df.loc[::5, "x"] = np.nan
    df.loc[1::7, "y"] = None
    model = VAESynthesizer(epochs=5, **SMALL).fit(df)
    cond = pd.DataFrame({"g": ["a", None, "b"], "x": [None, 1.5, None]})
    out = model.sample(conditions=cond, random_state=0)
    assert out["g"].iloc[0] == "a" and out["g"].iloc[2] == "b" and out["x"].iloc[1] == 1.5
    filled = model._sample_frame(
        None, pd.DataFrame({"g": ["a"] * 200}), 0, id_offset=0, fill_missing=True
    )
    assert not filled.isna().any().any()
