"""Reversible encoders: exact round trips, layout, errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from tabgen.encoders import PiecewiseCDF, TableEncoder
from tabgen.schema import Schema, check_frame

from .conftest import shared_datasets

STRATEGIES = [(n, c) for n in ("quantile", "standard", "minmax") for c in ("onehot", "ordinal")]
STRATEGIES.append(("mixed", "onehot"))  # heavy atoms as categories beside a slot


def _round_trip(df, numerical, categorical):
    schema = Schema.detect(check_frame(df))
    enc = TableEncoder(numerical=numerical, categorical=categorical).fit(df, schema)
    Z = enc.transform(df)
    assert Z.shape == (len(df), enc.output_dim_)
    back = enc.inverse_transform(Z)
    restored = TableEncoder.from_state(json.loads(json.dumps(enc.get_state())))
    return enc, back, restored.inverse_transform(Z)


@pytest.mark.parametrize(("numerical", "categorical"), STRATEGIES)
def test_mixed_frame_round_trip(mixed_frame, numerical, categorical):
    _, back, back2 = _round_trip(mixed_frame, numerical, categorical)
    expected = mixed_frame.copy()
    expected["row_id"] = np.arange(len(expected)) + expected["row_id"].max() + 1  # regenerated
    pd.testing.assert_frame_equal(back, expected, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(back2, expected, check_exact=False, rtol=1e-9)


def _shared_files():
    out = []
    for _name, meta in shared_datasets().items():
        out.extend(f for f in meta["files"].values())
    return out or ["(shared data absent)"]


@pytest.mark.parametrize("filename", _shared_files())
def test_round_trip_on_shared_datasets(shared_data_dir, filename):
    df = pd.read_csv(shared_data_dir / filename)
    for numerical, categorical in (("quantile", "onehot"), ("standard", "ordinal")):
        _, back, back2 = _round_trip(df, numerical, categorical)
        pd.testing.assert_frame_equal(back, df, check_exact=False, rtol=1e-9)
        pd.testing.assert_frame_equal(back2, df, check_exact=False, rtol=1e-9)


def test_layout_spans(mixed_frame):
    enc, _, _ = _round_trip(mixed_frame, "quantile", "onehot")
    spans = {(s.column, s.role): s for s in enc.spans_}
    assert spans[("cat", "value")].kind == "softmax" and spans[("cat", "value")].width == 3
    assert spans[("num", "value")].kind == "continuous"
    assert spans[("num_nan", "missing")].kind == "binary"
    assert ("num", "missing") not in spans
    assert not enc.column_spans("row_id") and not enc.column_spans("const")
    # spans tile the matrix without gaps
    starts = sorted((s.start, s.stop) for s in enc.spans_)
    assert starts[0][0] == 0 and starts[-1][1] == enc.output_dim_
    assert all(a[1] == b[0] for a, b in itertools.pairwise(starts))


def test_quantile_encoding_is_standard_normal():
    x = pd.DataFrame({"v": np.random.default_rng(0).lognormal(size=5000)})
    enc = TableEncoder().fit(x, Schema.detect(x))
    z = enc.transform(x)[:, 0]
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.03


def test_dequantisation_spreads_atoms_and_decodes_back():
    x = pd.DataFrame({"v": np.r_[np.zeros(900), np.arange(1, 101)]})
    enc = TableEncoder().fit(x, Schema.detect(x))
    z = enc.transform(x, rng=np.random.default_rng(0))[:, 0]
    assert np.unique(z[:900]).size == 900  # spread over the atom's interval
    pd.testing.assert_frame_equal(enc.inverse_transform(z[:, None]), x)


def test_decoded_numbers_are_bounded_and_integers_whole():
    x = pd.DataFrame({"i": np.arange(10, 50)})
    enc = TableEncoder(numerical="standard").fit(x, Schema.detect(x))
    out = enc.inverse_transform(np.array([[-50.0], [50.0], [0.123]]))
    assert out["i"].tolist()[:2] == [10, 49] and out["i"].dtype == np.int64


def test_unseen_category_and_new_missing_values_raise():
    df = pd.DataFrame({"c": ["a", "b"] * 5, "x": np.arange(10.0)})
    enc = TableEncoder().fit(df, Schema.detect(df))
    with pytest.raises(ValueError, match="column 'c' holds the category 'zzz', unseen"):
        enc.transform(pd.DataFrame({"c": ["zzz"], "x": [1.0]}))
    with pytest.raises(ValueError, match="column 'x' has missing values"):
        enc.transform(pd.DataFrame({"c": ["a"], "x": [np.nan]}))
    with pytest.raises(ValueError, match="missing from the data"):
        enc.transform(pd.DataFrame({"c": ["a"]}))


def test_piecewise_cdf_discrete_and_continuous():
    cdf = PiecewiseCDF().fit(np.array([1.0, 1.0, 2.0, 5.0]))
    assert cdf.atom_interval(1.0) == (0.0, 0.5)
    assert cdf.atom_interval(5.0) == (0.75, 1.0)
    assert cdf.ppf(np.array([0.1, 0.6, 0.9])).tolist() == [1.0, 2.0, 5.0]
    cont = PiecewiseCDF(max_knots=20).fit(np.random.default_rng(0).normal(size=1000))
    x = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(cont.ppf(cont.cdf(x)), x, atol=1e-12)


def test_piecewise_cdf_keeps_every_heavy_value_as_an_exact_atom():
    # spikes of 35 %, 6 % and 1.2 % of the rows among 2,000 continuous values, with 100
    # knots: a quantile grid alone would blur the smallest spike into a linear piece; a value
    # below 1 % of the rows (20 of 3,460) stays continuous
    rng = np.random.default_rng(0)
    cont = rng.uniform(0, 10, 2000)
    spikes = np.repeat([0.0, 2.5, 7.25, 5.5], [1200, 200, 40, 20])
    x = rng.permutation(np.concatenate([cont, spikes]))
    cdf = PiecewiseCDF(max_knots=100).fit(x)
    n = x.size
    for value, count in ((0.0, 1200), (2.5, 200), (7.25, 40)):
        a, b = cdf.atom_interval(value)
        assert b - a == pytest.approx(count / n, abs=1e-12)
        assert cdf.ppf(np.array([(a + b) / 2]))[0] == value
    draws = cdf.ppf(rng.random(200_000))
    for value, count in ((0.0, 1200), (2.5, 200), (7.25, 40)):
        assert np.mean(draws == value) == pytest.approx(count / n, abs=0.003)
    # the continuous rows keep their own quantile grid: the CDF is close to the empirical one
    grid = np.linspace(0.55, 9.55, 10)  # off the spikes
    emp = np.searchsorted(np.sort(x), grid, side="right") / n
    np.testing.assert_allclose(cdf.cdf(grid), emp, atol=0.01)
    assert cdf.q_[0] == 0.0 and cdf.q_[-1] == x.max() and cdf.p_[0] == 0.0
    assert np.all(np.diff(cdf.q_) >= 0) and np.all(np.diff(cdf.p_) >= 0)
    assert np.mean(draws == 5.5) < 0.002  # not an atom: on a linear piece
    lo, hi = cdf.atom_interval(cont[0])
    assert lo == hi


def test_values_next_to_an_atom_round_trip_exactly():
    # amounts: a spike at 0, a small atom at 1 (3 of 3,000 rows) and the other values from
    # 2 up: 2 is the smallest non-atom value, with no probability between it and the atom
    rng = np.random.default_rng(2)
    others = rng.choice(np.arange(3, 60_000), 2_420, replace=False)
    x = np.concatenate([np.zeros(575), [1, 1, 1, 2, 2], others]).astype("int64")
    df = pd.DataFrame({"amount": rng.permutation(x)})
    _, back, back2 = _round_trip(df, "quantile", "onehot")
    pd.testing.assert_frame_equal(back, df)
    pd.testing.assert_frame_equal(back2, df)


def test_piecewise_cdf_without_heavy_values_is_the_quantile_grid():
    x = np.random.default_rng(1).normal(size=3000)
    x[:2] = x[2]  # three equal values: below 1/max_knots of the rows, no atom
    cdf = PiecewiseCDF(max_knots=50).fit(x)
    np.testing.assert_array_equal(cdf.p_, np.linspace(0.0, 1.0, 50))
    np.testing.assert_array_equal(cdf.q_, np.quantile(x, np.linspace(0.0, 1.0, 50)))


def test_encoder_parameter_validation():
    with pytest.raises(ValueError, match="numerical must be one of"):
        TableEncoder(numerical="log")
    with pytest.raises(ValueError, match="categorical must be one of"):
        TableEncoder(categorical="hash")


def test_mixed_type_object_column_round_trips_with_python_types():
    df = pd.DataFrame({"m": [1, "a", 2.5, None, True, "a", 1, 2.5] * 5})
    for categorical in ("onehot", "ordinal"):
        enc = TableEncoder(categorical=categorical).fit(df, Schema.detect(check_frame(df)))
        back = enc.inverse_transform(enc.transform(df))
        assert back["m"].dtype == object
        for got, want in zip(back["m"], df["m"]):
            if want is None:
                assert pd.isna(got)
            else:
                assert got == want and type(got) is type(want)
