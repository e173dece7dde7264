"""The fast sampling path: the selection's candidates scored from their encoded rows, the
GAN's vectorised heads and bfloat16 candidates, streaming equal to in-memory sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tabgen
from tabgen._rng import torch_generator
from tabgen.synthesizers.gan import estimator as gan_estimator
from tabgen.synthesizers.gan.generator import gumbel_noise, sample_compact
from tabgen.synthesizers.postprocess.encoded import EncodedFeatures

TINY = {**tabgen.GANSynthesizer._test_params(), "epochs": 2}


def _table(n=600, seed=0) -> pd.DataFrame:
    """Every case the encoded features reproduce: a numeric dependency (edu -> years), a
    categorical one (code -> label), snapped numbers with missing cells, a float32 column,
    a category dtype, booleans and a categorical column with missing cells."""
    rng = np.random.default_rng(seed)
    edu = rng.choice(["a", "b", "c"], n)
    code = rng.choice(["x1", "x2"], n)
    gain = np.where(rng.random(n) < 0.8, 0.0, rng.choice([500.0, 2000.0, 7500.0], n))
    gain[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "edu": edu,
            "years": pd.Series(edu).map({"a": 9, "b": 12, "c": 16}).to_numpy(),
            "code": code,
            "label": pd.Series(code).map({"x1": "one", "x2": "two"}).to_numpy(),
            "gain": gain,
            "ratio": rng.normal(0, 1, n).astype("float32"),
            "shade": pd.Categorical(rng.choice(["dark", "light"], n)),
            "flag": rng.random(n) < 0.3,
            "pet": pd.Series(rng.choice(["cat", "dog", None], n), dtype=object),
            "age": rng.normal(40, 10, n).round(1),
        }
    )


@pytest.fixture(scope="module")
def gan():
    return tabgen.GANSynthesizer(**TINY, random_state=0).fit(_table())


def _candidates(model, n=3000):
    gen = torch_generator(np.random.default_rng(5), "cpu")
    return model._generate_once(None, n, (gen, gen))


def test_encoded_features_equal_the_features_of_decoded_rows(gan):
    names = [p.name for p in gan.postprocessors_]
    assert names == ["supports", "dependencies", "discriminator"]
    assert {(d, a) for d, a, _ in gan.dependencies_} >= {("years", "edu"), ("label", "code")}
    selection = gan._postprocessor("discriminator")
    Z = _candidates(gan)
    slow = selection.features.transform(gan._after_decode(gan._decode(Z, 0), None))
    plan = EncodedFeatures.compile(selection.features, gan.encoder_, gan.postprocessors_)
    assert plan is not None
    np.testing.assert_array_equal(plan(gan._encoder_units(Z)), slow)
    decoded = gan._after_decode(gan._decode(Z, 0), None)
    np.testing.assert_array_equal(selection.score_encoded(gan, Z), selection.score(decoded))


def test_any_model_scores_encoded_candidates_like_decoded_ones():
    df = _table()
    params = {**tabgen.VAESynthesizer._test_params(), "epochs": 2}
    vae = tabgen.VAESynthesizer(
        random_state=0, postprocess=("snap", "dependencies", "selection"), **params
    ).fit(df)
    selection = vae._postprocessor("discriminator")
    Z = vae._sample(2000, None, np.random.default_rng(1))
    slow = selection.features.transform(vae._after_decode(vae._decode(Z, 0), None))
    plan = selection._plan(vae)
    np.testing.assert_array_equal(plan(Z), slow)
    # an unknown post-processor after the selection does not change what it scores (the
    # selection sees rows as the steps before it leave them) ...
    other = type("Other", (), {"name": "other", "apply": lambda self, frame, cond: frame})
    steps = list(vae.postprocessors_)
    vae.postprocessors_ = [*steps, other()]
    assert selection._plan(vae) is not None
    # ... one before it: no plan, the decoded rows are scored (same numbers)
    vae.postprocessors_ = [other(), *steps]
    assert selection._plan(vae) is None
    slow_scores = selection.score(vae._after_decode(vae._decode(Z, 0), None))
    np.testing.assert_array_equal(selection.score_encoded(vae, Z), slow_scores)


def test_kept_rows_are_those_the_slow_path_keeps(gan, monkeypatch):
    monkeypatch.setattr(gan_estimator, "low_precision_fast", lambda device: False)
    fast = gan.sample(1500, random_state=3)
    selection = gan._postprocessor("discriminator")
    monkeypatch.setattr(type(selection), "_plan", lambda self, model: None)  # decode all
    pd.testing.assert_frame_equal(gan.sample(1500, random_state=3), fast)


def test_selection_keeps_rows_the_discriminator_scores_higher(gan):
    selection = gan._postprocessor("discriminator")

    def mean_score(draws):
        rows = gan.set_params(selection_draws=draws).sample(3000, random_state=7)
        return selection.score(rows).mean()

    try:
        assert mean_score(4) > mean_score(1) + 0.05
    finally:
        gan.set_params(selection_draws=4)


def _reference_compact(raw, layout, generator, observed=()):
    """Block by block, as the GAN's heads were written first (the oracle)."""
    n = raw.shape[0]
    gumbel = gumbel_noise(raw.shape, generator, raw.device)
    out = raw.new_zeros((n, layout.compact_width))
    rows = torch.arange(n)
    for b in layout.blocks:
        s = b.span
        logits = raw[:, b.start : b.stop]
        if s.kind == "continuous":
            out[:, s.start] = torch.tanh(logits[:, 0])
            continue
        keep = s.column not in observed
        if not keep:
            if s.role == "missing":
                continue
            if b.missing is not None:
                logits = logits[:, :-1]
        choice = torch.argmax(logits + gumbel[:, b.start : b.start + logits.shape[1]], dim=1)
        if s.kind == "softmax":
            out[rows, s.start + choice] = 1.0
            continue
        if b.missing is not None and keep:
            gone = choice == s.n_categories
            out[:, b.missing] = gone.to(out.dtype)
            choice = torch.where(gone, 0, choice)
        out[:, s.start] = choice.to(out.dtype)
    return out


