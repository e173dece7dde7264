"""Heavy atoms of numeric columns as categories beside a slot (``AtomMixtureEncoder``) and the
diffusion model's ``atoms="mixed"``: encoder round trips, conditions, inpainting, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen import DiffusionSynthesizer
from tabgen.encoders import AtomMixtureEncoder, QuantileNormalEncoder, TableEncoder
from tabgen.encoders.mixed import MAX_ATOMS, MIN_SHARE
from tabgen.schema import Schema
from tabgen.synthesizers.diffusion.slots import condition_slots

SMALL = {"epochs": 30, "batch_size": 128, "hidden": 32, "n_layers": 1, "n_steps": 6}


def _fit(x, **params) -> AtomMixtureEncoder:
    s = pd.Series(x, name="x")
    return AtomMixtureEncoder(**params).fit(s, Schema.detect(s.to_frame())["x"])


def _spiky(n=400, seed=0) -> np.ndarray:
    """Half zeros, a fifth 0.1, the rest continuous in [0.2, 0.9]."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    return np.where(u < 0.5, 0.0, np.where(u < 0.7, 0.1, rng.uniform(0.2, 0.9, n)))


def test_atoms_round_trip_exactly_and_other_values_closely():
    x = _spiky()
    enc = _fit(x)
    assert enc.atoms_.tolist() == [0.0, 0.1]
    assert [s.kind for s in enc.spans] == ["softmax", "continuous"]
    Z = enc.transform(pd.Series(x), rng=np.random.default_rng(1))
    on_atom = np.isin(x, [0.0, 0.1])
    assert (Z[on_atom, 2] == 0).all() and (Z[~on_atom, 2] == 1).all()  # "other" = third code
    # the slot of an atom row is noise around 0, of an "other" row the value's code
    assert abs(Z[on_atom, 3].mean()) < 0.2 and 0.8 < Z[on_atom, 3].std() < 1.2
    back = enc.inverse_transform(Z).to_numpy()
    assert (back[on_atom] == x[on_atom]).all()  # bit-exact
    np.testing.assert_allclose(back[~on_atom], x[~on_atom], rtol=1e-9)


def test_other_values_decode_inside_the_range_of_the_values_that_are_not_atoms():
    x = _spiky()
    enc = _fit(x)
    rest = x[x > 0.15]
    block = np.zeros((500, 4))
    block[:, 2] = 1.0  # "other"
    block[:, 3] = np.linspace(-9, 9, 500)
    out = enc.inverse_transform(block).to_numpy()
    assert out.min() == rest.min() and out.max() == rest.max()
    assert not np.isin(out, enc.atoms_).any()
    block[:, 0], block[:, 2] = 0.7, 0.2  # the arg-max category picks the atom
    assert (enc.inverse_transform(block).to_numpy() == 0.0).all()


def test_missing_cells_keep_the_shared_indicator():
    x = _spiky().astype(object)
    x[::7] = None
    s = pd.Series(x, name="x", dtype="float64")
    enc = AtomMixtureEncoder().fit(s, Schema.detect(s.to_frame())["x"])
    assert [sp.role for sp in enc.spans] == ["value", "value", "missing"]
    Z = enc.transform(s)
    assert (Z[::7, -1] == 1).all() and Z[:, -1].sum() == len(s[::7])
    back = enc.inverse_transform(Z)
    pd.testing.assert_series_equal(back.isna(), s.isna(), check_names=False)
    np.testing.assert_allclose(back.dropna(), s.dropna(), rtol=1e-9)


def test_share_and_cap_choose_the_atoms():
    counts = {0.0: 50, 1.0: 30, 2.0: 30, 3.0: 5, 4.0: 1}
    x = np.concatenate([np.full(k, v) for v, k in counts.items()] + [np.linspace(5, 6, 84)])
    assert _fit(x, min_share=0.02).atoms_.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert _fit(x, min_share=0.1).atoms_.tolist() == [0.0, 1.0, 2.0]
    # the cap keeps the heaviest; a tie goes to the smaller value
    assert _fit(x, min_share=0.02, max_atoms=2).atoms_.tolist() == [0.0, 1.0]
    # a single row never makes an atom, whatever the share
    assert 4.0 not in _fit(x, min_share=1e-6).atoms_
    enc = _fit(x)
    assert (enc.min_share, enc.max_atoms) == (MIN_SHARE, MAX_ATOMS)


def test_the_spike_test_keeps_spikes_and_leaves_a_smooth_discrete_distribution():
    rng = np.random.default_rng(0)
    ages = rng.binomial(40, 0.5, 2000).astype(float)  # smooth: no value twice its neighbours
    x = np.concatenate([ages, np.full(400, 20.0), np.zeros(300)])  # spikes at 20 and 0
    assert _fit(x).n_atoms > 5  # every heavy value
    assert _fit(x, spike_ratio=2).atoms_.tolist() == [0.0, 20.0]
    continuous = np.concatenate([rng.uniform(1, 2, 500), np.full(50, 1.5)])
    assert _fit(continuous, spike_ratio=2).atoms_.tolist() == [1.5]


