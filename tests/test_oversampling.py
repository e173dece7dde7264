"""SyntheticOverSampler: imbalanced-learn conventions, exact class conditioning, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import tabgen
from tabgen.pipelines import SyntheticOverSampler, target_counts
from tabgen.synthesizers import DiffusionSynthesizer, GaussianCopulaSynthesizer

#: The default model (diffusion) takes minutes; these tests use the copula (cloned per fit).
COPULA = GaussianCopulaSynthesizer()


@pytest.fixture(scope="module")
def adult_small():
    df = tabgen.datasets.load_adult().sample(3000, random_state=0).reset_index(drop=True)
    return df.drop(columns="income"), df["income"]


@pytest.mark.parametrize(
    ("strategy", "y", "expected"),
    [
        ("auto", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4, "c": 5}),
        ("not majority", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4, "c": 5}),
        ("minority", ["a"] * 6 + ["b"] * 2 + ["c"], {"c": 5}),
        ("not minority", ["a"] * 6 + ["b"] * 2 + ["c"], {"b": 4}),
        ("all", ["a"] * 6 + ["b"] * 2, {"b": 4}),
        (0.5, [0] * 10 + [1] * 2, {1: 3}),
        ({"b": 5}, ["a"] * 6 + ["b"] * 2, {"b": 3}),
        (lambda y: {"b": 7}, ["a"] * 6 + ["b"] * 2, {"b": 5}),
    ],
)
def test_sampling_strategy_means_what_imblearn_means(strategy, y, expected):
    assert target_counts(strategy, y) == expected


def test_strategy_agrees_with_imbalanced_learn():
    imblearn = pytest.importorskip("imblearn")
    from imblearn.utils import check_sampling_strategy

    y = np.array([0] * 50 + [1] * 20 + [2] * 5)
    for strategy in ("auto", "minority", "not minority", "all", {1: 30, 2: 40}):
        ours = target_counts(strategy, y)
        theirs = check_sampling_strategy(strategy, y, "over-sampling")
        assert ours == {k: v for k, v in theirs.items() if v > 0}, (strategy, imblearn.__version__)


@pytest.mark.parametrize(
    ("strategy", "pattern"),
    [
        ({"b": 1}, "shrink class 'b'"),
        ({"z": 10}, "absent from the target"),
        (0.1, "cannot shrink"),
        ("most", "must be one of"),
        ([1, 2], "must be a float, str, dict or callable"),
    ],
)
def test_bad_strategies_raise(strategy, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        target_counts(strategy, ["a"] * 6 + ["b"] * 2)


def test_float_strategy_needs_binary_target():
    with pytest.raises(ValueError, match="binary"):
        target_counts(0.5, ["a"] * 6 + ["b"] * 2 + ["c"])


def test_fit_resample_balances_with_exact_labels(adult_small):
    X, y = adult_small
    sampler = SyntheticOverSampler(synthesizer=COPULA, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    counts = y_res.value_counts()
    assert counts[">50K"] == counts["<=50K"] == (y == "<=50K").sum()
    assert list(X_res.columns) == list(X.columns) and (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)  # originals first, untouched
    assert sampler.synthetic_mask_.sum() == len(X_res) - len(X)
    synth = X_res[sampler.synthetic_mask_]
    # the synthetic minority looks like the real minority, not like the majority
    rich_real = X.loc[y == ">50K", "age"].mean()
    poor_real = X.loc[y == "<=50K", "age"].mean()
    assert abs(synth["age"].mean() - rich_real) < abs(synth["age"].mean() - poor_real)
    assert y_res.name == "income"


def test_numpy_input_multiclass_and_determinism():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.array([0] * 200 + [1] * 70 + [2] * 30)
    X[y == 2, 0] += 4
    a = SyntheticOverSampler(synthesizer=COPULA, random_state=1).fit_resample(X, y)
    b = SyntheticOverSampler(synthesizer=COPULA, random_state=1).fit_resample(X, y)
    assert isinstance(a[0], np.ndarray) and a[0].shape == (600, 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.bincount(a[1]).tolist() == [200, 200, 200]
    # class 2 sits 4 units to the right; the default copula moves its synthetic rows the same
    # way but blurs the gap (30 rows are too few for density-ratio selection)
    synth_x, synth_y = a[0][300:, 0], a[1][300:]
    assert synth_x[synth_y == 2].mean() > 1.0
    assert synth_x[synth_y == 2].mean() > synth_x[synth_y == 1].mean() + 0.8


def test_density_ratio_pick_keeps_draws_where_the_class_lives():
    from tabgen.pipelines.oversampling import _density_ratio_pick

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=400), "g": rng.choice(["a", "b"], 400)})
    # half of the draws are right, half sit 6 units away with a category the class never has
    good = pd.DataFrame({"x": rng.normal(size=1500), "g": rng.choice(["a", "b"], 1500)})
    bad = pd.DataFrame({"x": rng.normal(6.0, 1.0, size=1500), "g": ["c"] * 1500})
    draws = pd.concat([good, bad], ignore_index=True)
    keep, info = _density_ratio_pick(real, draws, 1000, np.random.default_rng(1))
    assert len(keep) == len(set(keep.tolist())) == 1000  # without replacement
    assert (keep < 1500).mean() > 0.95  # the wrong half is almost never kept
    assert info["drawn"] == 3000 and info["kept"] == 1000
    assert 500 < info["effective_sample_size"] < 2000  # about the 1500 good draws


def test_selection_keeps_synthetic_minority_out_of_the_majority_region():
    rng = np.random.default_rng(0)
    n_major, n_minor = 1000, 100
    # the minority sits on both sides of the majority: a copula conditioned on the class cannot
    # express that (no monotone dependence) and draws most minority rows in the middle
    sides = rng.choice([-4.0, 4.0], n_minor) + rng.normal(0, 0.3, n_minor)
    x = np.r_[rng.normal(size=n_major), sides]
    X = pd.DataFrame({"x": x, "z": rng.normal(size=n_major + n_minor)})
    y = np.array([0] * n_major + [1] * n_minor)
    outside = {}
    for selection in (None, "density-ratio"):
        # enough candidates that the pool holds more right draws than rows to keep
        sampler = SyntheticOverSampler(
            synthesizer=COPULA,
            generation="conditional",
            selection=selection,
            oversample_factor=8,
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert np.bincount(y_res).tolist() == [n_major, n_major]
        outside[selection] = (X_res.loc[sampler.synthetic_mask_, "x"].abs() > 2).mean()
        assert (1 in sampler.selection_) == (selection is not None)
    assert outside[None] < 0.5  # the failure the selection is there for
    assert outside["density-ratio"] > 0.6


def test_inpainted_draws_start_from_real_rows_of_their_class():
    rng = np.random.default_rng(0)
    n_major, n_minor = 1000, 100
    # the same two-sided minority: whole-row conditional draws land in the middle, draws
    # that keep most cells of a real minority row stay on the sides
    sides = rng.choice([-4.0, 4.0], n_minor) + rng.normal(0, 0.3, n_minor)
    X = pd.DataFrame({f"z{j}": rng.normal(size=n_major + n_minor) for j in range(4)})
    X.insert(0, "x", np.r_[rng.normal(size=n_major), sides])
    y = np.array([0] * n_major + [1] * n_minor)
    minority = X[y == 1]
    kept_share, outside = {}, {}
    for generation in ("conditional", "inpaint"):
        sampler = SyntheticOverSampler(
            synthesizer=COPULA, generation=generation, selection=None, random_state=0
        )
        X_res, _ = sampler.fit_resample(X, y)
        assert sampler.generation_ == generation
        synth = X_res[sampler.synthetic_mask_]
        same = np.column_stack([synth[c].isin(minority[c]).to_numpy() for c in X.columns])
        kept_share[generation] = same.mean()
        outside[generation] = (synth["x"].abs() > 2).mean()
        if generation == "inpaint":
            # every row regenerates at least one cell and keeps the rest of one real row
            assert same.all(axis=1).sum() == 0
            assert (same.sum(axis=1) >= 1).mean() > 0.9
    assert kept_share["conditional"] < 0.01
    assert 0.6 < kept_share["inpaint"] < 0.75  # 1 - inpaint_share, minus the forced cell
    assert outside["conditional"] < 0.5  # x regenerated: pulled to the middle
    assert outside["inpaint"] > 0.65  # x kept from a real row in about 70 % of the draws
    # each real minority row is a starting point about equally often (taken in turn)
    sampler = SyntheticOverSampler(
        synthesizer=COPULA, selection=None, inpaint_share=0.2, random_state=1
    )
    X_res, _ = sampler.fit_resample(X, y)
    synth = X_res[sampler.synthetic_mask_]
    assert sampler.generation_ == "inpaint"  # "auto" with a model that inpaints
    starts = synth["z0"][synth["z0"].isin(minority["z0"])].value_counts()
    assert len(starts) == n_minor and starts.max() - starts.min() <= 6


def test_inpainting_leaves_columns_it_cannot_condition_on_free():
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "same": ["k"] * n,  # constant: no model conditions on it
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
        }
    )
    y = np.array(["a"] * 150 + ["b"] * 50)
    sampler = SyntheticOverSampler(synthesizer=COPULA, selection=None, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    synth = X_res[sampler.synthetic_mask_]
    assert sampler.generation_ == "inpaint" and (y_res == "b").sum() == 150
    assert (synth["same"] == "k").all() and synth["when"].notna().all()
    assert (X_res.dtypes == X.dtypes).all()
    # only constant / datetime columns besides the class: every draw is a whole-row draw
    only = X[["same", "when"]]
    X_res, _ = SyntheticOverSampler(synthesizer=COPULA, random_state=0).fit_resample(only, y)
    assert len(X_res) == 300


def test_generation_options_are_checked_before_training():
    from tabgen.synthesizers import GANSynthesizer

    X = pd.DataFrame({"x": np.arange(60.0)})
    y = np.array(["a"] * 40 + ["b"] * 20)
    gan = GANSynthesizer(epochs=1)
    with pytest.raises(ValueError, match="inpaints natively; GANSynthesizer"):
        SyntheticOverSampler(synthesizer=gan, generation="inpaint").fit_resample(X, y)
    auto = SyntheticOverSampler(synthesizer=gan)
    assert auto._resolve_generation(gan) == "conditional"
    with pytest.raises(ValueError, match="generation must be"):
        SyntheticOverSampler(synthesizer=COPULA, generation="smote").fit_resample(X, y)
    for share in (0, 1.5, True, "half"):
        with pytest.raises(ValueError, match="inpaint_share"):
            SyntheticOverSampler(synthesizer=COPULA, inpaint_share=share).fit_resample(X, y)


def test_purity_prefers_draws_where_the_class_dominates():
    rng = np.random.default_rng(0)
    # overlapping classes: the minority is shifted by 1.5 standard deviations
    X = pd.DataFrame({"x": np.r_[rng.normal(size=900), rng.normal(1.5, 1.0, size=100)]})
    y = np.array(["major"] * 900 + ["minor"] * 100)
    mean = {}
    for purity in (0.0, 2.0):
        sampler = SyntheticOverSampler(synthesizer=COPULA, purity=purity, random_state=0)
        X_res, _ = sampler.fit_resample(X, y)
        mean[purity] = X_res.loc[sampler.synthetic_mask_, "x"].mean()
    assert abs(mean[0.0] - 1.5) < 0.35  # purity 0 aims at the class's own distribution (1.27)
    assert mean[2.0] > mean[0.0] + 0.2  # purity 2 leans away from the majority (1.65)
    # an extreme purity must not underflow every weight (the picks would turn arbitrary)
    sampler = SyntheticOverSampler(synthesizer=COPULA, purity=200, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert X_res.loc[sampler.synthetic_mask_, "x"].mean() > mean[2.0]


def test_selection_is_skipped_for_tiny_classes_and_checks_its_options():
    X = pd.DataFrame({"x": np.arange(60.0)})
    y = np.array(["a"] * 50 + ["b"] * 10)  # 10 rows: too few for a discriminator
    sampler = SyntheticOverSampler(synthesizer=COPULA, random_state=0)
    _, y_res = sampler.fit_resample(X, y)
    assert sampler.selection_ == {} and (y_res == "b").sum() == 50
    with pytest.raises(ValueError, match="selection must be"):
        SyntheticOverSampler(synthesizer=COPULA, selection="knn").fit_resample(X, y)
    with pytest.raises(ValueError, match="oversample_factor"):
        SyntheticOverSampler(synthesizer=COPULA, oversample_factor=1.0).fit_resample(X, y)
    with pytest.raises(ValueError, match="purity"):
        SyntheticOverSampler(synthesizer=COPULA, purity=-1).fit_resample(X, y)


def test_default_model_is_the_diffusion_model_and_works_end_to_end(adult_small):
    assert isinstance(
        SyntheticOverSampler()._make_synthesizer("t", np.random.default_rng(0)),
        DiffusionSynthesizer,
    )
    X, y = adult_small[0].iloc[:400], adult_small[1].iloc[:400]
    small = DiffusionSynthesizer(epochs=3, hidden=32, n_steps=4, random_state=0)
    sampler = SyntheticOverSampler(synthesizer=small, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n_major = int((y == "<=50K").sum())
    assert y_res.value_counts().to_dict() == {"<=50K": n_major, ">50K": n_major}
    assert (X_res.dtypes == X.dtypes).all() and ">50K" in sampler.selection_


def test_errors(adult_small):
    X, y = adult_small
    with pytest.raises(ValueError, match="missing labels"):
        SyntheticOverSampler(synthesizer=COPULA).fit_resample(X, y.where(y.index != 5))
    with pytest.raises(ValueError, match="labels but X has"):
        SyntheticOverSampler(synthesizer=COPULA).fit_resample(X, y[:10])
    tiny = pd.Series(["a"] * 20 + ["b"])
    with pytest.raises(ValueError, match="fewer than min_class_rows"):
        SyntheticOverSampler(synthesizer=COPULA).fit_resample(pd.DataFrame({"x": range(21)}), tiny)
    with pytest.raises(TypeError, match="tabgen synthesizer"):
        SyntheticOverSampler(synthesizer="copula").fit_resample(X, y)


def test_works_in_an_imblearn_pipeline_without_leaking_into_validation():
    pytest.importorskip("imblearn")
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + rng.normal(scale=0.5, size=400) > 1.3).astype(int)
    pipe = Pipeline(
        [
            ("over", SyntheticOverSampler(synthesizer=COPULA, random_state=0)),
            ("clf", LogisticRegression()),
        ]
    )
    scores = cross_val_score(pipe, X, y, cv=3, scoring="roc_auc")
    assert scores.mean() > 0.8
    assert clone(pipe).get_params()["over__sampling_strategy"] == "auto"
