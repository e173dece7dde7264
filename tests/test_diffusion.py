"""Focused tests of the diffusion synthesizer: schedule, process, sampler, inpainting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tabgen import DiffusionSynthesizer
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema
from tabgen.synthesizers.base import Conditions
from tabgen.synthesizers.diffusion import process, schedule
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters
from tabgen.synthesizers.diffusion.sampler import solve

from .conftest import make_mixed_frame

TINY = DiffusionSynthesizer._test_params()


def _layout_and_Z(df):
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    Z = enc.transform(df)
    return enc, process.Layout.from_spans(enc.spans, Z.shape[1]), Z


def _denoiser(layout, seed=0):
    net = MLPDenoiser(layout.dim, hidden=16, n_layers=1)
    den = process.MixedDenoiser(net, layout)
    init_parameters(den, torch.Generator().manual_seed(seed))
    return den


# -- schedule -------------------------------------------------------------------------------
def test_karras_sigmas_decrease_to_zero():
    s = schedule.karras_sigmas(12, sigma_min=0.002, sigma_max=80.0)
    assert s.shape == (13,)
    assert torch.all(s[1:] < s[:-1])
    assert s[0] == pytest.approx(80.0) and s[-2] == pytest.approx(0.002) and s[-1] == 0
    assert schedule.karras_sigmas(1).shape == (2,)
    with pytest.raises(ValueError):
        schedule.karras_sigmas(0)


def test_preconditioning_limits():
    sigma = torch.tensor([1e-4, 1.0, 1e4], dtype=torch.float64)
    c_skip, c_out, c_in, _ = schedule.preconditioning(sigma, 1.0)
    assert c_skip[0] == pytest.approx(1.0) and c_skip[-1] == pytest.approx(0.0, abs=1e-6)
    assert c_out[1] == pytest.approx(2**-0.5) and c_in[1] == pytest.approx(2**-0.5)
    w = schedule.loss_weight(sigma)
    np.testing.assert_allclose((w * c_out**2).numpy(), 1.0)


# -- process --------------------------------------------------------------------------------
def test_model_space_round_trip_and_shapes():
    df = make_mixed_frame(60)
    _, layout, Z = _layout_and_Z(df)
    X = process.to_model(Z, layout)
    assert X.shape == Z.shape and X.dtype == np.float32
    assert set(np.unique(X[:, layout.discrete_mask])) <= {-1.0, 1.0}
    np.testing.assert_allclose(process.from_model(X, layout), Z, atol=1e-6)
    assert len(layout.blocks) > 0 and len(layout.binary) > 0 and len(layout.continuous) > 0
    den = _denoiser(layout)
    x = torch.from_numpy(X)
    D = den(x, torch.full((len(X),), 0.5))
    assert D.shape == x.shape
    for a, b in layout.blocks:  # categorical estimates are 2p - 1 with p a distribution
        np.testing.assert_allclose(((D[:, a:b] + 1) / 2).sum(1).detach().numpy(), 1.0, rtol=1e-5)
    loss = process.training_loss(den, x, torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()


def test_prior_logits_match_frequencies():
    df = pd.DataFrame({"c": ["a"] * 30 + ["b"] * 10, "x": [1.0] * 36 + [np.nan] * 4})
    _, layout, Z = _layout_and_Z(df)
    logits = process.prior_logits(Z, layout)
    a, b = layout.blocks[0]
    p = np.exp(logits[a:b]) / np.exp(logits[a:b]).sum()
    np.testing.assert_allclose(p, [0.75, 0.25], atol=0.02)
    assert 1 / (1 + np.exp(-logits[layout.binary[0]])) == pytest.approx(0.1, abs=0.02)


def test_training_masks_reveal_the_missingness_flag_of_free_columns():
    df = make_mixed_frame(80)
    _, layout, _ = _layout_and_Z(df)
    den = _denoiser(layout)
    column = np.asarray(layout.slot_column)
    mask = den.random_known_mask(4000, torch.Generator().manual_seed(0), 0.5, "cpu").numpy()
    conditional = mask.any(axis=1)
    # flags are revealed only in conditional rows: the others train the unconditional model
    assert 0.4 < conditional.mean() < 0.6
    assert layout.missing and set(layout.missing) <= set(layout.binary)
    for m in layout.missing:
        values = np.flatnonzero(column == column[m])
        values = values[values != m]
        flag_only = mask[:, m] & ~mask[:, values].any(axis=1)
        # the imputation pattern (flag fixed to "observed", value asked for) is trained ...
        assert 0.05 < flag_only.mean() < 0.5
        # ... and a known value always comes with its flag
        assert not (mask[:, values].any(axis=1) & ~mask[:, m]).any()
    # a table without missing cells draws exactly what it drew before (no extra draws)
    _, lay2, _ = _layout_and_Z(df[[c for c in df.columns if df[c].notna().all()]])
    den2 = _denoiser(lay2)
    assert not lay2.missing
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    den2.random_known_mask(50, g1, 0.5, "cpu")
    for shape in [(50,), (50, 1), (50, lay2.n_columns)]:  # the draws of the whole-column mask
        torch.rand(shape, generator=g2)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


# -- sampler --------------------------------------------------------------------------------
def test_sampler_is_deterministic_given_the_generator_and_keeps_known_slots():
    df = make_mixed_frame(50)
    _, layout, Z = _layout_and_Z(df)
    den = _denoiser(layout)
    sig = schedule.karras_sigmas(4)

    def run(seed, **kw):
        return solve(den, 10, layout.dim, sig, torch.Generator().manual_seed(seed), **kw)

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))
    known = torch.from_numpy(process.to_model(Z[:10], layout))
    mask = torch.zeros_like(known, dtype=torch.bool)
    mask[:, :3] = True
    out = run(3, known=known, mask=mask, batch_size=3)
    assert torch.equal(out[:, :3], known[:, :3])
    torch.testing.assert_close(
        out, run(3, known=known, mask=mask, batch_size=7), atol=1e-3, rtol=1e-3
    )


@pytest.mark.parametrize("method", ["heun", "dpm"])
def test_solvers_reach_the_data_law_with_an_exact_denoiser(method):
    # data N(mu, s^2) per slot: the ideal denoiser is (s^2 x + sigma^2 mu) / (s^2 + sigma^2)
    # and the probability-flow ODE maps the prior exactly onto the data law
    mu = torch.tensor([2.0, -1.0, 0.0])
    s = torch.tensor([0.5, 1.0, 0.1])

    def exact(x, sigma, mask=None):
        v = sigma.reshape(-1, 1) ** 2
        return (s**2 * x + v * mu) / (s**2 + v)

    sig = schedule.karras_sigmas(48, sigma_max=80.0)  # converged (16-20 steps: ~10 % on std)
    x = solve(exact, 20_000, 3, sig, torch.Generator().manual_seed(0), method=method)
    torch.testing.assert_close(x.mean(0), mu, atol=0.03, rtol=0)
    torch.testing.assert_close(x.std(0), s, atol=0, rtol=0.03)
    if method == "dpm":  # fixed slots stay fixed, the others follow
        known = torch.zeros(20_000, 3)
        mask = torch.zeros(20_000, 3, dtype=torch.bool)
        mask[:, 0] = True
        gen = torch.Generator().manual_seed(1)
        y = solve(exact, 20_000, 3, sig, gen, method=method, known=known, mask=mask)
        assert torch.equal(y[:, 0], known[:, 0])
        torch.testing.assert_close(y[:, 1:].mean(0), mu[1:], atol=0.03, rtol=0)


def test_sampling_shortcuts_match_the_training_forward():
    df = make_mixed_frame(50)
    _, layout, _ = _layout_and_Z(df)
    den = _denoiser(layout)
    with torch.no_grad():
        den.network.out[-1].weight.normal_(0, 0.1)  # a non-trivial output layer
    x = torch.randn(64, layout.dim, generator=torch.Generator().manual_seed(0))
    sigma = torch.full((64,), 1.7)
    with torch.enable_grad():  # the plain path: mask half and one embedding per row
        expected = den(x, sigma).detach()
    with torch.no_grad():  # unmasked projection, one embedding for the batch
        got = den(x, sigma)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_auto_is_the_default_unconditional_sampler_and_the_solvers_still_work(
    fitted_mixed,
):
    model, _ = fitted_mixed
    assert model.sampler == "auto"  # tests/test_diffusion_gate.py
    assert model.sampler_ in ("distilled", "dpm") and model.student_ is not None
    dpm = clone_with(model, sampler="dpm").sample(50, random_state=0)
    heun = clone_with(model, sampler="heun").sample(50, random_state=0)
    assert dpm.shape == heun.shape and not dpm.equals(heun)
    with pytest.raises(ValueError, match="sampler"):
        DiffusionSynthesizer(sampler="euler").fit(make_mixed_frame(20))


def clone_with(model, **params):
    import copy

    other = copy.deepcopy(model)
    other.set_params(**params)
    return other


# -- estimator ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_mixed():
    train = make_mixed_frame(300)
    return DiffusionSynthesizer(**TINY, random_state=0).fit(train), train


def test_inpaint_keeps_observed_cells_and_fills_every_hole(fitted_mixed):
    model, train = fitted_mixed
    X = train.head(40).astype({"flag": object, "int": "Int64"})
    rng = np.random.default_rng(0)
    cols = ["num", "int", "cat", "flag", "when", "when_tz", "date_str", "unicode", "catdtype"]
    holes = {c: rng.random(len(X)) < 0.3 for c in cols}
    for c, m in holes.items():
        X.loc[m, c] = None
    before = X.copy(deep=True)
    out = model.inpaint(X, random_state=0)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert out.index.equals(X.index) and list(out.columns) == list(X.columns)
    for c in X.columns:
        if c == "all_nan":  # a constant (all-missing) column: nothing to learn or fill
            assert out[c].isna().all()
            continue
        obs = X[c].notna()
        assert out[c].notna().all(), c  # every hole filled, natural NaN included
        pd.testing.assert_series_equal(out.loc[obs, c], X.loc[obs, c], check_dtype=False)
    for c in cols:
        filled = out.loc[holes[c], c]
        assert filled.notna().all(), c
        if model.schema_[c].kind == "categorical":
            assert set(filled.astype(object)) <= set(train[c].dropna().astype(object)), c


def test_inpaint_n_draws_are_independent(fitted_mixed):
    model, train = fitted_mixed
    X = train.head(30).copy()
    X.loc[:, "num"] = np.nan
    X.loc[:, "cat"] = None
    draws = model.inpaint(X, n_draws=3, random_state=1)
    assert isinstance(draws, list) and len(draws) == 3
    assert not draws[0]["num"].equals(draws[1]["num"])
    assert all(d["num"].notna().all() and d["cat"].notna().all() for d in draws)
    again = model.inpaint(X, n_draws=3, random_state=1)
    pd.testing.assert_frame_equal(again[2], draws[2])
    with pytest.raises(ValueError, match="n_draws"):
        model.inpaint(X, n_draws=0)
    with pytest.raises(ValueError, match="fitted columns"):
        model.inpaint(X.drop(columns="num"))


def test_selection_is_a_default_postprocessor_and_inpaint_does_not_select(fitted_mixed):
    """Issue #26: the discriminator selection is on by default (detection on Adult in
    benchmarks/RESULTS.md); it picks other rows than the same model without it, is
    reproducible for a seed, and leaves ``inpaint`` (which completes given rows) alone."""
    model, train = fitted_mixed
    assert DiffusionSynthesizer.capabilities.postprocessors == (
        "dependencies",
        "selection",
        "conditionals",
    )
    assert model.discriminator_ is not None
    plain = clone_with(model)
    plain.postprocessors_ = [p for p in model.postprocessors_ if p.name != "discriminator"]
    selected = model.sample(200, random_state=3)
    assert not selected.equals(plain.sample(200, random_state=3))
    pd.testing.assert_frame_equal(model.sample(200, random_state=3), selected)
    holes = train.head(20).copy()
    holes.loc[:, "num"] = np.nan
    pd.testing.assert_frame_equal(
        model.inpaint(holes, random_state=0), plain.inpaint(holes, random_state=0)
    )


def test_bad_params_raise():
    df = pd.DataFrame({"x": np.arange(20.0)})
    for bad in (
        {"hidden": 0},
        {"n_steps": -1},
        {"lr": 0},
        {"ema_decay": 1.0},
        {"max_time": -1},
        {"device": "nonsense"},
        {"dequantize": "no"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            DiffusionSynthesizer(**bad).fit(df)
    with pytest.raises(ValueError, match="preset"):
        DiffusionSynthesizer.from_preset("tpu")
    assert DiffusionSynthesizer.from_preset("gpu", epochs=3).epochs == 3


def test_dequantize_false_trains_on_interval_middles(monkeypatch):
    # whole numbers are atoms of the quantile encoder: spread over their intervals by
    # default, one point each with dequantize=False; decoding is the same
    df = pd.DataFrame({"k": np.random.default_rng(0).integers(0, 5, 300)})
    seen = {}

    def spy(self, Z, rng):
        seen[self.dequantize] = Z.copy()
        return original(self, Z, rng)

    original = DiffusionSynthesizer._fit
    monkeypatch.setattr(DiffusionSynthesizer, "_fit", spy)
    for flag in (True, False):
        model = DiffusionSynthesizer(
            dequantize=flag, atoms="interval", epochs=1, hidden=8, n_layers=1, n_steps=2
        )
        model.fit(df)
    assert np.unique(seen[True][:, 0]).size == len(df)
    assert np.unique(seen[False][:, 0]).size == 5
    back = model.encoder_.inverse_transform(seen[False])
    pd.testing.assert_series_equal(back["k"], df["k"])


def test_max_time_stops_training_early():
    df = make_mixed_frame(400)
    model = DiffusionSynthesizer(
        epochs=100_000,
        batch_size=64,
        hidden=16,
        n_layers=1,
        n_steps=3,
        max_time=0.5,
        random_state=0,
    )
    model.fit(df)
    assert 1 <= model.n_epochs_ < 100_000
    assert len(model.sample(5, random_state=0)) == 5


def test_verbose_shows_a_progress_bar(capfd):
    df = make_mixed_frame(100)
    DiffusionSynthesizer(
        epochs=4, hidden=8, n_layers=1, n_steps=2, verbose=True, random_state=0
    ).fit(df)
    err = capfd.readouterr().err
    assert "4/4" in err and "loss=" in err
    DiffusionSynthesizer(epochs=2, hidden=8, n_layers=1, n_steps=2, random_state=0).fit(df)
    assert capfd.readouterr().err == ""


def test_learns_correlation_and_category_conditional_means():
    """Two correlated Gaussians and a category that depends on them."""
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.normal(size=n)
    b = 0.8 * a + 0.6 * rng.normal(size=n)
    cat = np.where(a + b > 1.0, "high", np.where(a + b < -1.0, "low", "mid"))
    df = pd.DataFrame({"a": a, "b": b, "cat": cat})
    model = DiffusionSynthesizer(
        epochs=40,
        batch_size=256,
        hidden=64,
        n_layers=2,
        n_steps=12,
        cond_fraction=0.5,
        random_state=0,
    ).fit(df)
    out = model.sample(3000, random_state=1)
    assert abs(np.corrcoef(out["a"], out["b"])[0, 1] - 0.8) < 0.08
    freq = out["cat"].value_counts(normalize=True)
    true_freq = df["cat"].value_counts(normalize=True)
    for c in ("high", "mid", "low"):
        assert abs(freq[c] - true_freq[c]) < 0.05, c
        assert abs(out.loc[out["cat"] == c, "a"].mean() - df.loc[df["cat"] == c, "a"].mean()) < 0.2
    # conditional sampling follows the conditional distribution, not the marginal
    high = model.sample(500, conditions={"cat": "high"}, random_state=2)
    assert (high["cat"] == "high").all()
    assert (high["a"] + high["b"]).mean() > 1.4  # truth 2.2, marginal 0
    at = model.sample(500, conditions={"a": 1.5}, random_state=3)
    assert (at["a"] == 1.5).all()
    assert at["b"].mean() > 0.5  # truth 1.2, marginal 0 (short training: pulled to 0)


def test_present_columns_come_out_observed(fitted_mixed):
    """``Conditions.present`` (used by the imputation pipeline) forbids missing cells."""
    model, _ = fitted_mixed
    if "present" not in Conditions.__dataclass_fields__:
        pytest.skip("the base contract has no Conditions.present")
    cond = pd.DataFrame({"cat": ["low", "high", None] * 20})
    out = model._sample_frame(None, cond, 0, id_offset=0, fill_missing=True)
    for name in ("num_nan", "int_nan", "cat_nan", "nbool"):
        assert out[name].notna().all(), name
    assert list(out["cat"].iloc[:2]) == ["low", "high"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only fallback")
def test_cuda_model_file_loads_and_samples_on_cpu(tmp_path):
    import tabgen

    df = pd.DataFrame({"x": np.arange(60.0), "c": ["a", "b", "c"] * 20})
    with pytest.raises(ValueError, match="CUDA is not available"):
        DiffusionSynthesizer(device="cuda", epochs=1).fit(df)
    model = DiffusionSynthesizer(epochs=2, hidden=8, n_steps=2, random_state=0).fit(df)
    model.set_params(device="cuda")  # as if fitted and saved on a GPU machine
    model.save(tmp_path / "m.tabgen")
    loaded = tabgen.load(tmp_path / "m.tabgen")
    assert loaded.device == "cuda"
    assert len(loaded.sample(4, random_state=0)) == 4
    assert loaded.device_.type == "cpu"


def test_default_epochs_aim_at_a_number_of_steps(monkeypatch):
    from tabgen.synthesizers.diffusion import estimator

    monkeypatch.setattr(estimator, "low_precision_fast", lambda device: False)  # float32
    model = DiffusionSynthesizer()  # batch_size 1024
    assert model._n_epochs(10_000) == 889  # 9 steps per epoch: 8,000 steps
    assert model._n_epochs(32_561) == 300  # 31 steps per epoch: at least 300 epochs
    assert model._n_epochs(4_000) == 1200  # 3 steps per epoch, at most 1,200 passes
    assert model._n_epochs(20) == 1200  # one step per epoch
    assert model._n_epochs(1) == 1200
    assert DiffusionSynthesizer(batch_size=1)._n_epochs(10) == 800
    assert DiffusionSynthesizer(epochs=7)._n_epochs(4_000) == 7
    assert DiffusionSynthesizer(epochs=5_000)._n_epochs(20) == 5_000  # a setting is kept
    # where the denoiser trains in bfloat16: 1.5 times the steps (the saved time)
    monkeypatch.setattr(estimator, "low_precision_fast", lambda device: True)
    assert model._n_epochs(20_000) == 632  # 19 steps per epoch: 12,000 steps
    assert model._n_epochs(32_561) == 450
    # ... but no more than 800 passes where float32's default gives fewer
    assert model._n_epochs(11_097) == 800  # shoppers: 10 steps per epoch (float32: 800)
    assert model._n_epochs(14_500) == 800  # 14 steps per epoch (float32: 572)
    assert model._n_epochs(8_000) == 1143  # 7 steps per epoch: float32's 1,143 passes
    assert model._n_epochs(3_395) == 1200  # hypothyroid: 1,200 passes either way
    assert model._n_epochs(20) == 1200  # the highest bound stays
    assert DiffusionSynthesizer(epsilon=1.0)._n_epochs(4_000) == 300  # DP: float32


def test_fit_resolves_default_epochs_from_the_table_size(monkeypatch):
    from tabgen.synthesizers.diffusion import estimator

    monkeypatch.setattr(estimator, "_TARGET_STEPS", 12)
    monkeypatch.setattr(estimator, "_EPOCH_RANGE", (1, 10_000))
    monkeypatch.setattr(estimator, "_LOW_PRECISION_STEPS", 1.0)
    model = DiffusionSynthesizer(hidden=8, n_layers=1, n_steps=2, random_state=0)
    model.fit(make_mixed_frame(40))  # one step per epoch
    assert model.n_epochs_ == 12
    assert len(model.loss_history_) == 12


def test_the_imputer_keeps_the_step_target_and_the_interval_atoms(monkeypatch):
    from tabgen.pipelines import SyntheticImputer
    from tabgen.synthesizers.diffusion import estimator

    monkeypatch.setattr(estimator, "low_precision_fast", lambda device: False)  # float32
    assert DiffusionSynthesizer()._n_epochs(400) == 1200  # sampled rows: bounded passes
    own = DiffusionSynthesizer()._imputation_params(400)
    # 8,000 steps; no candidate selection (inpainting never selects)
    assert own == {"epochs": 8000, "atoms": "interval", "postprocess": ("dependencies",)}
    given = DiffusionSynthesizer(epochs=3, atoms="mixed", postprocess=("selection",))
    assert given._imputation_params(400) == {}
    assert DiffusionSynthesizer(epsilon=1.0)._imputation_params(400) == {"atoms": "interval"}
    df = make_mixed_frame(60)
    df.loc[::7, "num"] = np.nan
    small = {"hidden": 8, "n_layers": 1, "n_steps": 2, "batch_size": 1024}
    monkeypatch.setattr(estimator, "_TARGET_STEPS", 5)
    monkeypatch.setattr(estimator, "_EPOCH_RANGE", (1, 2))
    assert DiffusionSynthesizer(**small)._n_epochs(len(df)) == 2
    imp = SyntheticImputer(synthesizer=DiffusionSynthesizer(**small), random_state=0).fit(df)
    assert imp.synthesizer_.n_epochs_ == 5  # one step per epoch, above the bound of 2
    assert imp.synthesizer_.atoms == "interval"
    assert imp.synthesizer_._postprocessor("discriminator") is None
    given = DiffusionSynthesizer(epochs=3, atoms="mixed", **small)
    fitted = SyntheticImputer(synthesizer=given, random_state=0).fit(df).synthesizer_
    assert (fitted.n_epochs_, fitted.atoms) == (3, "mixed")
