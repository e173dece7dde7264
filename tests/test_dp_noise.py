"""Exact discrete DP noise (discrete Laplace / Gaussian on a secure bit source) and the zCDP
accountant: distributions checked statistically with fixed keys, integer outputs, no float
sampler on the DP path, accountant monotone and tighter than basic composition."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare

import tabgen
from tabgen.privacy import noise
from tabgen.privacy._mechanisms import laplace_counts
from tabgen.privacy.accounting import pure_rho, zcdp_budget, zcdp_epsilon
from tabgen.privacy.copula import correlation_rho
from tabgen.privacy.noise import (
    SecureRandom,
    bernoulli_exp,
    discrete_gaussian,
    discrete_laplace,
    laplace_scale,
)


def test_secure_random_is_uniform_keyed_and_reproducible_only_with_a_key():
    r = SecureRandom(key=11)
    draws = np.array([r.randbelow(7) for _ in range(7000)])
    assert chisquare(np.bincount(draws, minlength=7)).pvalue > 1e-3
    assert [SecureRandom(key=2).randbits(64) for _ in range(2)] == [
        SecureRandom(key=2).randbits(64)
    ] * 2
    assert SecureRandom(key=2).randbits(64) != SecureRandom(key=3).randbits(64)
    assert SecureRandom().randbits(128) != SecureRandom().randbits(128)  # OS entropy


@pytest.mark.parametrize("gamma", [Fraction(3, 10), Fraction(17, 10)])
def test_bernoulli_exp_rate(gamma):
    r = SecureRandom(key=5)
    n = 6000
    hits = sum(bernoulli_exp(gamma, r) for _ in range(n))
    p = math.exp(-float(gamma))
    assert abs(hits / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_discrete_laplace_moments_and_tails():
    r = SecureRandom(key=1)
    scale = Fraction(3, 2)
    y = np.array([discrete_laplace(scale, r) for _ in range(8000)])
    assert y.dtype.kind == "i"
    p = math.exp(-1 / 1.5)
    var = 2 * p / (1 - p) ** 2  # variance of the discrete Laplace
    assert abs(y.mean()) < 4 * math.sqrt(var / len(y))
    assert y.var() == pytest.approx(var, rel=0.08)
    # pmf P(y) = (1-p)/(1+p) p^|y| on -4..4, the rest pooled
    support = np.arange(-4, 5)
    pmf = (1 - p) / (1 + p) * p ** np.abs(support)
    observed = np.array([(y == k).sum() for k in support] + [(np.abs(y) > 4).sum()])
    expected = np.append(pmf, 1 - pmf.sum()) * len(y)
    assert chisquare(observed, expected).pvalue > 1e-3


def test_discrete_gaussian_moments_and_pmf():
    r = SecureRandom(key=2)
    sigma2 = Fraction(9, 4)
    y = np.array([discrete_gaussian(sigma2, r) for _ in range(6000)])
    assert y.dtype.kind == "i"
    support = np.arange(-12, 13)
    weights = np.exp(-(support**2) / (2 * 2.25))
    pmf = weights / weights.sum()
    var = float((pmf * support**2).sum())
    assert abs(y.mean()) < 4 * math.sqrt(var / len(y))
    assert y.var() == pytest.approx(var, rel=0.08)
    inner = np.arange(-4, 5)
    observed = np.array([(y == k).sum() for k in inner] + [(np.abs(y) > 4).sum()])
    expected = np.append(pmf[8:17], 1 - pmf[8:17].sum()) * len(y)
    assert chisquare(observed, expected).pvalue > 1e-3


def test_laplace_scale_never_spends_more_than_asked():
    for eps in (0.013, 0.1, 1 / 3, 2.0, 7.77):
        t = laplace_scale(eps)
        assert 1 / t <= Fraction(eps)
        assert float(1 / t) == pytest.approx(eps, rel=1e-5)


def test_counts_get_exact_integer_noise():
    counts = np.array([0, 5, 100, 7])
    noisy = laplace_counts(counts, 0.5, SecureRandom(key=4))
    assert np.array_equal(noisy, np.round(noisy))
    assert not np.array_equal(noisy, counts)
    with pytest.raises(ValueError, match="integer counts"):
        laplace_counts(np.array([0.5]), 1.0, SecureRandom(key=4))


def test_dp_copula_draws_only_discrete_noise(monkeypatch):
    calls = {"laplace": 0, "gaussian": 0}
    real_lap, real_gauss = noise.discrete_laplace, noise.discrete_gaussian

    def lap(scale, rng):
        calls["laplace"] += 1
        assert isinstance(rng, SecureRandom)
        return real_lap(scale, rng)

    def gauss(sigma2, rng):
        calls["gaussian"] += 1
        return real_gauss(sigma2, rng)

    monkeypatch.setattr(noise, "discrete_laplace", lap)
    monkeypatch.setattr(noise, "discrete_gaussian", gauss)

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(50, 10, 600).round(1), "c": rng.choice(list("abc"), 600)})
    model = tabgen.GaussianCopulaSynthesizer(epsilon=1.0, random_state=0).fit(df)
    assert calls["laplace"] > 50 and calls["gaussian"] >= 1
    p = model.privacy_
    assert p["epsilon"] <= 1.0 + 1e-9 and "zCDP" in p["composition"]
    assert "discrete" in p["mechanism"] and "CSPRNG" in p["noise"]


def test_no_float_noise_sampler_in_the_non_sgd_dp_code():
    import inspect

    from tabgen.privacy import _fit, _mechanisms, copula, domain

    for module in (_fit, _mechanisms, copula, domain, noise):
        source = inspect.getsource(module)
        for sampler in (".laplace(", ".normal(", ".standard_normal(", ".exponential("):
            assert sampler not in source, (module.__name__, sampler)


# -- accountant --------------------------------------------------------------------------------
def test_zcdp_conversion_is_monotone_and_beats_the_classic_bound():
    rhos = [0.01, 0.1, 0.5, 2.0]
    eps = [zcdp_epsilon(r, 1e-6) for r in rhos]
    assert eps == sorted(eps) and len(set(eps)) == len(eps)
    assert zcdp_epsilon(0.5, 1e-8) > zcdp_epsilon(0.5, 1e-4)
    for r in rhos:
        classic = r + 2 * math.sqrt(r * math.log(1e6))
        assert zcdp_epsilon(r, 1e-6) <= classic
    rho = zcdp_budget(2.0, 1e-6)
    assert zcdp_epsilon(rho, 1e-6) <= 2.0 < zcdp_epsilon(rho * 1.001, 1e-6)


def test_zcdp_composition_tighter_than_basic_for_many_mechanisms():
    k, eps, delta = 50, 0.1, 1e-6
    composed = zcdp_epsilon(k * pure_rho(eps), delta)
    assert composed < 0.8 * (k * eps)
    # but never claims less than one mechanism alone would
    assert composed > eps


def test_correlation_budget_keeps_the_total_and_never_gets_less_than_basic():
    budget = {"epsilon": 3.0, "delta": 1e-7, "epsilon_model": 1.5, "delta_model": 0.9e-7}
    ledger = {"pure_epsilons": [0.05] * 12, "thresholded_epsilon": 0.6, "thresholded_delta": 1e-8}
    rho, acc = correlation_rho(budget, ledger)
    assert acc["epsilon"] <= 3.0 + 1e-9
    assert rho >= zcdp_budget(1.5, 0.9e-7)
    assert acc["epsilon_basic_composition"] >= acc["epsilon"]
    # more correlation budget than basic composition gives it: the accountant tightens
    assert rho > 1.2 * zcdp_budget(1.5, 0.9e-7)
