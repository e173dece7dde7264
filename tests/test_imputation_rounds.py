"""The chained imputer's refinement rounds: MICE-style refits on the completed table, a
randomised-trees arm, early stopping on held-out cells, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgen.pipelines import SyntheticImputer, _rounds
from tabgen.pipelines._chained import ChainedModel


@pytest.fixture(scope="module")
def related():
    """Four numbers driven by one factor (non-linearly for two of them) and a category,
    35 % of every column hidden: the rows that miss a column often miss its best
    predictor too."""
    rng = np.random.default_rng(5)
    n = 400
    f = rng.normal(size=n)
    truth = pd.DataFrame(
        {
            "a": f + rng.normal(scale=0.3, size=n),
            "b": f + rng.normal(scale=0.3, size=n),
            "c": np.tanh(2 * f) + rng.normal(scale=0.15, size=n),
            "d": np.abs(f) + rng.normal(scale=0.2, size=n),
            "g": np.where(f > 0.3, "hi", np.where(f < -0.3, "lo", "mid")),
        }
    )
    holes = truth.mask(rng.random(truth.shape) < 0.35)
    return truth, holes


def _rmse(out, truth, holes):
    errs = []
    for c in ("a", "b", "c", "d"):
        m = holes[c].isna()
        errs.append(np.sqrt(((out.loc[m, c] - truth.loc[m, c]) ** 2).mean()) / truth[c].std())
    return float(np.mean(errs))


def test_rounds_are_kept_only_where_they_lower_the_held_out_error(related):
    truth, holes = related
    imp = SyntheticImputer(random_state=0).fit(holes)
    rounds = imp.chained_.rounds
    assert 1 <= len(rounds) <= imp.max_rounds
    for kept in rounds:
        for model in kept.values():
            assert model["error"] < model["previous"] * (1 - _rounds.TOL)
            assert model["weights"] and set(model["weights"]) <= set(_rounds.ARMS)
            assert sum(model["weights"].values()) == pytest.approx(1.0)
    first = SyntheticImputer(random_state=0, max_rounds=0).fit(holes)
    assert first.chained_.rounds == []
    # the rounds refine the first pass: lower error on the hidden numbers
    assert _rmse(imp.transform(holes), truth, holes) < _rmse(first.transform(holes), truth, holes)


def test_max_rounds_zero_is_the_first_pass_and_bad_values_are_refused(related):
    _, holes = related
    imp = SyntheticImputer(random_state=0, max_rounds=0).fit(holes)
    model = imp.chained_
    Z, _ = model.encode(holes[model.names])
    np.testing.assert_array_equal(model.fill(Z), model.fill_first(Z))
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match=r"max_rounds must be a non-negative integer"):
            SyntheticImputer(max_rounds=bad).fit(holes)


def test_forest_arm_is_a_candidate_and_arms_can_be_restricted(related):
    _, holes = related
    kinds = {"a": "num", "b": "num", "c": "num", "d": "num", "g": "cat"}
    full = ChainedModel(kinds, seed=1, max_rounds=2).fit(holes)
    used = {arm for kept in full.rounds for m in kept.values() for arm in m["weights"]}
    assert "forest" in used  # |f| and tanh(2f): randomised trees earn a weight somewhere
    for kept in full.rounds:
        for m in kept.values():
            assert all(arm in m for arm in m["weights"])  # the fitted models are kept
            assert not set(_rounds.ARMS) - set(m["weights"]) & set(m)  # unused ones dropped
    linear = ChainedModel(kinds, seed=1, max_rounds=2, arms=("linear",)).fit(holes)
    assert {arm for kept in linear.rounds for m in kept.values() for arm in m["weights"]} <= {
        "linear"
    }


def test_same_seed_same_completion_and_new_rows_replay_the_rounds(related):
    _, holes = related
    a = SyntheticImputer(random_state=7, max_rounds=2).fit(holes.iloc[:300])
    b = SyntheticImputer(random_state=7, max_rounds=2).fit(holes.iloc[:300])
    new = holes.iloc[300:]
    pd.testing.assert_frame_equal(a.transform(new), b.transform(new))
    other = SyntheticImputer(random_state=8, max_rounds=2).fit(holes.iloc[:300]).transform(new)
    assert not np.allclose(other[["a", "b", "c", "d"]], a.transform(new)[["a", "b", "c", "d"]])
    # new rows go through the kept rounds, not only the first pass
    model = a.chained_
    Z, _ = model.encode(new[model.names])
    assert not np.allclose(model.fill(Z)[np.isnan(Z)], model.fill_first(Z)[np.isnan(Z)])
    out = a.transform(new)
    assert out.notna().all().all()
    assert set(out["g"]) <= {"hi", "lo", "mid"}
    # draws stay proper and reproducible with the rounds on
    d1 = a.transform_multiple(new, m=2, random_state=3)
    d2 = b.transform_multiple(new, m=2, random_state=3)
    pd.testing.assert_frame_equal(d1[1], d2[1])
    miss = new["a"].isna()
    assert not np.allclose(d1[0].loc[miss, "a"], d1[1].loc[miss, "a"])


def test_draws_come_from_the_first_pass_whatever_the_rounds(related):
    """Multiple imputation stays the first pass's sequential draws (with held-out residuals):
    the rounds sharpen the point estimate only, so the draws' coverage does not move."""
    _, holes = related
    part = holes.iloc[:250]
    with_rounds = SyntheticImputer(random_state=2, max_rounds=1).fit(part)
    without = SyntheticImputer(random_state=2, max_rounds=0).fit(part)
    assert with_rounds.chained_.rounds
    a = with_rounds.transform_multiple(part, m=2, random_state=4)
    b = without.transform_multiple(part, m=2, random_state=4)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
