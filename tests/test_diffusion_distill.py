"""The diffusion model's fast sampling: the one-step distilled student, the given starting
noise of the solver and its bfloat16 evaluation (issue #26)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tabgen import DiffusionSynthesizer, load
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema
from tabgen.synthesizers.diffusion import distill, estimator, process, schedule
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters
from tabgen.synthesizers.diffusion.sampler import solve

from .conftest import make_mixed_frame

TINY = DiffusionSynthesizer._test_params()


def _teacher(seed=0):
    df = make_mixed_frame(80)
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    layout = process.Layout.from_spans(enc.spans, enc.transform(df).shape[1])
    den = process.MixedDenoiser(MLPDenoiser(layout.dim, hidden=16, n_layers=1), layout)
    init_parameters(den, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        den.network.out[-1].weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
    return den.requires_grad_(False).eval()


def _config(steps, pairs=512, low_precision=False):
    return distill.DistillConfig(
        pairs=pairs,
        steps=steps,
        sigma_max=80.0,
        teacher_sigmas=schedule.karras_sigmas(4),
        batch_size=128,
        lr=3e-3,
        low_precision=low_precision,
    )


def test_solver_starts_from_the_given_noise():
    den = _teacher()
    dim = den.layout.dim
    sig = schedule.karras_sigmas(3)
    z = torch.randn(20, dim, generator=torch.Generator().manual_seed(5))
    a = solve(den, 20, dim, sig, torch.Generator().manual_seed(1), method="dpm", noise=z)
    b = solve(den, 20, dim, sig, torch.Generator().manual_seed(2), method="dpm", noise=z)
    assert torch.equal(a, b)  # the generator is not read for the start
    drawn = solve(den, 20, dim, sig, torch.Generator().manual_seed(5), method="dpm")
    assert torch.equal(drawn, a)  # the same draw as the solver's own
    # one step from sigma_max to 0 is the denoiser's estimate at sigma_max
    one = solve(den, 20, dim, torch.tensor([80.0, 0.0]), None, method="dpm", noise=z)
    torch.testing.assert_close(one, den(z * 80.0, torch.full((20,), 80.0)))


def test_low_precision_solution_is_close_to_float32():
    den = _teacher()
    dim = den.layout.dim
    sig = schedule.karras_sigmas(6)
    z = torch.randn(200, dim, generator=torch.Generator().manual_seed(0))
    full = solve(den, 200, dim, sig, None, method="dpm", noise=z)
    low = solve(den, 200, dim, sig, None, method="dpm", noise=z, low_precision=True)
    assert low.dtype == torch.float32 and not torch.equal(low, full)
    ci = list(den.layout.continuous)
    assert (low[:, ci] - full[:, ci]).abs().mean() < 0.02
    for a, b in den.layout.blocks:  # nearly every category the same
        assert (low[:, a:b].argmax(1) == full[:, a:b].argmax(1)).float().mean() > 0.97


def test_student_learns_the_teachers_map_from_noise_to_rows():
    teacher = _teacher()
    gen = torch.Generator().manual_seed(0)
    student = distill.distill(teacher, _config(steps=300), gen)
    assert not student.training
    assert not any(p.requires_grad for p in student.parameters())
    assert any(p.requires_grad is False for p in teacher.parameters())  # teacher untouched
    # fresh noise: the student's one step against the teacher's full solve
    z = torch.randn(400, teacher.layout.dim, generator=torch.Generator().manual_seed(9))
    sig = _config(1).teacher_sigmas
    target = solve(teacher, 400, teacher.layout.dim, sig, None, method="heun", noise=z)
    untrained = solve(teacher, 400, teacher.layout.dim, torch.tensor([80.0, 0]), None, noise=z)
    got = distill.one_step(student, 400, 80.0, None, noise=z)
    ci = list(teacher.layout.continuous)
    err_student = (got[:, ci] - target[:, ci]).pow(2).mean()
    err_start = (untrained[:, ci] - target[:, ci]).pow(2).mean()
    assert err_student < 0.5 * err_start
    # the whole loss (categories included) on fresh noise, against the starting weights
    with torch.no_grad():
        after = distill.student_loss(student, z, target, 80.0)
        before = distill.student_loss(teacher, z, target, 80.0)
    assert after < 0.8 * before


def test_distillation_is_deterministic_for_a_generator():
    teacher = _teacher()
    a = distill.distill(teacher, _config(steps=5), torch.Generator().manual_seed(3))
    b = distill.distill(teacher, _config(steps=5), torch.Generator().manual_seed(3))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.fixture(scope="module")
def fitted():
    train = make_mixed_frame(300)
    return DiffusionSynthesizer(**TINY, sampler="distilled", random_state=0).fit(train), train


def test_distilled_survives_a_model_file(fitted, tmp_path):
    model, train = fitted
    assert model.sampler_ == "distilled" and model.student_ is not None
    rows = model.sample(300, random_state=1)
    assert list(rows.columns) == list(train.columns) and len(rows) == 300
    model.save(tmp_path / "m.tabgen")
    again = load(tmp_path / "m.tabgen")
    pd.testing.assert_frame_equal(
        again.sample(100, random_state=2), model.sample(100, random_state=2)
    )
    # the teacher is still there: the ODE solvers sample from the same file
    dpm = again.set_params(sampler="dpm").sample(50, random_state=2)
    assert len(dpm) == 50 and not dpm.equals(
        again.set_params(sampler="distilled").sample(50, random_state=2)
    )


def test_distilled_rows_keep_the_categories_and_conditions_still_hold(fitted):
    model, train = fitted
    rows = model.sample(2000, random_state=4)
    for col in ("cat", "cat_nan", "sdtype", "unicode"):
        real = train[col].value_counts(normalize=True)
        fake = rows[col].value_counts(normalize=True).reindex(real.index, fill_value=0)
        assert (fake - real).abs().max() < 0.15, col
    level = train["cat"].iloc[0]
    cond = model.sample(20, conditions={"cat": level}, random_state=0)
    assert (cond["cat"] == level).all()


def test_distilled_candidates_are_scored_in_low_precision_and_kept_rows_are_float64(
    fitted, monkeypatch
):
    model, _ = fitted
    selection = model._postprocessor("discriminator")
    seen = {}
    original = type(selection).draw

    def spy(self, m, n, conditions, rng, draws=4, low_precision=False):
        Z = original(self, m, n, conditions, rng, draws=draws, low_precision=low_precision)
        seen.update(draws=draws, low=low_precision, conditions=conditions, dtype=Z.dtype)
        return Z

    monkeypatch.setattr(type(selection), "draw", spy)
    monkeypatch.setattr(estimator, "low_precision_fast", lambda device: True)
    rows = model._draw(30, None, np.random.default_rng(0))
    assert seen == {"draws": 2, "low": True, "conditions": None, "dtype": np.float32}
    assert rows.dtype == np.float64 and rows.shape[0] == 30
    seen.clear()
    model.set_params(sampler="dpm")
    try:
        model.sample(30, random_state=0)
    finally:
        model.set_params(sampler="distilled")
    assert seen["draws"] == 4 and seen["low"] is False and seen["dtype"] == np.float64


def test_a_model_without_a_student_says_so():
    model = DiffusionSynthesizer(**{**TINY, "epochs": 2}, sampler="dpm", random_state=0)
    model.fit(make_mixed_frame(60))
    assert model.student_ is None
    with pytest.raises(ValueError, match="sampler='distilled'"):
        model.set_params(sampler="distilled").sample(5, random_state=0)


def test_a_private_fit_gets_a_student_too():
    pytest.importorskip("opacus")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(20, 70, 120), "job": rng.choice(["a", "b"], 120)})
    model = DiffusionSynthesizer(
        epsilon=3.0, epochs=2, batch_size=40, hidden=16, n_layers=1, n_steps=3,
        domain={"age": (18, 70)}, random_state=0,
    )  # fmt: skip
    model.fit(df)
    assert model.student_ is not None and np.isfinite(model.privacy_["epsilon"])
    assert len(model.sample(10, random_state=0)) == 10


class _Clock:
    """A fake clock for the distillation's budget: each reading advances ``tick`` seconds."""

    def __init__(self, tick):
        self.t, self.tick = 0.0, tick

    def __call__(self):
        self.t += self.tick
        return self.t


