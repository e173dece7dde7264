"""Encoders for categories: one-hot (a softmax block) and index codes (one slot).

Categories are kept in order of decreasing training frequency (ties by first appearance), so
code 0 is the most frequent value. Values unseen in training raise a ``ValueError`` naming the
column and the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen.encoders.base import ColumnEncoder, Span
from tabgen.schema import _json_scalar


class CategoricalEncoder(ColumnEncoder):
    """Shared behaviour: category set, frequencies, value-to-code mapping."""

    def _fit(self, values: pd.Series) -> None:
        raw = values.to_numpy(dtype=object)
        # True == 1 in Python: keep booleans apart from numbers in mixed object columns
        types = {type(v) for v in raw[:10_000]} if values.dtype == object else set()
        self.keyed_ = bool(types & {bool, np.bool_}) and bool(types - {bool, np.bool_, str})
        keys = self._keys(raw)
        counts = pd.Series(keys).value_counts(sort=True)
        first = dict(zip(keys[::-1], raw[::-1]))  # a representative value per key
        self.categories_ = [_json_scalar(first[k]) for k in counts.index]
        self.frequencies_ = (counts.to_numpy() / counts.sum()).tolist()

    def _keys(self, raw: np.ndarray) -> np.ndarray:
        if not getattr(self, "keyed_", False):
            return raw
        out = raw.copy()
        for i, v in enumerate(raw):
            if isinstance(v, (bool, np.bool_)):
                out[i] = f"\x00bool:{bool(v)}"
        return out

    def _fit_empty(self) -> None:
        raise ValueError(f"column {self.spec_.name!r} has no observed category")

    @property
    def n_categories(self) -> int:
        return len(self.categories_)

    def codes(self, values: pd.Series) -> np.ndarray:
        """Category codes of observed (non-missing) values."""
        cats = np.empty(len(self.categories_), dtype=object)
        cats[:] = self.categories_
        index = pd.Index(self._keys(cats), dtype=object)
        codes = index.get_indexer(pd.Index(self._keys(values.to_numpy(dtype=object)), dtype=object))
        if (codes < 0).any():
            bad = values.to_numpy(dtype=object)[codes < 0][0]
            raise ValueError(
                f"column {self.spec_.name!r} holds the category {bad!r}, unseen in training; "
                f"known categories start with {self.categories_[:10]!r}"
            )
        return codes

    def code_of(self, value) -> int:
        """Code of one category value, with a clear error for unseen ones."""
        for i, c in enumerate(self.categories_):
            if c == value and type(c) is type(_json_scalar(value)):
                return i
        for i, c in enumerate(self.categories_):
            if c == value:
                return i
        raise ValueError(
            f"unknown category {value!r} for column {self.spec_.name!r}; "
            f"known categories: {self.categories_[:20]!r}"
        )

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        cats = np.empty(len(self.categories_), dtype=object)
        cats[:] = self.categories_
        return cats[codes]

    def _get_state(self) -> dict:
        return {
            "categories": self.categories_,
            "frequencies": self.frequencies_,
            "keyed": self.keyed_,
        }

    def _set_state(self, state: dict) -> None:
        self.categories_ = list(state["categories"])
        self.frequencies_ = list(state["frequencies"])
        self.keyed_ = bool(state.get("keyed", False))


class OneHotEncoder(CategoricalEncoder):
    """One slot per category (a softmax block); decoding takes the arg-max."""

    name = "onehot"

    def _transform(self, values, rng):
        out = np.zeros((len(values), self.n_categories))
        out[np.arange(len(values)), self.codes(values)] = 1.0
        return out

    def _fill(self):
        out = np.zeros(self.n_categories)
        out[0] = 1.0
        return out

    def _inverse(self, block):
        return self.decode_codes(np.argmax(block, axis=1))

    def _value_spans(self):
        return [Span(self.spec_.name, 0, self.n_categories, "softmax", "value", self.n_categories)]


class OrdinalEncoder(CategoricalEncoder):
    """One slot holding the category code (rounded and clipped on the way back)."""

    name = "ordinal"

    def _transform(self, values, rng):
        return self.codes(values).astype("float64")[:, None]

    def _inverse(self, block):
        codes = np.clip(np.round(block[:, 0]), 0, self.n_categories - 1).astype(int)
        return self.decode_codes(codes)

    def _value_spans(self):
        return [Span(self.spec_.name, 0, 1, "index", "value", self.n_categories)]