def test_a_column_without_atoms_is_encoded_as_the_quantile_encoder_does():
    x = pd.Series(np.random.default_rng(0).normal(size=300), name="x")
    spec = Schema.detect(x.to_frame())["x"]
    mixed = AtomMixtureEncoder().fit(x, spec)
    plain = QuantileNormalEncoder().fit(x, spec)
    assert mixed.n_atoms == 0 and [s.kind for s in mixed.spans] == ["continuous"]
    a = mixed.transform(x, rng=np.random.default_rng(3))
    b = plain.transform(x, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mixed.inverse_transform(a), plain.inverse_transform(b))


def test_a_column_of_atoms_only_is_a_one_hot_block():
    x = np.repeat([1.0, 2.0, 5.0], [10, 20, 30])
    enc = _fit(x)
    assert [s.kind for s in enc.spans] == ["softmax"] and enc.width == 3
    Z = enc.transform(pd.Series(x))
    assert (Z.sum(axis=1) == 1).all()
    assert (enc.inverse_transform(Z).to_numpy() == x).all()
    # a value between atoms (a condition) takes the nearest atom
    np.testing.assert_array_equal(enc.condition_block(np.array([1.4, 4.0])).argmax(1), [0, 2])


def test_integer_columns_and_the_saved_state_round_trip():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "pages": np.where(rng.random(300) < 0.4, 0, rng.integers(1, 400, 300)),
            "rate": _spiky(300),
            "c": rng.choice(["a", "b"], 300),
        }
    )
    enc = TableEncoder(numerical="mixed").fit(df, Schema.detect(df))
    Z = enc.transform(df, rng=np.random.default_rng(0))
    restored = TableEncoder.from_state(json.loads(json.dumps(enc.get_state())))
    assert restored.spans == enc.spans
    for back in (enc.inverse_transform(Z), restored.inverse_transform(Z)):
        assert back["pages"].dtype == df["pages"].dtype
        pd.testing.assert_series_equal(back["pages"], df["pages"])
        np.testing.assert_allclose(back["rate"], df["rate"], rtol=1e-9)


def test_bad_settings_name_the_parameter():
    with pytest.raises(ValueError, match="min_share"):
        AtomMixtureEncoder(min_share=0)
    with pytest.raises(ValueError, match="max_atoms"):
        AtomMixtureEncoder(max_atoms=-1)
    with pytest.raises(ValueError, match="atoms must be one of"):
        DiffusionSynthesizer(atoms="categories").fit(pd.DataFrame({"x": [1.0, 2.0]}))


# -- the diffusion model -----------------------------------------------------------------------
def _paired(n=600, seed=0) -> pd.DataFrame:
    """``x`` is 0 exactly when ``c == "a"``, else continuous: a joint atom."""
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b"], n)
    x = np.where(c == "a", 0.0, rng.uniform(1.0, 2.0, n))
    return pd.DataFrame({"c": c, "x": x, "y": rng.normal(size=n)})


@pytest.fixture(scope="module")
def mixed_model():
    params = {**SMALL, "epochs": 120}  # enough steps to learn the joint atom
    return DiffusionSynthesizer(atoms="mixed", sampler="dpm", random_state=0, **params).fit(
        _paired()
    )


def test_the_denoiser_sees_the_atoms_as_a_category_block(mixed_model):
    layout = mixed_model.layout_
    x_spans = mixed_model.encoder_.column_spans("x")
    assert [s.kind for s in x_spans] == ["softmax", "continuous"]
    assert (x_spans[0].start, x_spans[0].stop) in layout.blocks
    assert x_spans[1].start in layout.continuous
    rows = mixed_model.sample(400, random_state=1)
    zero = rows["x"] == 0.0
    assert 0.35 < zero.mean() < 0.65  # the atom is reproduced exactly, at its rate
    assert ((rows["x"][~zero] >= 1.0) & (rows["x"][~zero] <= 2.0)).all()
    # the joint atom: x == 0 goes with c == "a"
    assert (rows["c"][zero] == "a").mean() > 0.75  # 0.5 if independent


