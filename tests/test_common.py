"""The common contract checks, run over every registered synthesizer."""

from __future__ import annotations

import signal
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tabgen
from tabgen.synthesizers.registry import SYNTHESIZERS

from .conftest import make_mixed_frame

N = 400


def _make(cls, **extra):
    return cls(**{**cls._test_params(), "random_state": 0, **extra})


@pytest.fixture(scope="module", params=sorted(SYNTHESIZERS))
def fitted(request):
    cls = SYNTHESIZERS[request.param]
    train = make_mixed_frame(N)
    return _make(cls).fit(train), train


def test_sample_columns_dtypes_and_size(fitted):
    model, train = fitted
    out = model.sample(333, random_state=1)
    assert len(out) == 333
    assert list(out.columns) == list(train.columns)
    assert out.dtypes.to_dict() == train.dtypes.to_dict()
    assert isinstance(out.index, pd.RangeIndex)


def test_values_stay_in_training_support(fitted):
    model, train = fitted
    out = model.sample(1000, random_state=2)
    for spec in model.schema_:
        col, ref = out[spec.name].dropna(), train[spec.name].dropna()
        if spec.kind == "categorical":
            assert set(col.astype(object)) <= set(ref.astype(object)), spec.name
        elif spec.kind in ("numerical", "integer", "datetime") and spec.info.get("format") is None:
            assert col.min() >= ref.min() and col.max() <= ref.max(), spec.name
        if spec.kind == "integer":
            assert np.all(np.asarray(col, dtype=float) % 1 == 0), spec.name
    assert out["const"].eq("k").all()
    assert out["all_nan"].isna().all()
    assert out["row_id"].is_unique and not set(out["row_id"]) & set(train["row_id"])
    assert set(out["date_str"]) <= set(
        pd.date_range("2019-01-01", "2019-12-31").strftime("%Y-%m-%d")
    )


def test_missing_rates_are_reproduced(fitted):
    model, train = fitted
    out = model.sample(2000, random_state=3)
    for name in ("num_nan", "int_nan", "int_float_nan", "cat_nan", "nbool"):
        assert abs(out[name].isna().mean() - train[name].isna().mean()) < 0.05, name