def test_a_time_budget_bounds_the_pairs_and_shortens_the_students_schedule(monkeypatch):
    teacher = _teacher()
    calls = {"solve_rows": 0, "steps": 0}
    original_solve, original_loss = distill.solve, distill.student_loss

    def counting_solve(den, n, *args, **kwargs):
        calls["solve_rows"] += n
        return original_solve(den, n, *args, **kwargs)

    def counting_loss(*args):
        calls["steps"] += 1
        return original_loss(*args)

    monkeypatch.setattr(distill, "solve", counting_solve)
    monkeypatch.setattr(distill, "student_loss", counting_loss)
    config = distill.DistillConfig(
        **{**_config(steps=1000, pairs=512).__dict__, "pair_chunk": 128, "max_time": 60.0}
    )
    monkeypatch.setattr(distill, "_now", _Clock(tick=10.0))
    student = distill.distill(teacher, config, torch.Generator().manual_seed(0))
    # pairs stop once 40 % of the 60 s have passed: fewer than asked, at least one chunk
    assert 128 <= calls["solve_rows"] < 512 and calls["solve_rows"] % 128 == 0
    # the steps stop with the budget, far short of the 1,000 asked for
    assert 1 <= calls["steps"] < 10
    assert not student.training
    # no budget: every pair and every step, in the same chunks
    calls.update(solve_rows=0, steps=0)
    free = distill.DistillConfig(**{**config.__dict__, "max_time": None, "steps": 30})
    distill.distill(teacher, free, torch.Generator().manual_seed(0))
    assert calls == {"solve_rows": 512, "steps": 30}


