"""The diffusion denoiser's training: bfloat16 autocast where it is native (issue #26)."""

from __future__ import annotations

import pytest
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
    params = {**TINY, "epochs": 2, "sampler": "dpm", "random_state": 0}
    for native in (False, True):
        monkeypatch.setattr(estimator, "low_precision_fast", lambda device, n=native: n)
        DiffusionSynthesizer(**params).fit(df)
    # precision="float32" trains in float32 where bfloat16 is native
    DiffusionSynthesizer(**params, precision="float32").fit(df)
    assert seen == [False, True, False]
    with pytest.raises(ValueError, match="precision must be 'auto' or 'float32', got 'bf16'"):
        DiffusionSynthesizer(**params, precision="bf16").fit(df)


class _FakeTime:
    """Stands in for the ``time`` module inside the trainer: each reading of the clock
    advances one second."""

    def __init__(self):
        self.t = 0.0

    def monotonic(self):
        self.t += 1.0
        return self.t


def _lr_run(monkeypatch, fit_schedule):
    from tabgen.nn import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "time", _FakeTime())
    layer = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    lrs = []

    def step(index, trainer):
        lrs.append(opt.param_groups[0]["lr"])
        return torch.tensor(1.0)

    batches = trainer_module.ShuffledBatches(100, 10, torch.Generator().manual_seed(0))
    run = trainer_module.Trainer(
        step,
        batches,
        epochs=100,  # 1,000 steps planned
        optimizers={"net": opt},
        lr_at=trainer_module.warmup_linear(1.0, 5),
        max_time=150.0,
        fit_schedule=fit_schedule,
        parallel=None,
    )
    log = run.run()
    return lrs, log


def test_fit_schedule_ends_the_learning_rate_decay_within_the_budget(monkeypatch):
    lrs, log = _lr_run(monkeypatch, fit_schedule=True)
    # one clock reading a step: the 20 probe steps took ~20 of the 150 s, so the schedule
    # is sized to ~150 steps and runs to its end instead of the planned 1,000
    assert 100 < len(lrs) < 200 and log.stopped_early
    assert lrs[-1] < 0.05 and max(lrs) > 0.9
    cut, _ = _lr_run(monkeypatch, fit_schedule=False)
    # without it the budget cuts the same run off near its peak learning rate
    assert cut[-1] > 0.8 and abs(len(cut) - len(lrs)) < 15


def test_where_bf16_trains_the_student_takes_two_thirds_of_the_denoisers_steps(monkeypatch):
    seen = []
    original = estimator.distill

    def spy(teacher, config, gen, device="cpu"):
        seen.append(config.steps)
        return original(teacher, config, gen, device)

    monkeypatch.setattr(estimator, "distill", spy)
    df = make_mixed_frame(64)  # batch 64: one step per epoch
    params = {**TINY, "epochs": 9, "batch_size": 64}
    for native in (False, True):
        monkeypatch.setattr(estimator, "low_precision_fast", lambda device, n=native: n)
        DiffusionSynthesizer(**params, random_state=0).fit(df)
    assert seen == [9, 6]
