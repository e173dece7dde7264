"""The diffusion denoiser's loss weights and network options (issue #26, MLE)."""

from __future__ import annotations

import pandas as pd
import torch

import tabgen
from tabgen import DiffusionSynthesizer
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema
from tabgen.synthesizers.diffusion import estimator, process
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters

from .conftest import make_mixed_frame

TINY = DiffusionSynthesizer._test_params()


def _denoiser(**options):
    df = make_mixed_frame(128)
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    Z = enc.transform(df)
    layout = process.Layout.from_spans(enc.spans, Z.shape[1])
    network = MLPDenoiser(layout.dim, 32, 1, continuous=layout.continuous, **options)
    den = process.MixedDenoiser(network, layout)
    init_parameters(den, torch.Generator().manual_seed(0))
    with torch.no_grad():  # a non-trivial output layer (init zeroes it only on MLPDenoiser)
        network.out[-1].weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
    return den, torch.from_numpy(process.to_model(Z, layout))


def test_categorical_weight_scales_only_the_discrete_part_of_the_loss():
    den, X = _denoiser()
    losses = {}
    for weight in (0.0, 1.0, 3.0):
        settings = process.NoiseSettings(cond_prob=0.3, cat_weight=weight)
        batch = process.training_loss(den, X, torch.Generator().manual_seed(2), settings)
        rows = process.training_loss(
            den, X, torch.Generator().manual_seed(2), settings, per_row=True
        )
        losses[weight] = (batch.item(), rows.item())
    for k in (0, 1):  # the batch loss and the DP per-row loss: linear in the weight
        cont, one, three = losses[0.0][k], losses[1.0][k], losses[3.0][k]
        assert one - cont > 0.05  # the discrete part is really there
        assert abs((three - cont) - 3 * (one - cont)) < 1e-4


def test_periodic_features_keep_the_draws_and_the_sampling_shortcut():
    plain, X = _denoiser()
    den, _ = _denoiser(n_periodic=4)
    net = den.network
    # the other parameters are drawn as without the periodic features (frequencies last)
    assert torch.equal(net.proj.weight, plain.network.proj.weight)
    assert net.freqs.shape == (len(den.layout.continuous), 4) and net.freqs.abs().sum() > 0
    sigma = torch.full((len(X),), 0.7)
    c_noise = sigma.log() / 4
    with torch.no_grad():
        inputs = torch.cat([X, torch.zeros_like(X)], dim=1)
        full = net(inputs, c_noise)
        assert torch.allclose(net.forward_unmasked(X, c_noise), full, atol=1e-5)
        # the continuous slots reach the output through the periodic path alone too
        net.proj.weight[:, list(den.layout.continuous)] = 0.0
        moved = X.clone()
        moved[:, list(den.layout.continuous)] += 0.25
        before = net(torch.cat([X, torch.zeros_like(X)], dim=1), c_noise)
        after = net(torch.cat([moved, torch.zeros_like(X)], dim=1), c_noise)
    assert (before - after).abs().max() > 1e-3


def test_the_network_options_travel_with_the_model_file(tmp_path, monkeypatch):
    df = make_mixed_frame(200)
    monkeypatch.setattr(estimator, "_N_PERIODIC", 3)
    model = DiffusionSynthesizer(**TINY, sampler="dpm", postprocess=[], random_state=0).fit(df)
    assert model.network_options_["n_periodic"] == 3
    assert model.denoiser_.network.freqs.shape[1] == 3
    model.save(tmp_path / "m.tabgen")
    monkeypatch.setattr(estimator, "_N_PERIODIC", 0)  # another default when it is read
    loaded = tabgen.load(tmp_path / "m.tabgen")
    assert loaded.denoiser_.network.freqs.shape[1] == 3
    pd.testing.assert_frame_equal(
        loaded.sample(30, random_state=1), model.sample(30, random_state=1)
    )
    plain = DiffusionSynthesizer(**TINY, sampler="dpm", postprocess=[], random_state=0).fit(df)
    assert plain.denoiser_.network.periodic is None


def test_a_private_fit_keeps_its_own_training_settings(monkeypatch):
    seen, config = [], estimator.TrainConfig  # the settings each fit trains with
    monkeypatch.setattr(
        estimator, "TrainConfig", lambda **kw: seen.append(kw["noise"]) or config(**kw)
    )
    monkeypatch.setattr(estimator, "_N_PERIODIC", 3)
    df = make_mixed_frame(120)[["num", "cat"]]
    params = {**TINY, "epochs": 1, "batch_size": 40, "domain": {"num": (0.0, 100.0)}}
    model = DiffusionSynthesizer(epsilon=3.0, random_state=0, **params).fit(df)
    assert model.network_options_["n_periodic"] == 0
    assert model.denoiser_.network.periodic is None
    plain = DiffusionSynthesizer(**{**TINY, "epochs": 1}, sampler="dpm", random_state=0).fit(df)
    assert plain.denoiser_.network.freqs.shape[1] == 3
    private, ordinary = seen
    assert (private.p_mean, private.cat_weight) == (estimator._DP_P_MEAN, estimator._DP_CAT_WEIGHT)
    assert (ordinary.p_mean, ordinary.cat_weight) == (estimator._P_MEAN, estimator._CAT_WEIGHT)
    assert (private.p_mean, private.cat_weight) != (ordinary.p_mean, ordinary.cat_weight)
