"""The differentially private DiffusionSynthesizer (DP-SGD through Opacus)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen import DiffusionSynthesizer
from tabgen.encoders import TableEncoder
from tabgen.schema import Schema
from tabgen.synthesizers.diffusion import process
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters

pytest.importorskip("opacus")


def _frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 70, n)
    job = rng.choice(["a", "b", "c"], n)
    x = rng.normal(0, 1, n) + (job == "b")
    x[:20] = np.nan
    return pd.DataFrame({"age": age, "x": x, "job": job})


PUBLIC = {"age": (18, 75), "x": (-5.0, 6.0), "job": ["a", "b", "c"]}


def _fit(**kw):
    params = {
        "epsilon": 3.0,
        "epochs": 2,
        "batch_size": 50,
        "hidden": 32,
        "n_layers": 1,
        "n_steps": 4,
        "domain": PUBLIC,
        "random_state": 0,
    }
    params.update(kw)
    return DiffusionSynthesizer(**params).fit(_frame())


@pytest.fixture(scope="module")
def dp_model():
    return _fit()


def test_reports_its_guarantee(dp_model):
    p = dp_model.privacy_
    assert p["epsilon"] <= 3.0 * 1.01
    assert p["epsilon_sgd"] <= p["target_epsilon_sgd"] * 1.01
    assert p["epsilon_domain"] == 0.0  # the declared domain covers every column
    assert p["epsilon_basic_composition"] == pytest.approx(
        p["epsilon_domain"] + p["epsilon_marginals"] + p["epsilon_sgd"]
    )
    assert p["epsilon"] == min(p["epsilon_rdp"], p["epsilon_basic_composition"])  # RDP total, #27
    assert p["delta"] == pytest.approx(1e-5)
    assert p["accountant"] == "opacus rdp" and p["max_grad_norm"] == 1.0
    assert p["noise_multiplier"] > 0
    assert p["sample_rate"] == pytest.approx(50 / 300)
    assert p["steps"] == 2 * 6  # epochs / sample rate
    assert p["private_network"] == "denoiser"
    assert "covers" in p
    assert dp_model.n_epochs_ == 2
    assert dp_model.loss_history_ == []  # raw losses read the rows without noise: not kept


def test_noise_is_secret_and_the_rest_follows_the_seed(dp_model, pinned_dp_noise):
    again = _fit()  # pinned noise: differs from the fixture's secret noise
    assert not again.sample(30, random_state=4).equals(dp_model.sample(30, random_state=4))
    pd.testing.assert_frame_equal(
        _fit().sample(30, random_state=4), again.sample(30, random_state=4)
    )
    other = _fit(random_state=1)
    assert not other.sample(30, random_state=4).equals(again.sample(30, random_state=4))


def test_samples_conditions_and_inpaint(dp_model):
    out = dp_model.sample(40, random_state=1)
    assert list(out.columns) == ["age", "x", "job"] and len(out) == 40
    assert out["age"].dropna().between(18, 75).all()
    assert set(out["job"].dropna()) <= {"a", "b", "c"}
    # no column has a missing cell, but missing rates are released with (secret) noise: only
    # when a column's rate came out above 0 may the model emit a missing value there
    for column in ("age", "job"):
        if not dp_model.encoder_.encoders_[column].missing_.enabled_:
            assert out[column].notna().all(), column
    age = int(dp_model.encoder_.encoders_["age"].min_)  # inside the released range
    rows = dp_model.sample(10, conditions={"job": "c", "age": age}, random_state=2)
    assert (rows["job"] == "c").all() and (rows["age"] == age).all()
    holes = _frame(6, seed=5).astype({"age": "float64"})
    holes.loc[[1, 3], "age"] = np.nan
    holes.loc[2, "job"] = None
    filled = dp_model.inpaint(holes, random_state=0)
    assert filled[["age", "job"]].notna().all().all()
    kept = holes.notna()
    pd.testing.assert_frame_equal(filled[kept].astype(object), holes[kept].astype(object))


def test_save_load_round_trip(dp_model, tmp_path):
    dp_model.save(tmp_path / "d.tabgen")
    back = tabgen.load(tmp_path / "d.tabgen")
    assert back.privacy_ == dp_model.privacy_
    pd.testing.assert_frame_equal(
        back.sample(15, random_state=3), dp_model.sample(15, random_state=3)
    )
    pd.testing.assert_frame_equal(
        back.sample(5, conditions={"job": "a"}, random_state=3),
        dp_model.sample(5, conditions={"job": "a"}, random_state=3),
    )


def test_empty_poisson_batches_are_handled():
    # expected batch 1 of 300 rows: about a third of the steps draw no row at all
    model = _fit(epochs=1, batch_size=1, ema_decay=0.9)
    assert model.privacy_["steps"] == 300
    assert all(torch.isfinite(p).all() for p in model.denoiser_.parameters())
    assert len(model.sample(5, random_state=0)) == 5


def test_refuses_path_and_bad_params(tmp_path):
    with pytest.raises(ValueError, match="in-memory DataFrame"):
        DiffusionSynthesizer(epsilon=1.0).fit(tmp_path / "table.parquet")
    with pytest.raises(ValueError, match="max_grad_norm"):
        _fit(max_grad_norm=0)
    with pytest.raises(ValueError, match="max_grad_norm"):
        _fit(max_grad_norm=True)
    with pytest.raises(ValueError, match="epsilon"):
        _fit(epsilon=-1.0)
    with pytest.raises(ValueError, match="delta"):
        DiffusionSynthesizer(delta=1e-6).fit(_frame())
    with pytest.raises(ValueError, match="domain"):
        DiffusionSynthesizer(domain=PUBLIC).fit(_frame())


def test_non_dp_fit_has_no_privacy_report():
    model = _fit(epsilon=None, domain=None, epochs=1)
    assert not hasattr(model, "privacy_")
    assert DiffusionSynthesizer.from_preset("gpu", epsilon=2.0).epsilon == 2.0


# -- the per-row loss -------------------------------------------------------------------------
def _layout_and_X(n=24):
    df = _frame(n, seed=3)
    enc = TableEncoder(numerical="quantile", categorical="onehot").fit(df, Schema.detect(df))
    Z = enc.transform(df)
    layout = process.Layout.from_spans(enc.spans, Z.shape[1])
    return enc, layout, torch.from_numpy(process.to_model(Z, layout))


def _denoiser(layout, seed=0):
    den = process.MixedDenoiser(MLPDenoiser(layout.dim, hidden=16, n_layers=1), layout)
    init_parameters(den, torch.Generator().manual_seed(seed))
    with torch.no_grad():  # a nonzero output layer: every weight gets a gradient
        den.network.out[-1].weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
    return den


_MASKED = process.NoiseSettings(cond_prob=0.6)


def test_row_losses_do_not_couple_rows():
    _, layout, X = _layout_and_X()
    den = _denoiser(layout)
    gen = torch.Generator().manual_seed(0)
    sigma, noise, mask = process.draw_training_noise(
        den, X, gen, process.NoiseSettings(cond_prob=0.6)
    )
    assert mask is not None and mask.any() and (~mask).any()
    batch = process.row_losses(den, X, sigma, noise, mask)
    alone = torch.cat(
        [
            process.row_losses(
                den, X[i : i + 1], sigma[i : i + 1], noise[i : i + 1], mask[i : i + 1]
            )
            for i in range(len(X))
        ]
    )
    torch.testing.assert_close(batch, alone)
    # the DP loss is their mean, with the same draws as the ordinary loss
    dp = process.private_training_loss(den, X, torch.Generator().manual_seed(0), _MASKED)
    torch.testing.assert_close(dp, alone.mean())
    # the ordinary loss normalises over the batch: with masks it is not that mean (so the
    # check above can tell a batch-coupled loss apart) ...
    ordinary = process.training_loss(den, X, torch.Generator().manual_seed(0), _MASKED)
    assert not torch.allclose(ordinary, alone.mean())
    # ... and without masks it is
    no_mask = process.training_loss(den, X, torch.Generator().manual_seed(2))
    per_row = process.private_training_loss(den, X, torch.Generator().manual_seed(2))
    torch.testing.assert_close(no_mask, per_row)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_opacus_per_sample_gradients_are_the_rows_own_gradients():
    from opacus import GradSampleModule

    _, layout, X = _layout_and_X(8)
    den = _denoiser(layout)
    sigma, noise, mask = process.draw_training_noise(
        den, X, torch.Generator().manual_seed(0), process.NoiseSettings(cond_prob=0.5)
    )
    wrapped = GradSampleModule(den)  # hooks on the Linear layers of den
    process.row_losses(den, X, sigma, noise, mask).mean().backward()
    params = [p for p in den.parameters() if p.requires_grad]
    per_sample = [p.grad_sample.clone() for p in params]
    wrapped._close()
    for i in range(len(X)):
        row = process.row_losses(
            den, X[i : i + 1], sigma[i : i + 1], noise[i : i + 1], mask[i : i + 1]
        )
        grads = torch.autograd.grad(row.sum(), params)
        for g, gs in zip(grads, per_sample):
            torch.testing.assert_close(gs[i], g, rtol=1e-4, atol=1e-6)


def test_empty_batch_loss_is_zero_and_differentiable():
    _, layout, X = _layout_and_X()
    den = _denoiser(layout)
    loss = process.private_training_loss(
        den, X[:0], torch.Generator().manual_seed(0), process.NoiseSettings(cond_prob=0.3)
    )
    assert float(loss.detach()) == 0.0
    loss.backward()


def test_public_prior_logits_come_from_the_released_encoder_state():
    enc, layout, _ = _layout_and_X()
    logits = process.public_prior_logits(enc, layout)
    for span in enc.spans:
        if span.kind == "softmax":
            freq = np.asarray(enc.encoders_[span.column].frequencies_)
            np.testing.assert_allclose(np.exp(logits[span.start : span.stop]), freq, rtol=1e-5)
        elif span.kind == "binary":
            rate = enc.encoders_[span.column].missing_.rate_
            assert logits[span.start] == pytest.approx(np.log(rate / (1 - rate)), rel=1e-5)
        else:
            assert logits[span.start] == 0.0
    enc.encoders_["job"].frequencies_ = [0.5, 0.5, 0.0]  # released noisy counts can be 0
    assert np.isfinite(process.public_prior_logits(enc, layout)).all()
