"""Arrow types of sampled rows for :func:`tabgen.sample_to_file`: the file schema from a
model's :class:`~tabgen.schema.Schema` (never from one batch, where a column may be all
missing) and each batch converted to it."""

from __future__ import annotations

import numpy as np
import pandas as pd


def model_categories(model) -> dict:
    """``{column: category list}`` of a fitted model's (or pipeline's) categorical columns."""
    encoder = getattr(model, "encoder_", None)
    if encoder is None:
        encoder = getattr(getattr(model, "synthesizer_", None), "encoder_", None)
    if encoder is None:
        return {}
    return {
        name: list(enc.categories_)
        for name, enc in encoder.encoders_.items()
        if hasattr(enc, "categories_")
    }


def parquet_schema(schema, categories: dict | None = None):
    """The Arrow schema of a model's sampled rows, from its :class:`~tabgen.schema.Schema`
    (never from one batch, where a column may be all missing), and the columns written as
    text.

    Arrow-backed input columns keep their Arrow type; other columns get the type of their
    dtype and kind. Object columns holding values of several types (numbers and strings,
    booleans and strings) are written as strings, with a warning naming them.
    ``categories`` (``{column: category list}``, from the fitted encoder) types the object
    columns of categories (all strings, all booleans, ...).

    Returns
    -------
    (pyarrow.Schema, list)
    """
    import warnings

    import pyarrow as pa

    from tabgen.schema import arrow_type

    fields, as_text = [], []
    for spec in schema:
        if spec.arrow is not None:
            t = arrow_type(spec.arrow)
        else:
            t = _spec_arrow_type(spec, (categories or {}).get(spec.name))
        if t is None:
            t = pa.string()
            as_text.append(spec.name)
        fields.append(pa.field(str(spec.name), t))
    if as_text:
        warnings.warn(
            f"column(s) {as_text!r} hold values of several types (e.g. numbers and strings); "
            "Parquet needs one type per column, so they are written as strings",
            UserWarning,
            stacklevel=3,
        )
    return pa.schema(fields), as_text


def _spec_arrow_type(spec, categories: list | None):
    """Arrow type of a column of the model's dtype ``spec.dtype`` (``None``: mixed types)."""
    import pyarrow as pa

    dtype = spec.dtype
    if spec.kind == "datetime" and spec.info.get("format") is not None:
        return pa.string()
    if dtype.startswith("datetime64"):
        unit = dtype[len("datetime64[") :].split(",")[0].rstrip("]") or "ns"
        return pa.timestamp(unit, tz=spec.info.get("tz"))
    if dtype in ("str", "string"):
        return pa.string()
    if dtype in ("bool", "boolean"):
        return pa.bool_()
    if dtype.startswith(("Int", "UInt", "Float")):
        return pa.from_numpy_dtype(np.dtype(dtype.lower()))
    if dtype.startswith(("int", "uint", "float")):
        if spec.nullable and dtype.startswith(("int", "uint")):
            return pa.int64()
        return pa.from_numpy_dtype(np.dtype(dtype))
    if dtype == "category":
        values = _value_type(spec.info.get("categories", []))
        return None if values is None else pa.dictionary(pa.int32(), values)
    # object columns: numbers with missing cells, booleans, strings, or a mix
    if spec.kind == "integer":
        return pa.int64()
    if spec.kind == "numerical":
        return pa.float64()
    if spec.kind == "constant":
        value = spec.info.get("value")
        return pa.null() if value is None else _value_type([value])
    if spec.kind == "id":
        return pa.string()
    if categories is not None:
        return _value_type(categories)
    return None


def _value_type(values):
    """Arrow type shared by Python scalars ``values`` (``None``: several kinds)."""
    import pyarrow as pa

    kinds = {"bool" if isinstance(v, (bool, np.bool_)) else type(v).__name__ for v in values}
    kinds = {"float" if k in ("float", "float64", "int", "int64") else k for k in kinds}
    if not kinds or kinds == {"str"}:
        return pa.string()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"float"}:
        whole = all(float(v).is_integer() for v in values)
        return pa.int64() if whole else pa.float64()
    return None


def arrow_batch(batch: pd.DataFrame, file_schema, as_text: list):
    """A sampled batch as an Arrow table of the file's schema."""
    import pyarrow as pa

    if as_text:
        batch = batch.copy()
        for col in as_text:
            values = batch[col].astype(object)
            batch[col] = values.map(str).where(values.notna(), None)
    arrays = []
    for field in file_schema:
        col = batch[_column_key(batch, field.name)]
        if pa.types.is_null(field.type):
            arrays.append(pa.nulls(len(col)))
            continue
        if pa.types.is_dictionary(field.type) and not isinstance(col.dtype, pd.CategoricalDtype):
            arr = pa.array(col, from_pandas=True).dictionary_encode()
        else:
            arr = pa.array(col, from_pandas=True)
        arrays.append(arr.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=file_schema)


def batch_fields(file_schema, batch: pd.DataFrame):
    """``file_schema`` restricted to the batch's columns, in the batch's order: a row source
    may leave out columns of its model's schema (the anonymizer drops PII columns), never add
    one (its values would be lost from the file, so that is an error)."""
    import pyarrow as pa

    by_name = {field.name: field for field in file_schema}
    missing = [c for c in batch.columns if str(c) not in by_name]
    if missing:
        raise ValueError(
            f"columns {missing} of the sampled rows are not in the model's schema; "
            "cannot type them in the Parquet file"
        )
    return pa.schema([by_name[str(c)] for c in batch.columns], metadata=file_schema.metadata)


def _column_key(batch: pd.DataFrame, name: str):
    """The batch column whose label is ``name`` as a string (integer labels too)."""
    if name in batch.columns:
        return name
    return next(c for c in batch.columns if str(c) == name)
