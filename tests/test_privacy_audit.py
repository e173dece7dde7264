"""The one-run canary audit's lower bound (benchmarks/bench_dp_audit.py, issue #27), by hand."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_dp_audit import binomial_epsilon_lb


def test_all_guesses_right_give_the_hand_computed_bound():
    # 20 of 20 right: P[Bin(20, p) >= 20] = p^20 < beta  <=>  p < beta^(1/20), with
    # p = e^eps / (1 + e^eps): the bound is the log-odds of beta^(1/20)
    beta = 0.05 / 3
    q = beta ** (1 / 20)
    assert binomial_epsilon_lb(20, 20, beta) == pytest.approx(math.log(q / (1 - q)), abs=1e-6)


def test_chance_level_guessing_proves_nothing_and_more_right_proves_more():
    assert binomial_epsilon_lb(10, 20, 0.05) == 0.0  # half right: what eps = 0 gives
    assert binomial_epsilon_lb(0, 0, 0.05) == 0.0
    bounds = [binomial_epsilon_lb(k, 40, 0.05) for k in (25, 30, 35, 40)]
    assert bounds == sorted(bounds) and bounds[0] < bounds[-1]
    # an eps-DP mechanism gets W right with probability below beta only beyond the bound
    from scipy.stats import binom

    eps = bounds[1]
    p = 1 / (1 + math.exp(-eps))
    assert binom.sf(30 - 1, 40, p) == pytest.approx(0.05, rel=1e-3)
