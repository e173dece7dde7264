"""Every pandas dtype a user meets, and no silent change of meaning (issue #21, data side).

Arrow-backed columns, nullable extension dtypes, polars and pyarrow inputs come back with
their own dtypes; what cannot be modelled is refused at fit; huge numbers, large integers and
text columns keep their meaning; Parquet streaming takes its schema from the model; integer
conditions and the over-sampler's ``y`` are checked up front.
"""

from __future__ import annotations

import decimal
import uuid
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tabgen
from tabgen import GaussianCopulaSynthesizer
from tabgen.encoders import TableEncoder
from tabgen.pipelines.oversampling import SyntheticOverSampler
from tabgen.schema import Schema, SchemaWarning

from .conftest import SHARED_DATA, make_mixed_frame, shared_datasets


def _copula(**kw):
    return GaussianCopulaSynthesizer(random_state=0, **kw)


def _with_nulls(values, rng, share=0.1):
    return [None if rng.random() < share else v for v in values]


def _arrow_table(n: int = 200, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    amounts = _with_nulls(rng.normal(100, 5, n).round(2).tolist(), rng)
    return pa.table(
        {
            "i": pa.array(_with_nulls(rng.integers(0, 100, n).tolist(), rng), pa.int32()),
            "u": pa.array(rng.integers(0, 200, n).tolist(), pa.uint8()),
            "f": pa.array(_with_nulls(rng.normal(size=n).tolist(), rng), pa.float32()),
            "s": pa.array(_with_nulls(rng.choice(["a", "b", "c"], n).tolist(), rng), pa.string()),
            "ls": pa.array(rng.choice(["x", "y"], n).tolist(), pa.large_string()),
            "b": pa.array(_with_nulls((rng.random(n) < 0.5).tolist(), rng), pa.bool_()),
            "t": pa.array(
                _with_nulls(pd.date_range("2020", periods=n, freq="h").tolist(), rng),
                pa.timestamp("ms"),
            ),
            "tz": pa.array(
                pd.date_range("2020", periods=n, freq="h", tz="Europe/Paris").tolist(),
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "d": pa.array(_with_nulls(rng.choice(["p", "q"], n).tolist(), rng)).dictionary_encode(),
            "day": pa.array(
                _with_nulls(pd.date_range("2020", periods=n, freq="D").date.tolist(), rng),
                pa.date32(),
            ),
            "dec": pa.array(
                [None if v is None else decimal.Decimal(f"{v:.2f}") for v in amounts],
                pa.decimal128(10, 2),
            ),
        }
    )


# -- Arrow-backed, nullable, polars and pyarrow inputs ----------------------------------------
def test_arrow_backed_columns_come_back_with_their_dtypes(tmp_path):
    df = _arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
    model = _copula().fit(df)
    out = model.sample(300, random_state=1)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    assert model.schema_["tz"].arrow == "timestamp[us, tz=Europe/Paris]"
    assert set(out["s"].dropna()) <= {"a", "b", "c"}
    assert out["tz"].min() >= df["tz"].min() and out["tz"].max() <= df["tz"].max()
    assert out["day"].isna().any() and out["dec"].notna().any()
    model.save(tmp_path / "m.tabgen")
    again = tabgen.load(tmp_path / "m.tabgen").sample(300, random_state=1)
    pd.testing.assert_frame_equal(again, out)


def test_arrow_conditions_and_caller_frame_untouched():
    df = _arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
    before = df.copy()
    model = _copula().fit(df)
    out = model.sample(20, conditions={"s": "b", "i": 40}, random_state=0)
    assert (out["s"] == "b").all() and (out["i"] == 40).all()
    assert out["i"].dtype == df["i"].dtype
    cond = df[["i", "s"]].dropna().head(6).reset_index(drop=True)
    cond.loc[[0, 2], "i"] = None
    cond.loc[[1], "s"] = None
    rows = model.sample(conditions=cond, random_state=0)
    fixed = cond.notna()
    assert (rows["i"][fixed["i"]] == cond["i"][fixed["i"]]).all()
    assert (rows["s"][fixed["s"]] == cond["s"][fixed["s"]]).all()
    assert rows.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(df, before)


def test_pyarrow_table_input():
    table = _arrow_table()
    out = _copula().fit(table).sample(50, random_state=0)
    assert out.dtypes.to_dict() == table.to_pandas(types_mapper=pd.ArrowDtype).dtypes.to_dict()


def test_polars_input():
    pl = pytest.importorskip("polars")
    frame = pl.from_arrow(_arrow_table())
    out = _copula().fit(frame).sample(50, random_state=0)
    expected = frame.to_arrow().to_pandas(types_mapper=pd.ArrowDtype).dtypes.to_dict()
    assert out.dtypes.to_dict() == expected
    with pytest.raises(TypeError, match="collect"):
        _copula().fit(frame.lazy())


def test_nullable_extension_dtypes_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 150
    df = pd.DataFrame(
        {
            "I": pd.array(_with_nulls(rng.integers(0, 30, n).tolist(), rng), dtype="Int64"),
            "F": pd.array(_with_nulls(rng.normal(size=n).tolist(), rng), dtype="Float64"),
            "B": pd.array(_with_nulls((rng.random(n) < 0.4).tolist(), rng), dtype="boolean"),
            "S": pd.array(_with_nulls(rng.choice(["u", "v"], n).tolist(), rng), dtype="string"),
        }
    )
    model = _copula().fit(df)
    out = model.sample(200, random_state=0)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    assert out.isna().any().all()
    model.save(tmp_path / "m.tabgen")
    again = tabgen.load(tmp_path / "m.tabgen").sample(200, random_state=0)
    pd.testing.assert_frame_equal(again, out)


@pytest.mark.parametrize(
    ("column", "dtype_text"),
    [
        (np.array([1 + 2j, 3j] * 15), "complex128"),
        (pd.arrays.SparseArray([0, 1, 0] * 10), "Sparse"),
        (pd.interval_range(0, 30), "interval"),
        (pd.Series([[1, 2], [3]] * 15, dtype=pd.ArrowDtype(pa.list_(pa.int64()))), "list<"),
        (pd.Series([{"a": 1}] * 30, dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())]))), "struct"),
    ],
    ids=["complex", "sparse", "interval", "list", "struct"],
)
def test_unmodellable_dtypes_are_refused_at_fit(column, dtype_text):
    df = pd.DataFrame({"ok": np.arange(30), "bad": column})
    with pytest.raises(TypeError, match=rf"'bad'.*{dtype_text}"):
        _copula().fit(df)


