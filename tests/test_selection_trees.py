"""The selection's second stage: boosted trees stored as arrays (postprocess/trees.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import tabgen
from tabgen.persistence import ModelFileError
from tabgen.synthesizers.postprocess import selection
from tabgen.synthesizers.postprocess.trees import BoostedTrees


def _two_sides(n=3000, seed=0):
    """Rows of two distributions that differ by an axis-aligned band of one feature."""
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (n, 4)).astype("float32")
    fake = rng.uniform(-1, 1, (n, 4)).astype("float32")
    band = (fake[:, 0] > 0.2) & (fake[:, 0] < 0.5) & (fake[:, 1] > 0)
    fake[band, 1] -= 1.0  # the fake side has no rows in that band
    return real, fake


def test_trees_score_as_scikit_learn_and_separate_the_sides():
    real, fake = _two_sides()
    trees = BoostedTrees.fit(real, fake, seed=0)
    assert trees is not None and 1 <= trees.n_trees <= 200 and trees.depth <= 6
    # the same log-odds as a classifier refitted with the same settings, on new rows
    new_real, new_fake = _two_sides(seed=1)
    X = np.vstack([new_real, new_fake])
    logits = trees.decision(X)
    assert logits.dtype == np.float64 and logits.shape == (len(X),)
    band = (X[:, 0] > 0.2) & (X[:, 0] < 0.5) & (X[:, 1] > 0)
    # rows in the band are real only: far higher odds there than elsewhere
    assert np.median(logits[band]) > np.median(logits[~band]) + 1.0


def test_export_matches_the_classifier_row_for_row():
    real, fake = _two_sides()
    X = np.vstack([real, fake])
    y = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=5, random_state=0).fit(X, y)
    trees = BoostedTrees.from_sklearn(model)
    other = _two_sides(seed=2)[1]
    np.testing.assert_allclose(trees.decision(other), model.decision_function(other), atol=1e-9)
    # a classifier that is not the expected kind: no trees, no crash
    assert BoostedTrees.from_sklearn(object()) is None


def test_state_round_trip_and_damaged_arrays_are_refused():
    real, fake = _two_sides()
    trees = BoostedTrees.fit(real, fake, seed=0)
    state, arrays = trees.get_state("t.")
    back = BoostedTrees.from_state(state, arrays, "t.", width=4)
    np.testing.assert_array_equal(back.decision(fake), trees.decision(fake))
    bad = dict(arrays)
    bad["t.left"] = arrays["t.left"].copy()
    bad["t.left"][0] = len(arrays["t.feature"]) + 5
    with pytest.raises(ModelFileError, match="damaged"):
        BoostedTrees.from_state(state, bad, "t.", width=4)
    with pytest.raises(ModelFileError, match="damaged"):  # a feature the rows do not have
        BoostedTrees.from_state(state, arrays, "t.", width=2)
    with pytest.raises(ModelFileError, match="lack"):
        BoostedTrees.from_state(state, {k: v for k, v in arrays.items() if k != "t.roots"}, "t.", 4)
    with pytest.raises(ModelFileError, match="shape"):
        BoostedTrees.from_state(state, {**arrays, "t.value": arrays["t.value"][:, None]}, "t.", 4)
    with pytest.raises(ModelFileError, match="shape"):  # indices stored as floats
        BoostedTrees.from_state(state, {**arrays, "t.left": arrays["t.left"] * 1.0}, "t.", 4)
    nan = arrays["t.value"].copy()
    nan[-1] = np.nan
    with pytest.raises(ModelFileError, match="damaged"):
        BoostedTrees.from_state(state, {**arrays, "t.value": nan}, "t.", 4)
    assert trees.depth >= 2
    with pytest.raises(ModelFileError, match="deeper"):  # would cut every tree short
        BoostedTrees.from_state({**state, "depth": 1}, arrays, "t.", 4)
    for depth in (True, -1, 65, 2.0):
        with pytest.raises(ModelFileError, match="depth"):
            BoostedTrees.from_state({**state, "depth": depth}, arrays, "t.", 4)


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "kind": rng.choice(["a", "b", "c"], n),
            "x": x.round(2),
            "y": (x + rng.normal(0, 0.3, n)).round(2),
        }
    )


def _diffusion(**params):
    base = {**tabgen.DiffusionSynthesizer._test_params(), "epochs": 2, "random_state": 0}
    return tabgen.DiffusionSynthesizer(**{**base, **params})


def test_diffusion_selection_has_trees_that_travel_with_the_file(tmp_path):
    model = _diffusion().fit(_table(selection.MIN_TREE_ROWS))
    step = model._postprocessor("discriminator")
    assert step.trees is not None and step.info["trees"] == step.trees.n_trees
    # the trees take part in the scores of candidates
    rows = model.sample(200, random_state=1)
    X = step.features.transform(rows)
    with_trees = step.logits(X)
    step_trees, step.trees = step.trees, None
    without = step.logits(X)
    step.trees = step_trees
    np.testing.assert_allclose(with_trees - without, step_trees.decision(X), atol=1e-9)
    path = tmp_path / "d.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert loaded._postprocessor("discriminator").trees.n_trees == step.trees.n_trees
    again = loaded.sample(300, random_state=2)
    pd.testing.assert_frame_equal(again, model.sample(300, random_state=2))


def test_no_trees_on_small_tables_or_for_models_that_do_not_ask():
    small = _diffusion().fit(_table(selection.MIN_TREE_ROWS - 1))
    assert small._postprocessor("discriminator").trees is None
    vae = tabgen.VAESynthesizer(
        **{**tabgen.VAESynthesizer._test_params(), "epochs": 2},
        postprocess=("selection",),
        random_state=0,
    ).fit(_table(selection.MIN_TREE_ROWS))
    step = vae._postprocessor("discriminator")
    assert step is not None and step.trees is None and "trees" not in step.info


def test_trees_score_unconditional_candidates_only(monkeypatch):
    model = _diffusion(sampler="dpm").fit(_table(selection.MIN_TREE_ROWS))
    trees = model._postprocessor("discriminator").trees

    def refuse(X):
        raise RuntimeError("trees used")

    monkeypatch.setattr(trees, "decision", refuse)
    with pytest.raises(RuntimeError, match="trees used"):
        model.sample(50, random_state=1)
    # conditioned candidates are picked by the MLP's ratio alone
    rows = model.sample(50, conditions={"kind": "b"}, random_state=1)
    assert (rows["kind"] == "b").all()


def test_wide_tables_fit_the_trees_on_fewer_rows(monkeypatch):
    seen = []
    fit = BoostedTrees.fit.__func__

    def spy(cls, real, fake, seed):
        seen.append((len(real), len(fake)))
        return fit(cls, real, fake, seed)

    monkeypatch.setattr(BoostedTrees, "fit", classmethod(spy))
    n = selection.MIN_TREE_ROWS + 300
    model = _diffusion().fit(_table(n))
    width = model._postprocessor("discriminator").features.width
    assert seen == [(n, n)]  # the whole table within the budget
    rows = selection.MIN_TREE_ROWS + 100
    monkeypatch.setattr(selection, "MAX_TREE_CELLS", 2 * width * rows)
    model = _diffusion().fit(_table(n))
    assert seen[-1] == (rows, rows) and model._postprocessor("discriminator").trees is not None
    # so wide that fewer rows than MIN_TREE_ROWS would remain: the MLP alone
    monkeypatch.setattr(selection, "MAX_TREE_CELLS", 2 * width * (selection.MIN_TREE_ROWS - 1))
    model = _diffusion().fit(_table(n))
    assert len(seen) == 2 and model._postprocessor("discriminator").trees is None


def test_no_trees_where_none_beats_the_held_out_loss_of_no_tree():
    from sklearn.ensemble import HistGradientBoostingClassifier

    nones = 0
    for seed in range(4):  # two sides of one distribution: whatever trees learn is noise
        same = np.random.default_rng(seed).uniform(-1, 1, (3000, 4)).astype("float32")
        trees = BoostedTrees.fit(same[:1500], same[1500:], seed=0)
        model = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.2, max_depth=6, max_leaf_nodes=31,
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=0,
        )  # fmt: skip
        y = np.r_[np.ones(1500), np.zeros(1500)]
        model.fit(same, y, sample_weight=np.ones(3000))
        no_gain = int(np.argmax(model.validation_score_)) == 0
        assert (trees is None) == no_gain
        if not no_gain:  # otherwise every round is kept, as scikit-learn's early stopping
            assert trees.n_trees == model.n_iter_
        nones += no_gain
    assert nones >= 1
