"""The row discriminator's features computed straight from a model's encoded matrix.

:class:`~tabgen.synthesizers.postprocess.selection.RowFeatures` describes rows as the
selection scores them: decoded, snapped to their supports, with the category dependencies
applied (the post-processors before the selection). Scoring candidates that way means
decoding every candidate into a DataFrame and throwing most of them away.
:class:`EncodedFeatures` computes the same feature matrix from the encoded candidates with
a few array operations per column: category codes are looked up in tables built once (code
-> one-hot slot, determinant code -> dependent slot or value), numbers are decoded by their
own encoder (``_inverse``, vectorised), restored to the column's float precision, snapped
and overwritten by their determinant exactly as the post-processors do, then ranked among
the stored quantiles. Only the kept rows are then decoded.

:meth:`EncodedFeatures.compile` returns ``None`` for what it does not reproduce (numbers
written as text, post-processors it does not know, a dependency on a column that is not
categorical...); the caller then scores decoded rows as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Post-processors whose effect on the features is reproduced here (the discriminator's own
#: ``apply`` changes nothing).
_KNOWN = ("supports", "dependencies", "discriminator")


class EncodedFeatures:
    """Featurise encoded rows like ``features.transform(after_decode(decode(Z)))``.

    Build with :meth:`compile`; call with an encoder matrix (the encoder's units).
    """

    def __init__(self, width: int, numeric: list, categorical: list):
        self.width = width
        self._numeric = numeric
        self._categorical = categorical

    @classmethod
    def compile(cls, features, encoder, postprocessors) -> EncodedFeatures | None:
        """The plan for ``features`` (a ``RowFeatures``) of rows encoded by ``encoder`` and
        post-processed by ``postprocessors``; ``None`` when it cannot be exact."""
        from tabgen.encoders.base import to_series
        from tabgen.encoders.categorical import CategoricalEncoder
        from tabgen.encoders.numerical import NumericEncoder

        supports, dependencies = {}, []
        for step in postprocessors:
            if step.name not in _KNOWN:
                return None
            if step.name == "supports":
                supports = step.found
            elif step.name == "dependencies":
                dependencies = step.found
        source = {dep: (det, mapping) for dep, det, mapping in dependencies}
        if any(
            not isinstance(encoder.encoders_.get(det), CategoricalEncoder)
            for det, _ in source.values()
        ):
            return None

        def column(name):
            enc = encoder.encoders_.get(name)
            return enc, encoder.slices_[name].start if enc is not None else None

        numeric, j = [], 0
        for name, q in features.numeric.items():
            enc, start = column(name)
            if not isinstance(enc, NumericEncoder) or enc.spec_.info.get("text_number") is not None:
                return None
            dtype = str(enc.spec_.dtype).lower()
            precision = np.dtype(dtype) if dtype in ("float16", "float32") else None
            dep = None
            if name in source:
                det_enc, det_start, hit, mapped = _dependency(encoder, *source[name])
                values = pd.to_numeric(mapped, errors="coerce").to_numpy(dtype="float64")
                dep = (det_enc, det_start, hit, values)
            support = None
            if name in supports:
                support = np.asarray(supports[name], dtype="float64")
            numeric.append((enc, start, precision, support, dep, np.asarray(q, dtype="float64"), j))
            j += 2
        categorical = []
        for name, levels in features.categorical.items():
            enc, start = column(name)
            if not isinstance(enc, CategoricalEncoder):
                return None
            # every code, then a missing cell, decoded as decoding restores them
            cats = _categories(enc)
            mask = np.arange(len(cats) + 1) == len(cats)
            decoded = to_series(np.append(cats, cats[:1]), mask, enc.spec_)
            slots = features.slots(name, decoded)
            dep = None
            if name in source:
                det_enc, det_start, hit, mapped = _dependency(encoder, *source[name])
                dep = (det_enc, det_start, hit, features.slots(name, mapped))
            categorical.append((enc, start, slots, dep, j))
            j += len(levels) + 1
        return cls(features.width, numeric, categorical)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """Feature matrix (float32) of the encoded rows ``Z``."""
        n = Z.shape[0]
        out = np.zeros((n, self.width), dtype="float32")
        grid = np.linspace(-1.0, 1.0, 101)
        for enc, start, precision, support, dep, q, j in self._numeric:
            x = _numbers(enc, Z, start)
            if precision is not None:
                x = x.astype(precision).astype("float64")
            if support is not None:
                free = ~np.isnan(x)
                i = np.clip(np.searchsorted(support, x[free]), 1, len(support) - 1)
                left, right = support[i - 1], support[i]
                x[free] = np.where(np.abs(x[free] - left) <= np.abs(right - x[free]), left, right)
                if precision is not None:
                    x = x.astype(precision).astype("float64")
            if dep is not None:
                det_enc, det_start, hit, values = dep
                code, missing = _codes(det_enc, Z, det_start)
                rows = ~missing & hit[code]
                x[rows] = values[code[rows]]
                if precision is not None:
                    x = x.astype(precision).astype("float64")
            nan = np.isnan(x)
            out[:, j] = np.where(nan, 0.0, np.interp(np.where(nan, q[0], x), q, grid))
            out[:, j + 1] = nan
        rows = np.arange(n)
        for enc, start, slots, dep, j in self._categorical:
            code, missing = _codes(enc, Z, start)
            slot = np.where(missing, slots[-1], slots[np.minimum(code, len(slots) - 2)])
            if dep is not None:
                det_enc, det_start, hit, dep_slots = dep
                det_code, det_missing = _codes(det_enc, Z, det_start)
                on = ~det_missing & hit[det_code]
                slot = np.where(on, dep_slots[det_code], slot)
            out[rows, j + slot] = 1.0
        return out


def _categories(enc) -> np.ndarray:
    cats = np.empty(len(enc.categories_), dtype=object)
    cats[:] = enc.categories_
    return cats


def _dependency(encoder, det: str, mapping: dict) -> tuple:
    """A column kept as a function of the categorical column ``det`` (``{level: value}``):
    ``det``'s encoder, its first slot, which of its categories ``mapping`` holds, and the
    value of each category (``None`` where it holds none), as an object Series."""
    det_enc = encoder.encoders_[det]
    keys = _categories(det_enc)
    hit = pd.Index(list(mapping), dtype=object).get_indexer(keys) >= 0
    mapped = pd.Series([mapping[k] if h else None for k, h in zip(keys, hit)], dtype=object)
    return det_enc, encoder.slices_[det].start, hit, mapped


def _codes(enc, Z: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Category codes of a categorical column and its missing flags, as decoding reads them."""
    k = enc.n_categories
    if enc.name == "onehot":
        code = np.argmax(Z[:, start : start + k], axis=1)
        width = k
    else:
        code = np.clip(np.round(Z[:, start]), 0, k - 1).astype("int64")
        width = 1
    if enc.missing_.enabled_:
        missing = Z[:, start + width] > 0.5
    else:
        missing = np.zeros(Z.shape[0], dtype=bool)
    return code, missing


def _numbers(enc, Z: np.ndarray, start: int) -> np.ndarray:
    """Decoded numbers of a numeric column (float64, NaN where missing)."""
    width = sum(s.width for s in enc.spans)
    block = Z[:, start : start + width]
    vw = width - enc.missing_.width
    x = np.asarray(enc._inverse(block[:, :vw]), dtype="float64")
    if enc.missing_.enabled_:
        x[block[:, vw] > 0.5] = np.nan
    return x