# -- no silent change of meaning ---------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e160, 1e300])
def test_copula_handles_numbers_of_any_magnitude(scale):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300) * scale
    df = pd.DataFrame({"x": x, "y": x / scale + rng.normal(scale=0.1, size=300)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = _copula().fit(df).sample(200, random_state=0)
    assert out["x"].notna().all()
    assert out["x"].min() >= x.min() and out["x"].max() <= x.max()
    assert np.corrcoef(out["x"] / scale, out["y"])[0, 1] > 0.8


@pytest.mark.parametrize("numerical", ["quantile", "standard", "minmax", "mode_specific"])
def test_encoders_round_trip_huge_numbers(numerical):
    x = np.random.default_rng(0).normal(size=400) * 1e300
    df = pd.DataFrame({"x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        enc = TableEncoder(numerical=numerical).fit(df, Schema.detect(df))
        Z = enc.transform(df)
        back = enc.inverse_transform(Z)["x"].to_numpy()
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(back / 1e300, x / 1e300, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("numerical", ["quantile", "standard", "minmax", "mode_specific"])
def test_large_int64_round_trip_is_exact(numerical):
    df = pd.DataFrame({"big": np.arange(300, dtype="int64") * 3 + 2**60 + 1})
    enc = TableEncoder(numerical=numerical).fit(df, Schema.detect(df))
    back = enc.inverse_transform(enc.transform(df))
    assert back["big"].dtype == "int64"
    assert (back["big"] == df["big"]).all()


def test_large_int64_samples_keep_exact_values_and_bounds(tmp_path):
    rng = np.random.default_rng(0)
    values = 2**60 + 1 + np.array([0, 1, 2, 5, 9], dtype="int64")
    df = pd.DataFrame({"big": rng.choice(values, 300), "y": rng.normal(size=300)})
    model = _copula().fit(df)
    out = model.sample(2000, random_state=0)
    assert out["big"].dtype == "int64"
    assert set(out["big"]) == set(values)  # distinct, exact values survive (no collapse)
    assert out["big"].min() >= df["big"].min()
    model.save(tmp_path / "m.tabgen")
    again = tabgen.load(tmp_path / "m.tabgen").sample(2000, random_state=0)
    pd.testing.assert_frame_equal(again, out)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(2**62, 2**62 + 10**6, 997, dtype="int64"),
        np.array([-(2**63), 2**62 + 7, 2**63 - 1], dtype="int64"),
        np.array([2**63 + 5, 2**63 + 9, 2**64 - 1], dtype="uint64"),
        np.array([0, 5, 2**64 - 1], dtype="uint64"),
    ],
    ids=["int64-offsets", "int64-full-range", "uint64-high", "uint64-full-range"],
)
def test_large_integers_never_leave_the_training_range(values):
    df = pd.DataFrame({"big": np.random.default_rng(0).choice(values, 300)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = _copula().fit(df).sample(2000, random_state=0)
    assert out["big"].dtype == values.dtype
    assert out["big"].min() >= values.min() and out["big"].max() <= values.max()


def _fit_warns(df):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _copula().fit(df)
    return model, [w for w in caught if issubclass(w.category, SchemaWarning)]


def test_codes_as_text_stay_categorical_with_a_warning():
    rng = np.random.default_rng(0)
    zips = [f"{z:05d}" for z in rng.choice(np.arange(1000, 99999), 60, replace=False)]
    # named "code", not "zip": a column named as a postcode is regenerated (test_pii.py)
    model, caught = _fit_warns(pd.DataFrame({"code": zips, "y": rng.normal(size=60)}))
    assert model.schema_["code"].kind == "categorical"
    assert "distinct" in model.schema_["code"].info["detected"]
    assert len(caught) == 1
    assert "'code'" in str(caught[0].message) and "schema={'code': 'id'}" in str(caught[0].message)
    out = model.sample(50, random_state=0)
    assert set(out["code"]) <= set(zips)  # real codes with their leading zeros, not syn-0...


def test_numbers_written_as_text_are_parsed_and_written_back():
    rng = np.random.default_rng(0)
    amounts = [f"{v:,.2f}" for v in rng.uniform(100, 5000, 80)]
    model, caught = _fit_warns(pd.DataFrame({"amount": amounts}))
    assert model.schema_["amount"].kind == "numerical"
    assert model.schema_["amount"].info["text_number"] == {"thousands": True, "decimals": 2}
    assert len(caught) == 1 and "schema={'amount': 'categorical'}" in str(caught[0].message)
    out = model.sample(100, random_state=0)
    assert out["amount"].str.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d").all()
    numbers = out["amount"].str.replace(",", "").astype(float)
    assert numbers.nunique() > 50 and numbers.between(100, 5000).all()


def test_eight_digit_codes_are_not_ids():
    rng = np.random.default_rng(1)
    codes = [str(v) for v in rng.choice(np.arange(10**7, 10**8), 60, replace=False)]
    padded = [f"{v:08d}" for v in rng.choice(np.arange(10**6, 10**7), 60, replace=False)]
    model, _ = _fit_warns(pd.DataFrame({"code": codes, "padded": padded}))
    assert model.schema_.kinds == {"code": "integer", "padded": "categorical"}
    out = model.sample(30, random_state=0)
    assert out["code"].str.fullmatch(r"\d{8}").all()
    assert set(out["padded"]) <= set(padded)


def test_ids_only_for_clear_keys():
    n = 40
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "ref": [str(uuid.UUID(int=int(rng.integers(0, 2**62)))) for _ in range(n)],
            "order": [f"ORD-{i:05d}" for i in range(n)],
            "city": rng.choice(["Oslo", "Rome"], n),
        }
    )
    model, caught = _fit_warns(df)
    assert model.schema_.kinds == {
        "customer_id": "id",
        "ref": "id",
        "order": "id",
        "city": "categorical",
    }
    assert [str(w.message).split(" is ")[0] for w in caught] == ["column 'order'"]
    forced = _copula(schema={"order": "categorical"}).fit(df[["order"]])
    assert forced.schema_["order"].kind == "categorical"


def test_ordinary_frames_raise_no_schema_warning(mixed_frame):
    _, caught = _fit_warns(mixed_frame)
    assert caught == []
    _, caught = _fit_warns(make_mixed_frame(60, seed=3))
    assert caught == []


# -- Parquet streaming ---------------------------------------------------------------------------
def test_parquet_schema_comes_from_the_model(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    flag = np.where(rng.random(n) < 0.97, None, rng.random(n) < 0.5).astype(object)
    df = pd.DataFrame({"flag": flag, "x": rng.normal(size=n)})
    model = _copula().fit(df)
    path = tmp_path / "out.parquet"
    tabgen.sample_to_file(model, path, 3000, batch_size=20, random_state=0)
    assert pq.read_schema(path).field("flag").type == pa.bool_()
    back = pd.read_parquet(path)
    assert len(back) == 3000 and back["flag"].notna().any() and back["flag"].isna().any()


def test_parquet_mixed_object_column_is_written_as_strings(tmp_path):
    rng = np.random.default_rng(0)
    mixed = np.where(rng.random(300) < 0.5, rng.integers(0, 5, 300), rng.choice(["a", "b"], 300))
    df = pd.DataFrame({"mixed": mixed.astype(object), "x": rng.normal(size=300)})
    df["mixed"] = [int(v) if v.isdigit() else v for v in df["mixed"]]
    model = _copula().fit(df)
    path = tmp_path / "out.parquet"
    with pytest.warns(UserWarning, match=r"\['mixed'\].*written as strings"):
        tabgen.sample_to_file(model, path, 500, batch_size=100, random_state=0)
    back = pd.read_parquet(path)
    assert pq.read_schema(path).field("mixed").type == pa.string()
    assert set(back["mixed"]) <= {"0", "1", "2", "3", "4", "a", "b"}


def test_parquet_streaming_keeps_arrow_types(tmp_path):
    table = _arrow_table(300)
    model = _copula().fit(table)
    path = tmp_path / "out.parquet"
    tabgen.sample_to_file(model, path, 600, batch_size=100, random_state=0)
    assert pq.read_schema(path).remove_metadata() == table.schema.remove_metadata()


# -- conditions and the over-sampler -------------------------------------------------------------
def test_fractional_condition_on_integer_column_is_refused():
    df = pd.DataFrame({"age": np.arange(20, 80), "job": ["a", "b", "c"] * 20})
    model = _copula().fit(df)
    with pytest.raises(ValueError, match=r"30\.5.*'age'.*whole number"):
        model.sample(5, conditions={"age": 30.5})
    with pytest.raises(ValueError, match=r"'age'"):
        model.sample(conditions=pd.DataFrame({"age": [30.0, 41.25]}))
    assert (model.sample(5, conditions={"age": 30.0}, random_state=0)["age"] == 30).all()


def _imbalanced(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    return X, np.where(X["x"] > 1.0, "rare", "common")


def _sampler():
    return SyntheticOverSampler(synthesizer=_copula(), selection=None, random_state=0)


def test_oversampler_refuses_continuous_y():
    X, _ = _imbalanced()
    with pytest.raises(ValueError, match=r"Unknown label type.*continuous"):
        _sampler().fit_resample(X, X["x"].to_numpy() * 1.5)


def test_oversampler_y_keeps_the_callers_type_and_dtype():
    X, y = _imbalanced()
    _, frame = _sampler().fit_resample(X, pd.DataFrame({"label": y}))
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["label"]
    assert frame["label"].value_counts()["rare"] == (y == "common").sum()
    cat = pd.Series(y, name="label", dtype="category", index=np.arange(len(y)) + 100)
    _, out = _sampler().fit_resample(X, cat)
    assert isinstance(out.dtype, pd.CategoricalDtype) and out.name == "label"
    assert list(out.cat.categories) == ["common", "rare"]
    ints = pd.Series((y == "rare").astype("int32"), name="k")
    _, out = _sampler().fit_resample(X, ints)
    assert out.dtype == "int32" and out.name == "k" and set(out) == {0, 1}
    _, arr = _sampler().fit_resample(X, (y == "rare").astype("int8"))
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int8


def test_oversampler_keeps_arrow_dtypes_of_X():
    X, y = _imbalanced()
    arrow = pa.Table.from_pandas(X).to_pandas(types_mapper=pd.ArrowDtype)
    X_res, _ = _sampler().fit_resample(arrow, y)
    assert X_res.dtypes.to_dict() == arrow.dtypes.to_dict()


# -- every shared table, Arrow-backed, through fit -> sample -> save -> load -> sample -------------
_SHARED = shared_datasets()


@pytest.mark.parametrize("name", sorted(_SHARED) or ["(no shared data)"])
def test_shared_tables_keep_arrow_dtypes_through_save_and_load(name, tmp_path, shared_data_dir):
    files = _SHARED[name]["files"]
    path = SHARED_DATA / (files.get("train") or next(iter(files.values())))
    df = pd.read_csv(path, dtype_backend="pyarrow", nrows=1000)
    model = _copula().fit(df)
    first = model.sample(300, random_state=1)
    assert first.dtypes.to_dict() == df.dtypes.to_dict()
    model.save(tmp_path / "m.tabgen")
    again = tabgen.load(tmp_path / "m.tabgen").sample(300, random_state=1)
    assert again.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(again, first)


def test_conditions_on_numbers_written_as_text():
    rng = np.random.default_rng(0)
    amounts = [f"{v:,.2f}" for v in rng.uniform(100, 5000, 80)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        model = _copula().fit(pd.DataFrame({"amount": amounts, "y": rng.normal(size=80)}))
    assert (model.sample(4, conditions={"amount": "1,500.25"})["amount"] == "1,500.25").all()
    assert (model.sample(4, conditions={"amount": 2000})["amount"] == "2,000.00").all()
    with pytest.raises(ValueError, match="outside the training range"):
        model.sample(4, conditions={"amount": "9,999.00"})
