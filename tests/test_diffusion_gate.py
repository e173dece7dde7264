"""The diffusion model's sampler choice at fit time (``sampler="auto"``, issue #26): the
one-step student unless a quick detection check finds it clearly worse than the teacher's
DPM-Solver++ (:mod:`tabgen.synthesizers.diffusion.gate`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgen import DiffusionSynthesizer, load
from tabgen.synthesizers.diffusion import estimator, gate

from .conftest import make_mixed_frame

TINY = DiffusionSynthesizer._test_params()


def _fit(**params):
    return DiffusionSynthesizer(**{**TINY, **params}, random_state=0).fit(make_mixed_frame(300))


@pytest.fixture(scope="module")
def bad_student():
    """A default fit whose student took one optimiser step: far from its teacher."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(estimator, "_DISTILL_STEP_SHARE", 1e-9)
        mp.setattr(estimator, "_DISTILL_STEP_SHARE_LOW", 1e-9)
        return _fit()


def test_a_bad_student_gives_way_to_dpm_and_the_selection_learns_dpm_rows(bad_student, monkeypatch):
    model = bad_student
    check = model.sampler_check_
    assert model.sampler == "auto" and model.sampler_ == "dpm"
    assert check["student_auc"] - check["dpm_auc"] > gate.MARGIN
    assert check["rows"] == 150 and check["margin"] == gate.MARGIN and check["cpu_s"] >= 0
    assert model.student_ is not None  # still there: sampler="distilled" can use it
    seen = []
    original = DiffusionSynthesizer._generate

    def spy(self, n, known, mask, rng, sampler=None):
        seen.append(sampler or gate.in_use(self))
        return original(self, n, known, mask, rng, sampler)

    monkeypatch.setattr(DiffusionSynthesizer, "_generate", spy)
    model.sample(20, random_state=0)
    assert seen == ["dpm"]


def test_the_choice_survives_a_model_file_and_set_params_still_switches(bad_student, tmp_path):
    model = bad_student
    model.save(tmp_path / "m.tabgen")
    again = load(tmp_path / "m.tabgen")
    assert again.sampler == "auto" and again.sampler_ == "dpm"
    assert again.sampler_check_ == model.sampler_check_
    rows = model.sample(50, random_state=3)
    pd.testing.assert_frame_equal(again.sample(50, random_state=3), rows)
    student = again.set_params(sampler="distilled").sample(50, random_state=3)
    assert gate.in_use(again) == "distilled" and not student.equals(rows)
    assert again.sampler_ == "dpm"  # the fit's choice is kept for "auto"
    pd.testing.assert_frame_equal(again.set_params(sampler="auto").sample(50, random_state=3), rows)


def test_an_equal_student_is_kept_and_the_fit_is_that_of_sampler_distilled(monkeypatch):
    scored = []

    def tie(real, fake, seed):  # both samplers' kept rows equally hard to tell apart
        scored.append(fake.shape)
        return 0.6

    monkeypatch.setattr(gate, "detection_auc", tie)
    auto = _fit()
    check = auto.sampler_check_
    assert auto.sampler_ == "distilled" and check["student_auc"] == check["dpm_auc"] == 0.6
    assert len(scored) == 2 and scored[0] == scored[1]  # as many kept rows of each
    distilled = _fit(sampler="distilled")
    assert distilled.sampler_ == "distilled" and distilled.sampler_check_ == {}
    # the check draws from a copy of the fit's generator: nothing downstream moves
    pd.testing.assert_frame_equal(
        auto.sample(100, random_state=1), distilled.sample(100, random_state=1)
    )


def test_choose_keeps_the_student_within_the_margin():
    assert gate.choose(0.70, 0.70 - gate.MARGIN / 2) == "distilled"
    assert gate.choose(0.55, 0.90) == "distilled"  # a better student, of course
    assert gate.choose(0.70 + 2 * gate.MARGIN, 0.70) == "dpm"


def _no_check(*args, **kwargs):
    raise AssertionError("the sampler check ran")


@pytest.mark.parametrize("sampler", ["distilled", "dpm", "heun"])
def test_an_explicit_sampler_runs_no_check(sampler, monkeypatch):
    monkeypatch.setattr(gate, "check", _no_check)
    model = _fit(sampler=sampler, epochs=2)
    assert model.sampler_ == sampler and model.sampler_check_ == {}
    assert (model.student_ is not None) == (sampler == "distilled")


def test_a_spent_budget_keeps_the_student_without_a_check(monkeypatch):
    monkeypatch.setattr(gate, "check", _no_check)
    monkeypatch.setattr(gate, "TIME_SHARE", 1.0)  # never enough time left
    model = _fit(epochs=2, max_time=1000.0)
    assert model.sampler_ == "distilled"
    assert model.sampler_check_["skipped"].startswith("max_time spent")


def test_a_small_table_keeps_the_student_without_a_check(monkeypatch):
    monkeypatch.setattr(gate, "check", _no_check)
    model = DiffusionSynthesizer(**{**TINY, "epochs": 2}, random_state=0)
    model.fit(make_mixed_frame(2 * gate.MIN_ROWS - 1))
    assert model.sampler_ == "distilled" and "too few" in model.sampler_check_["skipped"]


def test_without_the_selection_the_raw_rows_are_compared(bad_student, monkeypatch):
    scored = []
    monkeypatch.setattr(gate, "train_discriminator", _no_check)  # no selection trained
    monkeypatch.setattr(gate, "detection_auc", lambda real, fake, seed: scored.append(1) or 0.5)
    model = bad_student
    try:
        model.set_params(postprocess=["dependencies"])
        Z = model.encoder_.transform(make_mixed_frame(300), rng=np.random.default_rng(0))
        choice, info = gate.check(model, Z, np.random.default_rng(0))
    finally:
        model.set_params(postprocess="default")
    assert choice == "distilled" and len(scored) == 2 and info["rows"] == 150


def test_a_private_fit_keeps_the_student_without_a_check(monkeypatch):
    pytest.importorskip("opacus")
    monkeypatch.setattr(gate, "check", _no_check)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(20, 70, 120), "job": rng.choice(["a", "b"], 120)})
    model = DiffusionSynthesizer(
        epsilon=3.0, epochs=2, batch_size=40, hidden=16, n_layers=1, n_steps=3,
        domain={"age": (18, 70)}, random_state=0,
    ).fit(df)  # fmt: skip
    assert model.sampler_ == "distilled" and model.student_ is not None
    assert "differential privacy" in model.sampler_check_["skipped"]


@pytest.mark.parametrize("sampler", ["distilled", "dpm"])
def test_a_file_from_before_the_choice_loads_and_samples_as_before(sampler, tmp_path, monkeypatch):
    model = _fit(sampler=sampler, epochs=2)
    original = DiffusionSynthesizer._get_state

    def old_state(self):  # what files written before sampler="auto" hold
        state, arrays = original(self)
        del state["sampler"], state["sampler_check"]
        return state, arrays

    monkeypatch.setattr(DiffusionSynthesizer, "_get_state", old_state)
    model.save(tmp_path / "old.tabgen")
    again = load(tmp_path / "old.tabgen")
    assert again.sampler == sampler and again.sampler_ == sampler
    assert again.sampler_check_ == {}
    pd.testing.assert_frame_equal(
        again.sample(40, random_state=2), model.sample(40, random_state=2)
    )
