"""The differentially private GAN: only the critic reads the rows, trained by DP-SGD."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen.synthesizers.gan import private
from tabgen.synthesizers.gan.sampler import ConditionSampler

pytest.importorskip("opacus")


def _frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 70, n)
    job = rng.choice(["a", "b", "c"], n)
    x = rng.normal(0, 1, n) + 2.0 * (job == "b")
    x[:20] = np.nan
    return pd.DataFrame({"age": age, "x": x, "job": job})


PUBLIC = {"age": (18, 75), "x": (-5.0, 6.0), "job": ["a", "b", "c"]}
SMALL = {
    "epsilon": 3.0,
    "epochs": 2,
    "batch_size": 50,
    "embedding_dim": 16,
    "generator_dim": (32,),
    "critic_dim": (32,),
    "domain": PUBLIC,
    "random_state": 0,
}


def _fit(frame=None, **kw):
    params = {**SMALL, **kw}
    return tabgen.GANSynthesizer(**params).fit(_frame() if frame is None else frame)


@pytest.fixture(scope="module")
def dp_gan():
    return _fit()


def test_dp_gan_reports_its_guarantee(dp_gan):
    p = dp_gan.privacy_
    assert p["epsilon"] <= 3.0 * 1.01
    assert p["epsilon_sgd"] <= p["target_epsilon_sgd"] * 1.01
    assert p["epsilon_basic_composition"] == pytest.approx(
        p["epsilon_domain"] + p["epsilon_marginals"] + p["epsilon_sgd"]
    )
    assert p["epsilon"] == min(p["epsilon_rdp"], p["epsilon_basic_composition"])  # RDP total, #27
    assert p["accountant"] == "opacus rdp" and p["max_grad_norm"] == 1.0
    assert p["noise_multiplier"] > 0
    assert p["private_network"] == "critic"
    assert p["sample_rate"] == pytest.approx(50 / 300)
    assert p["steps"] == 2 * 6 == p["generator_steps"]
    assert p["pac"] == 1 and p["loss"] in private.LOSSES
    assert "covers" in p
    assert dp_gan.n_epochs_ == 2
    assert dp_gan.loss_history_ == []  # raw losses read the rows without noise: not kept


def test_critic_steps_do_not_change_the_accounting():
    p = _fit(critic_steps=2).privacy_
    assert p["steps"] == 12 and p["generator_steps"] == 6


def test_pac_is_forced_to_one_in_dp_mode(dp_gan):
    assert dp_gan.pac == 10  # the parameter is left as given...
    assert dp_gan._build_critic().pac == 1  # ...but the private critic scores single rows
    # no row discriminator either: it would read the rows outside the DP accounting
    assert dp_gan.selection == "discriminator" and dp_gan.discriminator_ is None
    # batch_size need not be a multiple of pac in DP mode
    model = _fit(batch_size=45, epochs=1)
    assert model.privacy_["pac"] == 1
    with pytest.raises(ValueError, match="multiple of pac"):
        tabgen.GANSynthesizer(batch_size=45).fit(_frame())


def test_dp_gan_noise_is_secret_and_the_rest_follows_the_seed(dp_gan, pinned_dp_noise):
    again = _fit()  # pinned noise: differs from the fixture's secret noise
    assert not again.sample(30, random_state=4).equals(dp_gan.sample(30, random_state=4))
    pd.testing.assert_frame_equal(
        _fit().sample(30, random_state=4), again.sample(30, random_state=4)
    )


def test_dp_gan_samples_and_conditions(dp_gan):
    out = dp_gan.sample(200, random_state=1)
    assert list(out.columns) == ["age", "x", "job"] and len(out) == 200
    assert out["age"].dropna().between(18, 75).all()
    assert set(out["job"].dropna()) <= {"a", "b", "c"}
    # no column has a missing cell, but missing rates are released with (secret) noise: only
    # when a column's rate came out above 0 may the model emit a missing value there
    for column in ("age", "job"):
        if not dp_gan.encoder_.encoders_[column].missing_.enabled_:
            assert out[column].notna().all(), column
    rows = dp_gan.sample(25, conditions={"job": "c"}, random_state=2)
    assert (rows["job"] == "c").all()


def test_dp_gan_save_load_round_trip(dp_gan, tmp_path):
    dp_gan.save(tmp_path / "g.tabgen")
    back = tabgen.load(tmp_path / "g.tabgen")
    assert back.privacy_ == dp_gan.privacy_
    assert back.layout_.continuous_scale == dp_gan.layout_.continuous_scale > 1
    pd.testing.assert_frame_equal(
        back.sample(20, random_state=3), dp_gan.sample(20, random_state=3)
    )
    pd.testing.assert_frame_equal(
        back.sample(10, conditions={"job": "a"}, random_state=5),
        dp_gan.sample(10, conditions={"job": "a"}, random_state=5),
    )


def test_dp_gan_validates_and_refuses(tmp_path):
    with pytest.raises(ValueError, match="max_grad_norm"):
        _fit(max_grad_norm=0)
    with pytest.raises(ValueError, match="epsilon"):
        _fit(epsilon=-1.0)
    with pytest.raises(ValueError, match="delta"):
        tabgen.GANSynthesizer(delta=1e-6).fit(_frame())
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    with pytest.raises(ValueError, match="in-memory DataFrame"):
        tabgen.GANSynthesizer(**SMALL).fit(path)
    with pytest.raises(ValueError, match="in-memory DataFrame"):
        tabgen.GANSynthesizer(**SMALL).fit(str(path))


def test_only_released_state_outside_dp_sgd(dp_gan):
    enc = dp_gan.encoder_.encoders_
    assert type(enc["x"]).__name__ == "QuantileNormalEncoder"  # not the fitted mixture
    # generation's category law is the released frequencies (times the observed rate)
    j = dp_gan.layout_.category_block("job")
    o, k = dp_gan.layout_.cond_offsets[j], dp_gan.layout_.sizes[j]
    # (a missing slot last, where the released missing rate came out above 0: secret noise)
    missing = enc["job"].missing_
    rate = float(missing.rate_) if missing.enabled_ else 0.0
    expected = (1.0 - rate) * np.asarray(enc["job"].frequencies_, dtype=float)
    if missing.enabled_:
        expected = np.append(expected, rate)
    np.testing.assert_allclose(dp_gan.sampler_.sample_probs_[o : o + k], expected, atol=1e-8)
    # the windows of numeric conditions come from the released CDF
    np.testing.assert_allclose(dp_gan.quantiles_["x"], enc["x"].cdf_.ppf(np.linspace(0, 1, 101)))


def test_real_rows_come_from_poisson_batches_without_penalty(monkeypatch):
    """Real rows are the Poisson batches (never training-by-sampling), each with a condition
    on one of its own categories; there is no gradient penalty (no double backward)."""

    def refuse(*args, **kwargs):
        raise AssertionError("training-by-sampling used in DP mode")

    monkeypatch.setattr(ConditionSampler, "sample_rows", refuse)
    grad = torch.autograd.grad

    def no_double_backward(*args, **kwargs):
        assert not kwargs.get("create_graph"), "gradient penalty used in DP mode"
        return grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", no_double_backward)
    sizes, pairs = [], []
    real_batch = private.PrivateGanTrainer.real_batch

    def spy(self, index):
        out = real_batch(self, index)
        sizes.append(len(index))
        lay = self.layout
        pairs.append((out[:, lay.dense_width : lay.width], out[:, lay.width :]))
        return out

    monkeypatch.setattr(private.PrivateGanTrainer, "real_batch", spy)
    model = _fit(epochs=3)
    assert len(sizes) == model.privacy_["steps"] == 18
    assert len(set(sizes)) > 1  # Poisson: the batch size varies
    assert abs(sum(sizes) - 3 * 300) < 150  # 3 expected passes over 300 rows
    for discrete, cond in pairs:
        assert torch.all(cond.sum(dim=1) == 1)  # one condition per row...
        assert torch.all(discrete[cond > 0] == 1)  # ...on the row's own category


def test_generator_step_leaves_nothing_in_the_critic(monkeypatch):
    """The generator step runs through the critic with Opacus' hooks off: no stored
    activations, per-sample or ordinary gradients are left for the next private step."""
    step = private.PrivateGanTrainer.generator_step
    left = []

    def spy(self):
        out = step(self)
        for m in self.critic.modules():
            left.append(len(getattr(m, "activations", [])))
        for p in self.critic.parameters():
            left.append(int(p.grad is not None or getattr(p, "grad_sample", None) is not None))
            assert p.requires_grad
        return out

    monkeypatch.setattr(private.PrivateGanTrainer, "generator_step", spy)
    _fit(epochs=1)
    assert left and sum(left) == 0


def test_quantile_numbers_are_scaled_into_the_tanh_range(dp_gan):
    lay, enc = dp_gan.layout_, dp_gan.encoder_
    assert lay.continuous_scale == pytest.approx(5.2, abs=0.01)
    Z = enc.transform(_frame().dropna())
    (block,) = [b for b in lay.dense_blocks if b.span.column == "x"]
    slot = block.span.start
    assert np.abs(Z[:, slot]).max() > 1.0  # quantile-normal values: beyond tanh's range
    dense = lay.dense_part(Z)
    assert np.abs(dense).max() <= 1.0
    # expanded and compacted back, the encoder's values come back exactly
    X = lay.expand(torch.as_tensor(dense), torch.as_tensor(lay.codes(Z))).numpy()
    np.testing.assert_allclose(lay.to_encoder(lay.compact(X))[:, slot], Z[:, slot], rtol=1e-6)
    # through sampling: a generator whose head outputs tanh = u gives the value at u * scale
    model = copy.deepcopy(dp_gan)
    decode = enc.encoders_["x"]._inverse
    for u in (-0.95, 0.3, 0.95):
        with torch.no_grad():
            model.generator_.out.weight[block.start] = 0.0
            model.generator_.out.bias[block.start] = float(np.arctanh(u))
        out = model.sample(20, random_state=0)["x"].dropna().to_numpy()
        expected = decode(np.array([[u * lay.continuous_scale]]))[0]
        np.testing.assert_allclose(out, expected, rtol=1e-4)
    # the head's range reaches the tails of the released distribution
    lo, hi = (decode(np.array([[v * lay.continuous_scale]]))[0] for v in (-0.95, 0.95))
    cdf = enc.encoders_["x"].cdf_
    assert lo <= cdf.ppf(0.001) and hi >= cdf.ppf(0.999)


def test_non_dp_mode_is_unchanged():
    model = tabgen.GANSynthesizer(epochs=1, batch_size=100, random_state=0)
    assert model._pac() == 10
    assert model._make_encoder().numerical == "mode_specific"
    model.fit(_frame())
    assert model.layout_.continuous_scale == 1.0 and not hasattr(model, "privacy_")
