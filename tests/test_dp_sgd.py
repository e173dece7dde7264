"""DP-SGD: the accountant against an independent computation, and the DP VAE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln, logsumexp

import tabgen

pytest.importorskip("opacus")


# -- an independent RDP accountant (Mironov, Talwar & Zhang 2019) ------------------------------
def rdp_subsampled_gaussian(q: float, sigma: float, alpha: int) -> float:
    """RDP of order ``alpha`` (integer >= 2) of one Poisson-subsampled Gaussian step:
    ``log(sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2 - k) / (2 sigma^2))) / (a - 1)``."""
    k = np.arange(alpha + 1)
    log_binom = gammaln(alpha + 1) - gammaln(k + 1) - gammaln(alpha - k + 1)
    terms = (
        log_binom + (alpha - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2 * sigma**2)
    )
    return float(logsumexp(terms)) / (alpha - 1)


def epsilon_from_rdp(q, sigma, steps, delta, orders=range(2, 65)) -> float:
    """``min_a T * RDP(a) + log((a-1)/a) - (log(delta) + log(a)) / (a-1)`` (the improved
    conversion of Balle et al. 2020, which Opacus also uses)."""
    best = math.inf
    for a in orders:
        rdp = steps * rdp_subsampled_gaussian(q, sigma, a)
        eps = rdp + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
        best = min(best, eps)
    return best


def test_opacus_rdp_accountant_matches_independent_computation():
    from opacus.accountants import RDPAccountant

    q, sigma, steps, delta = 0.01, 1.1, 1000, 1e-5
    mine = epsilon_from_rdp(q, sigma, steps, delta)
    acc = RDPAccountant()
    acc.history = [(sigma, q, steps)]
    same_orders = acc.get_epsilon(delta, alphas=list(range(2, 65)))
    assert same_orders == pytest.approx(mine, rel=1e-6)
    # with Opacus' default (finer, fractional) orders the bound can only be tighter, slightly
    default = acc.get_epsilon(delta)
    assert default <= mine + 1e-9
    assert default >= 0.9 * mine
    # sanity of the value itself for this classic setting (Abadi et al.'s regime: eps ~ 1-2)
    assert 0.5 < mine < 3.0


def test_independent_rdp_reduces_to_gaussian_without_subsampling():
    # q = 1: the Gaussian mechanism, RDP(alpha) = alpha / (2 sigma^2) exactly
    for a in (2, 5, 10):
        assert rdp_subsampled_gaussian(1.0 - 1e-15, 2.0, a) == pytest.approx(a / 8, rel=1e-6)


# -- the DP VAE -------------------------------------------------------------------------------
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
        "hidden": 16,
        "latent_dim": 4,
        "n_layers": 1,
        "domain": PUBLIC,
        "random_state": 0,
    }
    params.update(kw)
    return tabgen.VAESynthesizer(**params).fit(_frame())


@pytest.fixture(scope="module")
def dp_vae():
    return _fit()


def test_dp_vae_reports_its_guarantee(dp_vae):
    p = dp_vae.privacy_
    assert p["epsilon"] <= 3.0 * 1.01
    assert p["epsilon_sgd"] <= p["target_epsilon_sgd"] * 1.01
    assert p["epsilon_domain"] == 0.0  # the declared domain covers every column
    assert p["epsilon_basic_composition"] == pytest.approx(
        p["epsilon_domain"] + p["epsilon_marginals"] + p["epsilon_sgd"]
    )
    # the total composes DP-SGD with the discrete Laplace marginals in RDP, checked against
    # the independent accountant: an eps-DP step adds min(eps, a eps^2 / 2) at order a
    eps_m = p["epsilon_marginals"]
    mine_total = math.inf
    for a in range(2, 65):
        rdp = p["steps"] * rdp_subsampled_gaussian(p["sample_rate"], p["noise_multiplier"], a)
        rdp += min(eps_m, a * eps_m**2 / 2)
        d = p["delta_sgd"]
        mine_total = min(
            mine_total, rdp + math.log((a - 1) / a) - (math.log(d) + math.log(a)) / (a - 1)
        )
    assert p["epsilon_rdp"] <= mine_total + 1e-9 and p["epsilon_rdp"] >= 0.9 * mine_total
    assert p["epsilon_rdp"] < p["epsilon_basic_composition"]  # tighter than adding the epsilons
    assert p["epsilon"] == p["epsilon_rdp"] and "RDP" in p["composition"]
    assert "_rdp" not in p and "os.urandom" in p["noise"] and "4 draws" in p["noise"]
    assert p["delta"] == pytest.approx(1e-5)  # min(1e-5, 1/(300*sqrt(300))=1.9e-4)
    assert p["accountant"] == "opacus rdp" and p["max_grad_norm"] == 1.0
    assert p["sample_rate"] == pytest.approx(50 / 300)
    assert p["steps"] == 2 * 6
    assert p["noise_multiplier"] > 0.5
    # the reported epsilon agrees with an independent accountant for its own settings
    mine = epsilon_from_rdp(p["sample_rate"], p["noise_multiplier"], p["steps"], p["delta_sgd"])
    assert p["epsilon_sgd"] <= mine + 1e-9 and p["epsilon_sgd"] >= 0.9 * mine
    assert "covers" in p


def test_dp_vae_samples_conditions_and_round_trips(dp_vae, tmp_path):
    out = dp_vae.sample(40, random_state=1)
    assert list(out.columns) == ["age", "x", "job"] and len(out) == 40
    assert out["age"].dropna().between(18, 75).all()
    assert set(out["job"].dropna()) <= {"a", "b", "c"}
    # no column has a missing cell, but missing rates are released with (secret) noise: only
    # when a column's rate came out above 0 may the model emit a missing value there
    for column in ("age", "job"):
        if not dp_vae.encoder_.encoders_[column].missing_.enabled_:
            assert out[column].notna().all(), column
    rows = dp_vae.sample(10, conditions={"job": "c"}, random_state=2)
    assert (rows["job"] == "c").all()
    dp_vae.save(tmp_path / "v.tabgen")
    back = tabgen.load(tmp_path / "v.tabgen")
    assert back.privacy_ == dp_vae.privacy_
    pd.testing.assert_frame_equal(
        back.sample(15, random_state=3), dp_vae.sample(15, random_state=3)
    )


def test_dp_vae_noise_is_secret_and_the_rest_follows_the_seed(dp_vae, pinned_dp_noise):
    # the fixture dp_vae was fitted with secret noise: a refit with the same seed differs
    again = _fit()
    assert not again.sample(20, random_state=4).equals(dp_vae.sample(20, random_state=4))
    # with the noise pinned, everything else is determined by random_state
    pd.testing.assert_frame_equal(
        _fit().sample(20, random_state=4), again.sample(20, random_state=4)
    )


@pytest.mark.parametrize("rows", [750, 930])
def test_noise_is_calibrated_for_the_steps_the_loader_yields(rows):
    """Batches of 10 over 3 epochs: 75 Poisson steps an epoch from 750 rows (Opacus' own
    epoch-based calibration counts int(3 / (1 / 75)) = 224 steps), 92 from 930 rows (the
    sampler's int(1 / (1 / 93))); the spent epsilon stays just within the target."""
    import torch
    from opacus.accountants import RDPAccountant

    from tabgen.privacy.dpsgd import DPSGDSettings, make_private

    module = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    settings = DPSGDSettings(epsilon=2.0, delta=1e-5, max_grad_norm=1.0, batch_size=10, epochs=3)
    run = make_private(module, opt, torch.zeros(rows, 3), settings)
    per_epoch = sum(1 for _ in run.loader)
    assert per_epoch == len(run.loader) == {750: 75, 930: 92}[rows]
    sigma, q = run.optimizer.noise_multiplier, run.loader.sample_rate
    accountant = RDPAccountant()
    accountant.history = [(sigma, q, 3 * per_epoch)]
    assert 2.0 - 0.02 < accountant.get_epsilon(delta=1e-5) <= 2.0
    accountant.history = [(sigma * 0.98, q, 3 * per_epoch)]  # the smallest noise that fits
    assert accountant.get_epsilon(delta=1e-5) > 2.0


def test_more_budget_means_less_noise():
    low = _fit(epsilon=1.0, epochs=1).privacy_["noise_multiplier"]
    high = _fit(epsilon=8.0, epochs=1).privacy_["noise_multiplier"]
    assert high < low


def test_dp_vae_validates_params():
    with pytest.raises(ValueError, match="max_grad_norm"):
        _fit(max_grad_norm=0)
    with pytest.raises(ValueError, match="epsilon"):
        _fit(epsilon=-1.0)
    with pytest.raises(ValueError, match="delta"):
        tabgen.VAESynthesizer(delta=1e-6).fit(_frame())


def test_every_builtin_model_has_a_dp_mode_and_others_are_refused():
    from tabgen.privacy import DP_SYNTHESIZERS, check_dp_support

    for name in DP_SYNTHESIZERS:
        check_dp_support(getattr(tabgen, name)())

    class NoPrivacy(tabgen.GaussianCopulaSynthesizer):  # a user model without epsilon=
        def __init__(self, *, random_state=None):
            super().__init__(random_state=random_state)

    with pytest.raises(ValueError, match=r"no differentially private mode.*VAESynthesizer"):
        check_dp_support(NoPrivacy())


def test_csprng_gaussian_has_the_right_moments_and_sums_four_draws():
    from tabgen.privacy.dpsgd import csprng_gaussian

    x = csprng_gaussian(200_000, 1.0).numpy()
    assert x.shape == (200_000,) and x.dtype == np.float64
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1.0) < 0.01
    assert abs(np.mean(x**4) / np.mean(x**2) ** 2 - 3.0) < 0.1  # Gaussian kurtosis
    assert abs(csprng_gaussian(50_000, 3.0).std().item() / 3.0 - 1.0) < 0.02
    # each value is half the sum of four Box-Muller normals built from the bytes given
    stream = np.random.default_rng(7).bytes(16 * 2 * 3)
    words = np.frombuffer(stream, dtype=np.uint64) >> np.uint64(11)
    u = (words.astype(np.float64) + 1.0) / 2.0**53
    r, t = np.sqrt(-2 * np.log(u[:6])), 2 * np.pi * u[6:]
    z = np.concatenate([r * np.cos(t), r * np.sin(t)]).reshape(4, 3)
    got = csprng_gaussian(3, 2.0, source=lambda k: stream[:k])
    np.testing.assert_allclose(got.numpy(), z.sum(axis=0), rtol=1e-12)


