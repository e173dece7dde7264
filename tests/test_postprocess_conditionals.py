"""The binary conditionals post-processor (postprocess/conditionals.py): two-level columns
of unconditional rows drawn again from boosted trees' probability given the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.persistence import ModelFileError
from tabgen.pipelines._presets import without_selection
from tabgen.synthesizers.postprocess import conditionals
from tabgen.synthesizers.postprocess.conditionals import BinaryConditionals


def _table(n=2_000, seed=0):
    """``flag`` and ``big`` follow ``x`` (thresholds with 10 % noise); ``pet`` has three
    levels, ``gap`` a missing cell, ``rare`` a level of 5 rows, ``grade``/``code`` a
    dependency, ``on`` is independent of the rest, ``key`` an id."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    flag = np.where((x > 0.4) ^ (rng.random(n) < 0.1), "yes", "no")
    gap = rng.choice(["u", "v"], size=n).astype(object)
    gap[0] = None
    rare = np.where(np.arange(n) < 5, "r", "s")
    grade = rng.choice(["lo", "hi"], size=n)
    return pd.DataFrame(
        {
            "x": x,
            "flag": flag,
            "pet": rng.choice(["cat", "dog", "eel"], size=n),
            "gap": gap,
            "rare": rare,
            "grade": grade,
            "code": np.where(grade == "lo", 1, 2),
            "on": rng.random(n) < 0.3,
            "big": (x > 1.0) ^ (rng.random(n) < 0.1),
            "key": np.arange(n),
        }
    )


def _agreement(frame) -> float:
    return float(((frame["x"] > 0.4) == (frame["flag"] == "yes")).mean())


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    post = ["dependencies", "conditionals"]
    model = tabgen.GaussianCopulaSynthesizer(
        postprocess=post, schema={"key": "id"}, random_state=0
    ).fit(df)
    return model, df


def test_binary_column_follows_the_rest_of_the_row(fitted):
    """The copula blurs ``flag | x``; drawn again from the trees it agrees with ``x`` about
    as often as the data do (90 %)."""
    model, df = fitted
    plain = tabgen.GaussianCopulaSynthesizer(
        postprocess=["dependencies"], schema={"key": "id"}, random_state=0
    )
    before = _agreement(plain.fit(df).sample(3_000, random_state=1))
    after = _agreement(model.sample(3_000, random_state=1))
    assert after > before + 0.05
    assert after == pytest.approx(_agreement(df), abs=0.04)


def test_only_two_level_complete_untied_columns_are_drawn(fitted):
    model, _ = fitted
    step = model._postprocessor("conditionals")
    # pet: three levels; gap: a missing cell; rare: 5 rows of a level; grade: determines
    # code (a category dependency), so it keeps the model's level; on: independent of the
    # rest, so no tree beats none and the model's cells stay
    assert step.found == ["flag", "big"]
    assert set(step.info) == {"flag", "on", "big"} and step.info["on"]["kept"] is False
    flag = step.info["flag"]
    assert flag["kept"] and flag["held_out_log_loss"] < flag["model_log_loss"]
    assert ("code", "grade") in [(dep, det) for dep, det, _ in model.dependencies_]


def test_types_seeds_ids_and_conditions(fitted):
    model, df = fitted
    rows = model.sample(500, random_state=4)
    assert set(rows["flag"]) == {"yes", "no"}
    pd.testing.assert_frame_equal(rows, model.sample(500, random_state=4))
    # the draws do not depend on the ids (they are seeded from the rows' features)
    shifted = model.sample(500, random_state=4, id_offset=50)
    pd.testing.assert_frame_equal(rows.drop(columns="key"), shifted.drop(columns="key"))
    # the step keeps each column's dtype (sample() restores dtypes too: call it directly)
    step = model._postprocessor("conditionals")
    for dtype in ("category", "string", object):
        frame = df.head(200).astype({"flag": dtype})
        drawn = step.apply(frame.copy(), None)
        assert drawn["flag"].dtype == frame["flag"].dtype
        assert set(drawn["flag"].astype(str)) == {"yes", "no"}
    frame = df.head(200).copy()
    frame.loc[:4, "flag"] = None  # cells on neither level stay as they are
    drawn = step.apply(frame.copy(), None)
    assert drawn["big"].dtype == bool and drawn["flag"].head(5).isna().all()
    # rows with conditions keep the model's own cells: the step returns them untouched
    step = model._postprocessor("conditionals")
    frame = df.head(50).copy()
    conditions = pd.DataFrame({"pet": ["cat"] * 50})
    pd.testing.assert_frame_equal(step.apply(frame.copy(), conditions), frame)
    changed = step.apply(frame.copy(), None)
    assert not changed["flag"].equals(frame["flag"])  # some of 50 rows drawn otherwise
    assert changed.drop(columns=["flag", "big"]).equals(frame.drop(columns=["flag", "big"]))


