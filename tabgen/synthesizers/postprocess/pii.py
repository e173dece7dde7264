"""Personal-data columns (e-mail, phone, name, address, ...) regenerated, never learned.

Every synthesizer's fit finds the PII-like columns of its table (:func:`pii_schema`): the ones
:func:`tabgen.pii.detect_pii` recognises among the columns whose kind the ``schema`` does not
declare, and the ones the ``schema`` declares with a PII type (``schema={"contact":
"email"}``, any of :data:`tabgen.pii.PII_TYPES` but ``key``). They are modelled as ``id``
columns, so the model learns nothing of them (no slot, no category list in the model file);
the column's spec records the type in ``schema_[column].info["pii"]``.

:class:`RegeneratePII` then learns, for each of them, only aggregate facts of the format
(:class:`tabgen.pii.FakeColumn`: value shapes seen at least 5 times, word counts, missing
rate, phone country prefixes) and fills the generated rows with fresh values: realistic
names and addresses (Faker when installed, in the locale of the table's phone numbers) and
e-mail addresses at reserved domains. Key columns (``customer_id``) stay ``id`` columns, as
before. A differentially private fit detects nothing (detection reads the values outside the
privacy accounting): declare such columns ``"id"`` there.

To model a column that looks like personal data anyway, declare its kind:
``schema={"name": "categorical"}``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from tabgen.pii.names import PII_TYPES

#: PII types a synthesizer regenerates (keys are already regenerated as ``id`` columns).
#: Postcodes are detected by name with postcode-like values, or by a distinctive format
#: (:func:`tabgen.pii.detect_pii`); ``schema={"zip": "categorical"}`` models one instead.
REGENERATED = tuple(t for t in PII_TYPES if t != "key")
#: Other spellings accepted as declared kinds.
_ALIASES = {"name": "person_name", "phone_number": "phone", "ip_address": "ip"}


def declared_pii(overrides: dict | None) -> tuple[dict, dict]:
    """Split ``schema=`` overrides into (tabgen kinds, ``{column: PII type}`` declared)."""
    kinds, pii = {}, {}
    for column, kind in (overrides or {}).items():
        pii_type = _ALIASES.get(kind, kind)
        if pii_type in REGENERATED:
            pii[column] = pii_type
        else:
            kinds[column] = kind
    return kinds, pii


def pii_schema(frame: pd.DataFrame, overrides: dict | None, ruled=()):
    """The schema of a fit, PII columns (detected or declared) as ``id`` with their type.

    Parameters
    ----------
    frame : pandas.DataFrame
        The training rows (a validated frame).
    overrides : dict or None
        ``{column: kind}`` from the model's ``schema=``; a kind may be a PII type.
    ruled : collection of str
        Columns of the model's ``constraints`` (``Determines("zip", "city")``): modelled
        by the rule, never detected as PII.

    Returns
    -------
    tabgen.schema.Schema
    """
    from tabgen.pii import detect_pii
    from tabgen.schema import Schema, SchemaWarning

    kinds, pii = declared_pii(overrides)
    free = [c for c in frame.columns if c not in kinds and c not in pii and c not in ruled]
    detected = {}
    if free:
        found = detect_pii(frame[free])
        detected = {c: t for c, t in found.items() if t in REGENERATED}
    if detected:
        listed = ", ".join(f"{c!r} ({t})" for c, t in detected.items())
        first = next(iter(detected))
        warnings.warn(
            f"column(s) {listed} look like personal data: they are not learned, and sampled "
            "rows get fresh fake values of the same format. To model one anyway pass "
            f"schema={{{first!r}: 'categorical'}}",
            SchemaWarning,
            stacklevel=_outside_tabgen(),
        )
    pii.update(detected)
    schema = Schema.detect(frame, overrides={**kinds, **dict.fromkeys(pii, "id")})
    for column, pii_type in pii.items():
        schema[column].info["pii"] = pii_type
    return schema


class RegeneratePII:
    """Post-processor: fresh fake values in the PII columns of generated rows.

    Attributes
    ----------
    fakes : dict of column to FakeColumn
        One fitted :class:`~tabgen.pii.FakeColumn` per PII column.
    """

    name = "pii"

    def __init__(self, fakes: dict | None = None) -> None:
        self.fakes = dict(fakes or {})

    @property
    def found(self) -> dict:
        """``{column: PII type}``."""
        return {c: f.pii_type for c, f in self.fakes.items()}

    def fit(self, real: pd.DataFrame, model, rng) -> RegeneratePII | None:
        from tabgen.pii import FakeColumn
        from tabgen.pii.realistic import locale_of, name_part

        types = {s.name: s.info["pii"] for s in model.schema_ if "pii" in s.info}
        types = {c: t for c, t in types.items() if c in real.columns}
        if not types:
            return None
        phones = [v for c, t in types.items() if t == "phone" for v in real[c].dropna()[:1000]]
        locale = locale_of(phones)
        for column, pii_type in types.items():
            part = name_part(column) if pii_type == "person_name" else "full"
            fake = FakeColumn(pii_type, locale=locale, part=part)
            self.fakes[column] = fake.fit(real[column])
        return self

    def apply(self, frame: pd.DataFrame, conditions) -> pd.DataFrame:
        """Replace the PII columns of ``frame``. The random stream is seeded from the other
        generated cells, so a seeded ``sample`` call gives the same values every time."""
        rng = np.random.default_rng(_seed(frame, list(self.fakes)))
        for column, fake in self.fakes.items():
            if column in frame.columns:
                values = fake.generate(len(frame), rng)
                values.index = frame.index
                frame[column] = values
        return frame

    def get_state(self) -> tuple[dict, dict]:
        state = {
            str(i): {
                "column": column,
                "params": {
                    "pii_type": f.pii_type,
                    "min_count": f.min_count,
                    "unique": f.unique,
                    "locale": f.locale,
                    "part": f.part,
                },
                "facts": f.facts_,
            }
            for i, (column, f) in enumerate(self.fakes.items())
        }
        return state, {}

    @classmethod
    def from_state(cls, state: dict, arrays: dict) -> RegeneratePII:
        from tabgen.pii import FakeColumn

        fakes = {}
        for i in sorted(state, key=int):
            entry = state[i]
            params = dict(entry["params"])
            fake = FakeColumn(params.pop("pii_type"), **params)
            fake.facts_ = dict(entry["facts"])
            fakes[entry["column"]] = fake
        return cls(fakes)


def _outside_tabgen() -> int:
    """``stacklevel`` of the first caller outside the tabgen package."""
    import os
    import sys

    import tabgen

    package = os.path.dirname(os.path.abspath(tabgen.__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(package) or "contextlib" in frame.f_code.co_filename
    ):
        frame, level = frame.f_back, level + 1
    return level


def _seed(frame: pd.DataFrame, skip: list) -> list[int]:
    """Entropy for the fake values: a hash of the generated cells outside ``skip``."""
    rest = frame.drop(columns=[c for c in skip if c in frame.columns])
    words = [len(frame)]
    if rest.shape[1] and len(rest):
        hashed = pd.util.hash_pandas_object(rest, index=False).to_numpy()
        words += [int(hashed.sum(dtype=np.uint64)), int(np.bitwise_xor.reduce(hashed))]
    return words