def test_condition_slots_of_an_atom_and_of_another_value(mixed_model):
    enc, layout = mixed_model.encoder_, mixed_model.layout_
    frame = pd.DataFrame({"x": [0.0, 1.5, np.nan]})
    known, mask = condition_slots(enc, layout, 3, mixed_model._encode_conditions(frame))
    block, slot = enc.column_spans("x")
    assert mask[:2, block.start : slot.stop].all() and not mask[2].any()
    codes = known[:, block.start : block.stop]
    np.testing.assert_array_equal(codes[0], [1, -1])  # the atom (model space: +1 / -1)
    np.testing.assert_array_equal(codes[1], [-1, 1])  # "other"
    assert known[0, slot.start] == 0.0  # neutral
    expected = enc.encoders_["x"].encode_block(np.array([1.5]))[0, -1]
    assert known[1, slot.start] == pytest.approx(expected)


def test_conditions_on_such_a_column_steer_the_other_columns(mixed_model):
    zero = mixed_model.sample(100, conditions={"x": 0.0}, random_state=2)
    other = mixed_model.sample(100, conditions={"x": 1.5}, random_state=2)
    assert (zero["x"] == 0.0).all() and (other["x"] == 1.5).all()
    assert (zero["c"] == "a").mean() > 0.8 and (other["c"] == "b").mean() > 0.8
    by_c = mixed_model.sample(100, conditions={"c": "a"}, random_state=2)
    assert (by_c["x"] == 0.0).mean() > 0.8


def test_inpainting_fills_such_a_column_and_keeps_observed_cells(mixed_model):
    holes = pd.DataFrame({"c": ["a", "b", None, None], "x": [None, None, 0.0, 1.25], "y": 0.0})
    done = mixed_model.inpaint(holes, random_state=0)
    assert done.notna().all().all()
    assert done["x"][2] == 0.0 and done["x"][3] == 1.25  # observed
    assert done["x"][0] == 0.0 and 1.0 <= done["x"][1] <= 2.0
    assert done["c"][2] == "a" and done["c"][3] == "b"


def test_a_saved_mixed_model_samples_as_before(mixed_model, tmp_path):
    path = tmp_path / "m.tabgen"
    mixed_model.save(path)
    loaded = tabgen.load(path)
    assert loaded.atoms == "mixed"
    assert isinstance(loaded.encoder_.encoders_["x"], AtomMixtureEncoder)
    pd.testing.assert_frame_equal(
        loaded.sample(50, random_state=4), mixed_model.sample(50, random_state=4)
    )


def test_the_distilled_sampler_draws_the_atoms():
    model = DiffusionSynthesizer(atoms="mixed", random_state=0, **SMALL).fit(_paired(400))
    assert model.student_ is not None
    rows = model.sample(300, random_state=1)
    zero = rows["x"] == 0.0
    assert 0.3 < zero.mean() < 0.7
    assert ((rows["x"][~zero] >= 1.0) & (rows["x"][~zero] <= 2.0)).all()


def test_interval_atoms_keep_the_quantile_encoder():
    assert DiffusionSynthesizer().atoms == "auto"
    model = DiffusionSynthesizer(random_state=0, **SMALL, sampler="dpm", atoms="interval")
    assert isinstance(
        model._make_encoder().fit(_paired(50), Schema.detect(_paired(50))).encoders_["x"],
        QuantileNormalEncoder,
    )


def test_a_private_fit_keeps_the_quantile_encoder():
    pytest.importorskip("opacus")
    df = _paired(200)
    private = {"epsilon": 3.0, "epochs": 1, "batch_size": 50, "hidden": 16, "n_steps": 3}
    domain = {"x": (0.0, 2.0), "y": (-4.0, 4.0)}
    model = DiffusionSynthesizer(atoms="mixed", domain=domain, random_state=0, **private)
    model.fit(df)
    assert isinstance(model.encoder_.encoders_["x"], QuantileNormalEncoder)
    assert len(model.sample(20, random_state=0)) == 20


def test_a_model_file_from_before_the_atoms_parameter_samples_as_before(tmp_path):
    from .test_persistence import _forge

    model = DiffusionSynthesizer(atoms="interval", sampler="dpm", random_state=0, **SMALL)
    model.fit(_paired(300))
    model.save(tmp_path / "new.tabgen")

    def drop_atoms(header):
        del header["params"]["atoms"]

    old = tabgen.load(_forge(tmp_path / "new.tabgen", tmp_path / "old.tabgen", drop_atoms))
    assert isinstance(old.encoder_.encoders_["x"], QuantileNormalEncoder)
    pd.testing.assert_frame_equal(old.sample(50, random_state=4), model.sample(50, random_state=4))