def test_model_file_round_trip_and_damaged_trees(fitted, tmp_path):
    model, _ = fitted
    path = tmp_path / "m.tabgen"
    model.save(path)
    back = tabgen.load(path)
    rows = model.sample(300, random_state=2)
    pd.testing.assert_frame_equal(back.sample(300, random_state=2), rows)
    state, arrays = model._postprocessor("conditionals").get_state()
    bad = dict(arrays)
    bad["conditionals.0.feature"] = arrays["conditionals.0.feature"] + 10_000
    with pytest.raises(ModelFileError, match="conditional trees of 'flag'"):
        BinaryConditionals.from_state(state, bad)
    trees = state["columns"][0][2]
    for levels in (["yes"], [["yes"], "no"], ["si", "no"], ["yes", "yes"]):
        broken = {**state, "columns": [["flag", levels, trees]]}
        with pytest.raises(ModelFileError, match="entry 0 is damaged"):
            BinaryConditionals.from_state(broken, arrays)


def test_rare_levels_in_the_check_leave_the_column_alone(monkeypatch):
    """A level common enough in the table but with too few rows among the check's rows:
    no trees for it (scikit-learn's stratified early stopping would fail), no crash."""
    df = _table()
    df["few"] = np.where(np.arange(len(df)) % 80 == 0, "f", "m")  # 25 rows of "f"
    monkeypatch.setattr(conditionals, "COMPARE_ROWS", 300)  # about 4 of them there
    model = tabgen.GaussianCopulaSynthesizer(postprocess=["conditionals"], random_state=0)
    step = model.fit(df)._postprocessor("conditionals")
    assert step.info["few"] == {"kept": False} and "few" not in step.found


def test_small_tables_get_none():
    df = _table(n=conditionals.MIN_ROWS - 1)
    model = tabgen.GaussianCopulaSynthesizer(postprocess=["conditionals"], random_state=0).fit(df)
    assert model._postprocessor("conditionals") is None


def test_diffusion_defaults_and_the_pipelines_models():
    """The diffusion model draws them by default; the selection scores rows as the steps
    before it leave them; the imputer's and the pipelines' models fit none (they sample
    with conditions, which the step leaves alone)."""
    model = tabgen.DiffusionSynthesizer()
    assert "conditionals" in model.capabilities.postprocessors
    assert "conditionals" not in model._imputation_params(5_000)["postprocess"]
    assert without_selection(tabgen.DiffusionSynthesizer()).postprocess == ["dependencies"]


def test_selection_scores_rows_before_the_conditionals():
    """With both steps, the selection scores the rows the dependencies leave (its encoded
    fast path stays available), and the conditionals then draw in the kept rows."""
    df = _table()
    post = ["dependencies", "selection", "conditionals"]
    model = tabgen.GaussianCopulaSynthesizer(postprocess=post, random_state=0).fit(df)
    names = [s.name for s in model.postprocessors_]
    assert names == ["dependencies", "discriminator", "conditionals"]
    assert [s.name for s in model._steps_before("discriminator")] == ["dependencies"]
    selection = model._postprocessor("discriminator")
    assert selection._plan(model) is not None
    # a model without the selection: the steps registered before it
    model.postprocessors_ = [s for s in model.postprocessors_ if s.name != "discriminator"]
    assert [s.name for s in model._steps_before("discriminator")] == ["dependencies"]
    rows = model.sample(2_000, random_state=0)
    assert _agreement(rows) == pytest.approx(_agreement(df), abs=0.04)