def _private_linear(seed):
    """A Linear(500, 500) made private (250 500 weights), its summed gradient zero: one
    ``add_noise`` leaves pure noise in ``grad``."""
    import torch

    from tabgen.privacy.dpsgd import DPSGDSettings, make_private

    torch.manual_seed(seed)
    module = torch.nn.Linear(500, 500)
    run = make_private(
        module,
        torch.optim.SGD(module.parameters(), lr=0.1),
        torch.zeros(100, 500),
        DPSGDSettings(epsilon=3.0, delta=1e-5, max_grad_norm=2.0, batch_size=10, epochs=1),
    )
    for p in run.optimizer.params:
        p.summed_grad = torch.zeros_like(p)
    return run


def test_gradient_noise_comes_from_the_os_csprng_not_torch():
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    first = _private_linear(0)
    torch.manual_seed(0)
    first.optimizer.add_noise()
    assert torch.equal(torch.rand(3), expected)  # torch's global generator untouched
    second = _private_linear(0)  # the same torch seed: different noise
    torch.manual_seed(0)
    second.optimizer.add_noise()
    weight = next(p for p in first.optimizer.params if p.dim() == 2)
    other = next(p for p in second.optimizer.params if p.dim() == 2)
    assert not torch.equal(weight.grad, other.grad)
    # std = noise_multiplier * max_grad_norm, as Opacus adds it
    std = first.optimizer.noise_multiplier * 2.0
    noise = weight.grad.flatten().double()
    assert weight.grad.dtype == torch.float32 and noise.numel() == 250_000
    assert abs(noise.mean().item()) < 0.01 * std and abs(noise.std().item() / std - 1) < 0.01
    with pytest.raises(ValueError, match="zero_grad"):  # never noise one gradient twice
        first.optimizer.add_noise()


def test_pinned_noise_source_reproduces_the_noise(pinned_dp_noise):
    a, b = _private_linear(0), _private_linear(1)
    a.optimizer.add_noise()
    b.optimizer.add_noise()
    for p, q in zip(a.optimizer.params, b.optimizer.params):
        assert p.grad.equal(q.grad)