def test_a_budget_that_is_already_spent_still_gives_a_student(monkeypatch):
    teacher = _teacher()
    config = distill.DistillConfig(**{**_config(steps=500).__dict__, "max_time": 0.0})
    monkeypatch.setattr(distill, "_now", _Clock(tick=1.0))
    student = distill.distill(teacher, config, torch.Generator().manual_seed(0))
    changed = any(not torch.equal(p, q) for p, q in zip(student.parameters(), teacher.parameters()))
    assert changed  # one step was taken


def test_chunked_pairs_give_the_same_student_as_one_solve():
    teacher = _teacher()
    one = distill.distill(teacher, _config(steps=5), torch.Generator().manual_seed(3))
    chunked = distill.DistillConfig(**{**_config(steps=5).__dict__, "pair_chunk": 100})
    two = distill.distill(teacher, chunked, torch.Generator().manual_seed(3))
    for p, q in zip(one.parameters(), two.parameters()):
        torch.testing.assert_close(p, q)


def test_max_time_is_split_between_the_denoiser_the_student_and_the_postprocessors(
    monkeypatch,
):
    seen = {}
    original_train, original_distill = estimator.train, estimator.distill

    def spy_train(model, X, gen, config, privacy=None):
        seen["teacher"] = config.max_time
        return original_train(model, X, gen, config, privacy)

    def spy_distill(teacher, config, gen, device="cpu"):
        seen["student"] = config.max_time
        return original_distill(teacher, config, gen, device)

    monkeypatch.setattr(estimator, "train", spy_train)
    monkeypatch.setattr(estimator, "distill", spy_distill)
    params = {**TINY, "epochs": 3, "max_time": 100.0}
    DiffusionSynthesizer(**params, random_state=0).fit(make_mixed_frame(100))
    assert seen["teacher"] == pytest.approx(estimator._TEACHER_TIME_SHARE * 100.0)
    rest = (1 - estimator._POSTPROCESS_TIME_SHARE) * 100.0
    assert 0 < seen["student"] <= rest  # what the denoiser left of the 95 %
    # without a budget neither is bounded; with another sampler the denoiser gets it all
    DiffusionSynthesizer(**{**params, "max_time": None}, random_state=0).fit(make_mixed_frame(100))
    assert seen == {"teacher": None, "student": None}
    seen.clear()
    DiffusionSynthesizer(**params, sampler="dpm", random_state=0).fit(make_mixed_frame(100))
    assert seen == {"teacher": 100.0}
