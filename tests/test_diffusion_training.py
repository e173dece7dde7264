"""The diffusion denoiser's training: bfloat16 autocast where it is native (issue #26)."""

from __future__ import annotations

import torch

from tabgen import DiffusionSynthesizer
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema
from tabgen.synthesizers.diffusion import estimator, process, training
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters

from .conftest import make_mixed_frame

TINY = DiffusionSynthesizer._test_params()


def _setup():
    df = make_mixed_frame(256)
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    Z = enc.transform(df)
    layout = process.Layout.from_spans(enc.spans, Z.shape[1])
    den = process.MixedDenoiser(MLPDenoiser(layout.dim, hidden=32, n_layers=1), layout)
    init_parameters(den, torch.Generator().manual_seed(0))
    return den, torch.from_numpy(process.to_model(Z, layout))


def _config(low_precision):
    return training.TrainConfig(
        epochs=20,
        batch_size=64,
        lr=2e-3,
        ema_decay=0.9,
        max_time=None,
        verbose=False,
        lr_warmup=5,
        noise=process.NoiseSettings(cond_prob=0.3),
        low_precision=low_precision,
    )


def test_low_precision_training_follows_the_float32_run_with_float32_weights():
    runs = {}
    for low in (False, True):
        den, X = _setup()
        log, average, _ = training.train(den, X, torch.Generator().manual_seed(1), _config(low))
        runs[low] = (torch.tensor(log.losses), average)
    (full, _), (bf16, avg_bf16) = runs[False], runs[True]
    assert all(p.dtype == torch.float32 for p in avg_bf16.parameters())
    assert not torch.equal(full, bf16)  # the products really ran in bfloat16
    # the same trajectory up to rounding: the loss curves agree within a few per cent
    assert ((full - bf16).abs() / full).max() < 0.05
    assert bf16[-1] < 0.95 * bf16[0]  # and it learned


def test_the_fit_trains_in_low_precision_only_where_it_is_native(monkeypatch):
    seen = []
    original = estimator.train

    def spy(model, X, gen, config, privacy=None):
        seen.append(config.low_precision)
        return original(model, X, gen, config, privacy)

    monkeypatch.setattr(estimator, "train", spy)
    df = make_mixed_frame(80)
    for native in (False, True):
        monkeypatch.setattr(estimator, "low_precision_fast", lambda device, n=native: n)
        DiffusionSynthesizer(**{**TINY, "epochs": 2}, sampler="dpm", random_state=0).fit(df)
    assert seen == [False, True]