def test_same_seed_same_rows_and_refit_is_identical(fitted):
    model, train = fitted
    a = model.sample(200, random_state=7)
    b = model.sample(200, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    c = model.sample(200, random_state=8)
    assert not a.equals(c)
    again = clone(model).fit(train)
    pd.testing.assert_frame_equal(again.sample(200, random_state=7), a)


def test_default_sampling_stream_is_reproducible(fitted):
    model, train = fitted
    m1, m2 = clone(model).fit(train), clone(model).fit(train)
    first = m1.sample(50)
    pd.testing.assert_frame_equal(first, m2.sample(50))
    assert not first.equals(m1.sample(50))  # the stream advances


def test_fit_mutates_neither_input_nor_params():
    for cls in SYNTHESIZERS.values():
        train = make_mixed_frame(120)
        before = train.copy(deep=True)
        model = _make(cls, schema={"int": "integer"})
        params = {k: v for k, v in model.get_params().items()}
        model.fit(train)
        pd.testing.assert_frame_equal(train, before)
        assert model.get_params() == params
        assert model.schema == {"int": "integer"}


def test_not_fitted_error():
    for cls in SYNTHESIZERS.values():
        with pytest.raises(NotFittedError):
            cls().sample(3)
        with pytest.raises(NotFittedError):
            cls().save("never-written.tabgen")


def test_sklearn_params_clone_and_set_params():
    for cls in SYNTHESIZERS.values():
        model = _make(cls)
        twin = clone(model)
        assert twin.get_params() == model.get_params()
        twin.set_params(random_state=5)
        assert twin.random_state == 5 and model.random_state == 0
        assert repr(model).startswith(cls.__name__)


def test_save_load_gives_identical_samples(fitted, tmp_path):
    model, _ = fitted
    path = tmp_path / "model.tabgen"
    model.save(path)
    loaded = tabgen.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(
        loaded.sample(300, random_state=4), model.sample(300, random_state=4)
    )
    cond = {"cat": "high"}
    pd.testing.assert_frame_equal(
        loaded.sample(50, conditions=cond, random_state=4),
        model.sample(50, conditions=cond, random_state=4),
    )


def test_conditions_dict_are_all_satisfied(fitted):
    model, _train = fitted
    for col, value in [("cat", "low"), ("cat_nan", "blue"), ("flag", True), ("unicode", "日本語")]:
        out = model.sample(150, conditions={col: value}, random_state=5)
        assert len(out) == 150
        assert (out[col] == value).all(), col
    both = model.sample(100, conditions={"cat": "mid", "catdtype": "y"}, random_state=5)
    assert (both["cat"] == "mid").all() and (both["catdtype"] == "y").all()


def test_conditions_frame_gives_one_row_per_condition_row(fitted):
    model, _ = fitted
    cond = pd.DataFrame(
        {"cat": ["low", "high", "mid", "high"], "cat_nan": ["red", None, "blue", None]}
    )
    out = model.sample(conditions=cond, random_state=6)
    assert len(out) == 4
    assert list(out["cat"]) == ["low", "high", "mid", "high"]
    assert out["cat_nan"].iloc[0] == "red" and out["cat_nan"].iloc[2] == "blue"


def test_numeric_conditions_when_supported(fitted):
    model, _ = fitted
    if not model._numeric_conditions:
        pytest.skip(f"{type(model).__name__} conditions on categorical columns only")
    out = model.sample(80, conditions={"int": 17, "cat": "low"}, random_state=6)
    assert (out["int"] == 17).all() and (out["cat"] == "low").all()


def test_bad_conditions_raise_clear_errors(fitted):
    model, _ = fitted
    with pytest.raises(ValueError, match="unknown column"):
        model.sample(5, conditions={"nope": 1})
    with pytest.raises(ValueError, match="unknown category 'purple' for column 'cat'"):
        model.sample(5, conditions={"cat": "purple"})
    with pytest.raises(ValueError, match="row_id"):
        model.sample(5, conditions={"row_id": 1000})
    with pytest.raises(ValueError, match="n"):
        model.sample(conditions={"cat": "low"})
    with pytest.raises(ValueError, match="missing"):
        model.sample(5, conditions={"cat": None})


def test_bad_n_raises(fitted):
    model, _ = fitted
    for bad in (0, -3):
        with pytest.raises(ValueError, match="positive"):
            model.sample(bad)
    with pytest.raises(TypeError):
        model.sample(2.5)


def test_single_row_frame_is_handled():
    one = make_mixed_frame(1)
    for cls in SYNTHESIZERS.values():
        try:
            model = _make(cls).fit(one)
        except ValueError as exc:  # allowed: a clear message about too few rows
            assert "row" in str(exc)
            continue
        out = model.sample(3, random_state=0)
        assert len(out) == 3
        assert (out["cat"] == one["cat"].iloc[0]).all()


def test_numpy_array_input_gets_generated_names():
    X = np.random.default_rng(0).normal(size=(150, 3))
    for cls in SYNTHESIZERS.values():
        out = _make(cls).fit(X).sample(10, random_state=0)
        assert list(out.columns) == ["x0", "x1", "x2"]


# -- the trainer contract of every neural model (tabgen.nn.trainer, tabgen.nn.device) ------
NEURAL = sorted(name for name, cls in SYNTHESIZERS.items() if "device" in cls().get_params())


@contextmanager
def _hard_timeout(seconds: int):
    """Fail (not hang) when the block runs over ``seconds``."""

    def _raise(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - Windows
        pytest.skip("needs signal.SIGALRM")
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_neural_models_are_the_expected_ones():
    assert NEURAL == ["diffusion", "gan", "vae"]


@pytest.mark.parametrize("name", NEURAL)
def test_max_time_ends_training(name):
    cls = SYNTHESIZERS[name]
    train = make_mixed_frame(200)
    model = _make(cls, epochs=1_000_000, max_time=0.5)
    with _hard_timeout(90):  # a model that ignores max_time would train for hours
        model.fit(train)
    assert 1 <= model.n_epochs_ < 1_000_000
    assert len(model.loss_history_) == model.n_epochs_
    assert len(model.sample(5, random_state=0)) == 5


@pytest.mark.parametrize("name", NEURAL)
def test_loss_history_is_recorded_per_epoch(name):
    cls = SYNTHESIZERS[name]
    model = _make(cls, epochs=4).fit(make_mixed_frame(200))
    assert model.n_epochs_ == 4
    history = np.asarray(model.loss_history_, dtype=float)
    assert history.shape == (4,) and np.isfinite(history).all()
    again = _make(cls, epochs=4).fit(make_mixed_frame(200))
    np.testing.assert_array_equal(again.loss_history_, history)  # same seed, same run


@pytest.mark.parametrize("name", NEURAL)
def test_device_policy(name, tmp_path):
    cls = SYNTHESIZERS[name]
    with pytest.raises(ValueError, match="device must be"):
        _make(cls, device="tpu").fit(make_mixed_frame(60))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _make(cls, device="cuda", epochs=1).fit(make_mixed_frame(60))
    model = _make(cls, epochs=2, device="auto").fit(make_mixed_frame(120))
    expected = model.sample(30, random_state=3)
    # as if fitted and saved on a GPU machine: the recorded device is CUDA
    model.set_params(device="cuda")
    model.save(tmp_path / "gpu.tabgen")
    loaded = tabgen.load(tmp_path / "gpu.tabgen")
    assert loaded.device == "cuda"
    out = loaded.sample(30, random_state=3)
    if not torch.cuda.is_available():
        assert loaded.device_.type == "cpu"
        pd.testing.assert_frame_equal(out, expected)
    else:
        assert len(out) == 30