# -- atoms="auto": the rule chooses each column's atoms ------------------------------------------
def _columns(n=3000, seed=0) -> pd.DataFrame:
    """One column of each kind the rule tells apart."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    return pd.DataFrame(
        {
            "visits": rng.poisson(1.5, n),  # a count of small support
            "age": np.round(rng.normal(45, 12, n)).astype(int),  # smooth
            "hours": np.where(u < 0.4, 40, np.round(rng.normal(40, 10, n))).astype(int),
            "income": rng.lognormal(10, 1, n),  # continuous
            "gain": np.where(u < 0.6, 0.0, rng.lognormal(8, 1, n)),  # continuous, spike at 0
            "rate": np.where(u < 0.2, 0.1, np.where(u < 0.3, 0.05, rng.uniform(0, 0.2, n))),
        }
    )


def test_the_auto_rule_decides_per_column():
    df = _columns()
    auto = TableEncoder(numerical="auto").fit(df, Schema.detect(df)).encoders_
    heavy = TableEncoder(numerical="mixed").fit(df, Schema.detect(df)).encoders_
    visits = np.unique(df["visits"], return_counts=True)
    common = visits[0][visits[1] >= 0.01 * len(df)]
    assert auto["visits"].atoms_.tolist() == common.tolist()  # every heavy count
    assert auto["age"].n_atoms == 0 and heavy["age"].n_atoms == MAX_ATOMS
    assert auto["hours"].atoms_.tolist() == [40.0] and heavy["hours"].n_atoms > 1
    assert auto["income"].n_atoms == 0
    assert auto["gain"].atoms_.tolist() == [0.0]
    assert auto["rate"].atoms_.tolist() == [0.05, 0.1]
    # a column the rule leaves without atoms is encoded as the quantile encoder encodes it
    spec = Schema.detect(df)["age"]
    plain = QuantileNormalEncoder().fit(df["age"], spec)
    np.testing.assert_array_equal(
        auto["age"].transform(df["age"], rng=np.random.default_rng(3)),
        plain.transform(df["age"], rng=np.random.default_rng(3)),
    )


def test_the_auto_rule_on_counts():
    from tabgen.encoders.mixed import DISCRETE_COVER, choose_atoms

    # heavy values covering DISCRETE_COVER of the rows: all of them, spikes or not
    smooth = np.array([10, 20, 30, 20, 10, 5, 5])
    assert choose_atoms(smooth, smooth.sum(), rule="auto").tolist() == list(range(7))
    # below that cover, only the spikes (here 220 of 680 rows); the cap applies to them too
    spread = np.full(60, 10)
    spread[[20, 50]] = 40
    assert choose_atoms(spread, spread.sum()).size == MAX_ATOMS  # rule="heavy"
    assert choose_atoms(spread, spread.sum(), rule="auto").tolist() == [20, 50]
    assert choose_atoms(spread, spread.sum(), rule="auto", max_atoms=1).tolist() == [20]
    assert (2 * 40 + 14 * 10) / spread.sum() < DISCRETE_COVER  # the 16 heaviest
    with pytest.raises(ValueError, match="rule must be one of"):
        choose_atoms(smooth, smooth.sum(), rule="spikes")
    with pytest.raises(ValueError, match="rule must be one of"):
        AtomMixtureEncoder(rule="spikes")


@pytest.fixture(scope="module")
def auto_model():
    df = _columns(600)[["visits", "age", "gain"]]
    return DiffusionSynthesizer(atoms="auto", sampler="dpm", random_state=0, **SMALL).fit(df)


def test_an_auto_fit_samples_its_atoms_and_round_trips(auto_model, tmp_path):
    encoders = auto_model.encoder_.encoders_
    assert encoders["visits"].n_atoms > 3 and encoders["age"].n_atoms == 0
    assert [s.kind for s in auto_model.encoder_.column_spans("age")] == ["continuous"]
    rows = auto_model.sample(400, random_state=1)
    assert set(rows["visits"]) <= set(range(20))
    zero = (rows["gain"] == 0.0).mean()
    assert 0.4 < zero < 0.8  # the spike at 0 exactly (0.6 in the data)
    path = tmp_path / "auto.tabgen"
    auto_model.save(path)
    loaded = tabgen.load(path)
    assert loaded.atoms == "auto" and loaded.encoder_.encoders_["visits"].rule == "auto"
    pd.testing.assert_frame_equal(
        loaded.sample(50, random_state=4), auto_model.sample(50, random_state=4)
    )


def test_an_encoder_state_from_before_the_rule_restores_the_heavy_rule():
    df = _columns(400)[["age"]]
    enc = TableEncoder(numerical="mixed").fit(df, Schema.detect(df))
    state = json.loads(json.dumps(enc.get_state()))
    del state["encoders"][0]["params"]["rule"]
    restored = TableEncoder.from_state(state)
    assert restored.encoders_["age"].rule == "heavy"
    assert restored.encoders_["age"].atoms_.tolist() == enc.encoders_["age"].atoms_.tolist()
    Z = enc.transform(df)
    pd.testing.assert_frame_equal(restored.inverse_transform(Z), enc.inverse_transform(Z))
