"""Column-kind detection, overrides, JSON round trip and hard input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgen.schema import Schema, check_frame


def test_detects_every_kind(mixed_frame):
    kinds = Schema.detect(mixed_frame).kinds
    assert kinds["num"] == "numerical"
    assert kinds["int"] == kinds["int_nan"] == kinds["int_float_nan"] == "integer"
    for name in ("cat", "cat_nan", "flag", "nbool", "catdtype", "sdtype", "unicode"):
        assert kinds[name] == "categorical", name
    assert kinds["when"] == kinds["when_tz"] == kinds["date_str"] == "datetime"
    assert kinds["row_id"] == "id"
    assert kinds["const"] == kinds["all_nan"] == "constant"


def test_detection_details(mixed_frame):
    schema = Schema.detect(mixed_frame)
    assert schema["when_tz"].info["tz"] == "Europe/Paris"
    assert schema["date_str"].info["format"] == "%Y-%m-%d"
    assert schema["catdtype"].info["categories"] == ["x", "y", "z"]
    assert schema["num_nan"].nullable and not schema["num"].nullable
    assert schema["all_nan"].info["value"] is None and schema["const"].info["value"] == "k"


def test_string_unique_column_is_an_id_but_short_ones_are_categories():
    emails = pd.DataFrame({"email": [f"u{i}@x.org" for i in range(30)]})
    assert Schema.detect(emails).kinds["email"] == "id"
    assert Schema.detect(emails.head(5)).kinds["email"] == "categorical"


def test_integer_unique_column_is_not_an_id_without_an_id_name():
    df = pd.DataFrame({"income": np.arange(100) * 7, "customer_id": np.arange(100)})
    kinds = Schema.detect(df).kinds
    assert kinds == {"income": "integer", "customer_id": "id"}


def test_overrides_and_their_errors():
    df = pd.DataFrame({"PAY_0": [0, 1, 2, 1] * 5, "x": [1.5, 2.5, 3.5, 4.0] * 5})
    assert Schema.detect(df, overrides={"PAY_0": "categorical"}).kinds["PAY_0"] == "categorical"
    with pytest.raises(ValueError, match="'nope'"):
        Schema.detect(df, overrides={"nope": "categorical"})
    with pytest.raises(ValueError, match="unknown kind 'weird'"):
        Schema.detect(df, overrides={"x": "weird"})
    with pytest.raises(ValueError, match="'x' was declared integer"):
        Schema.detect(df, overrides={"x": "integer"})
    text = pd.DataFrame({"t": ["a", "b"] * 5})
    with pytest.raises(ValueError, match="non-numeric value 'a'"):
        Schema.detect(text, overrides={"t": "numerical"})


def test_json_round_trip(mixed_frame):
    schema = Schema.detect(mixed_frame)
    again = Schema.from_json(schema.to_json())
    assert again == schema
    assert again.kinds == schema.kinds


def test_mixed_type_object_column_keeps_python_types():
    df = pd.DataFrame({"m": [1, "a", 2.5, None, True, "a"] * 4})
    schema = Schema.detect(check_frame(df))
    assert schema.kinds["m"] == "categorical"


@pytest.mark.parametrize(
    ("frame", "error", "pattern"),
    [
        (pd.DataFrame(), ValueError, "no columns"),
        (pd.DataFrame({"a": []}), ValueError, "no rows"),
        (pd.DataFrame({"a": [[1, 2], [3]]}), TypeError, "column 'a' holds a list"),
        (pd.DataFrame({"a": [{"k": 1}, {"k": 2}]}), TypeError, "column 'a' holds a dict"),
        (
            pd.DataFrame({"a": [1.0, np.inf]}),
            ValueError,
            r"column 'a' holds an infinite value \(inf\)",
        ),
        (pd.DataFrame({"a": [1.0, -np.inf]}, dtype=object), ValueError, "infinite value"),
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            ValueError,
            "duplicate column names: \\['a'\\]",
        ),
        (pd.DataFrame({(1, 2): [1, 2]}), TypeError, "column label"),
    ],
)
def test_hard_input_raises_clear_errors(frame, error, pattern):
    with pytest.raises(error, match=pattern):
        check_frame(frame)


def test_rejects_non_tables():
    with pytest.raises(TypeError, match="DataFrame"):
        check_frame(42)
    with pytest.raises(TypeError, match="DataFrame"):
        check_frame("a,b\n1,2")
    with pytest.raises(TypeError, match="Sparse data"):
        import scipy.sparse

        check_frame(scipy.sparse.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_frame(np.ones((3, 2), dtype=complex))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        check_frame(np.empty((4, 0)))
    with pytest.raises(ValueError, match=r"2-dimensional.*Reshape your data"):
        check_frame(np.zeros(3))


def test_accepts_array_likes():
    from_list = check_frame([[1, "a"], [2, "b"]])
    assert list(from_list.columns) == ["x0", "x1"]
    assert from_list.shape == (2, 2)

    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.arange(6.0).reshape(3, 2)

    assert check_frame(ArrayLike()).to_numpy().tolist() == [[0, 1], [2, 3], [4, 5]]