@pytest.mark.parametrize("observed", [(), ("gain", "pet"), ("edu", "age", "gain", "pet")])
def test_vectorised_heads_equal_the_block_by_block_ones(gan, observed):
    raw = torch.randn(2000, gan.layout_.width, generator=torch.Generator().manual_seed(0)) * 3
    a = sample_compact(raw, gan.layout_, torch.Generator().manual_seed(1), observed)
    b = _reference_compact(raw, gan.layout_, torch.Generator().manual_seed(1), observed)
    assert torch.equal(a, b)


def test_low_precision_generator_is_close_and_keeps_numbers_continuous(gan):
    G, layout = gan.generator_, gan.layout_
    x = torch.randn(4000, gan.embedding_dim + layout.cond_width)
    weights = G.inference_weights()
    tanh = [b.start for b in layout.blocks if b.activation == "tanh"]
    exact = G.infer(x, weights)
    low = G.infer_low(x, G.low_precision_weights(weights, tanh))
    assert low.dtype == torch.float32 and low.shape == exact.shape
    scale = exact.abs().max()
    assert (low - exact).abs().max() < 0.05 * scale
    # not on the grid of a bfloat16 output (256 values per binade)
    for j in tanh:
        assert torch.unique(low[:, j]).numel() > 0.99 * len(x)


def test_streaming_equals_in_memory_sampling(gan, tmp_path):
    for draws in (4, 1):
        gan.set_params(selection_draws=draws)
        path = tabgen.sample_to_file(gan, tmp_path / f"g{draws}.parquet", 700, random_state=11)
        seed = int(np.random.default_rng(11).integers(0, 2**63 - 1, size=1)[0])
        expected = gan.sample(700, random_state=seed)
        got = tabgen.read_table(path)
        assert list(got.columns) == list(expected.columns)
        for col in expected.columns:
            np.testing.assert_array_equal(
                got[col].astype(object).where(got[col].notna(), None).to_numpy(),
                expected[col].astype(object).where(expected[col].notna(), None).to_numpy(),
            )


def _one_hot_inputs(model, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    _, category = model.sampler_.sample_conditions(n, gen, train=False)
    noise = torch.randn(n, model.embedding_dim, generator=gen)
    x = torch.cat([noise, model.sampler_.condition_vectors(category)], dim=1)
    return noise, category, x


@pytest.mark.parametrize("wide", [False, True])
def test_lookup_inference_matches_the_one_hot_products(gan, wide):
    model = gan
    if wide:  # a conditional block wider than WIDE goes through an embedding
        rng = np.random.default_rng(0)
        df = pd.DataFrame(
            {"city": [f"c{i}" for i in rng.integers(0, 80, 500)], "x": rng.normal(size=500)}
        )
        model = tabgen.GANSynthesizer(**{**TINY, "epochs": 1}, random_state=0).fit(df)
        assert model.generator_.inp.wide
    G, layout = model.generator_, model.layout_
    noise, category, x = _one_hot_inputs(model, 3000)
    weights = G.inference_weights()
    tanh = [b.start for b in layout.blocks if b.activation == "tanh"]
    exact = G.infer(x, weights)
    low = G.infer_low(x, G.low_precision_weights(weights, tanh))
    look = G.infer_lookup(noise, category, G.lookup_weights(weights, tanh, model.embedding_dim))
    assert look.dtype == torch.float32 and look.shape == exact.shape
    # as close to the float32 products as the bfloat16 products of the one-hot vectors
    assert (look - exact).abs().max() <= 1.5 * (low - exact).abs().max() + 1e-6
    assert (look[:, tanh] - exact[:, tanh]).abs().max() <= 0.01 * exact.abs().max()
    for j in tanh:  # numbers stay continuous
        assert torch.unique(look[:, j]).numel() > 0.99 * len(x)


def test_candidates_scored_batch_by_batch_equal_the_whole_matrix_scored(gan):
    from tabgen.synthesizers.gan.networks import generate_compact

    selection = gan._postprocessor("discriminator")
    args = (gan.generator_, gan.layout_, gan.sampler_, gan.embedding_dim, None, 40_000)

    def gens():
        gen = torch_generator(np.random.default_rng(5), "cpu")
        return gen, gen

    Z, scores = generate_compact(
        *args,
        gens(),
        low_precision=True,
        score=lambda rows: selection.score_encoded(gan, rows, low_precision=True),
    )
    whole = generate_compact(*args, gens(), low_precision=True)
    assert Z.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(Z, dtype="float64"), whole)
    np.testing.assert_array_equal(scores, selection.score_encoded(gan, whole, low_precision=True))
