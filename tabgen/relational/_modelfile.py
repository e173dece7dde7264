"""The model file of a :class:`~tabgen.relational.RelationalSynthesizer`: the metadata, the
fitted state and every table's model in the format of :mod:`tabgen.persistence`
(``"container": "relational"`` in its header), JSON and arrays, never pickle."""

from __future__ import annotations

import numpy as np

from tabgen.relational.metadata import Metadata


def save_model(synth, path, overwrite: bool):
    """Write a fitted :class:`RelationalSynthesizer` to one safe model file."""
    from tabgen._output import check_output
    from tabgen._version import __version__
    from tabgen.persistence import model_parts, write_model_file

    synth._check_fitted()
    path = check_output(path, overwrite=overwrite, parents=True)
    models, firsts, chunks, offset = {}, {}, [], 0
    entries = [(models, t, m) for t, m in synth.models_.items()]
    entries += [(firsts, t, m) for t, m in getattr(synth, "firsts_", {}).items()]
    for into, table, model in entries:
        if model is None:
            into[table] = None
            continue
        header, data = model_parts(model)
        into[table] = {"header": header, "offset": offset, "length": len(data)}
        chunks.append(data)
        offset += len(data)
    spec = synth.model
    header = {
        "tabgen_version": __version__,
        "class": "RelationalSynthesizer",
        "container": "relational",
        "params": {
            "model": spec if isinstance(spec, str) else None,
            "aggregates": synth.aggregates,
            "calibrate": synth.calibrate,
            "marginals": synth.marginals,
            "drop_orphans": synth.drop_orphans,
            "random_state": synth.random_state if isinstance(synth.random_state, int) else None,
        },
        "metadata": synth.metadata_.to_dict(),
        "state": {"tables": synth.tables_, "relationships": synth.relationships_},
        "models": models,
        "first_models": firsts,
        "arrays": {},
    }
    return write_model_file(path, header, b"".join(chunks))


_TABLE_FIELDS = {"columns": list, "dtypes": dict, "n_rows": int, "down": list}


def load_model(cls, header: dict, data: bytes, where: str):
    """Rebuild a relational synthesizer of class ``cls`` from a validated model file's ``header``
    and bytes (called by :func:`tabgen.load`; every sub-model goes through the same checks
    as a single-table model file)."""
    from tabgen.persistence import ModelFileError, model_from_parts

    def bad(msg):
        return ModelFileError(f"{where} has an invalid relational model: {msg}")

    try:
        meta = Metadata.from_dict(header["metadata"])
        params = header["params"]
        synth = cls(
            meta,
            model=params.get("model") or cls.DEFAULT_MODEL,
            aggregates=params.get("aggregates", 12),
            calibrate=bool(params.get("calibrate", True)),
            marginals=params.get("marginals", False),
            drop_orphans=bool(params.get("drop_orphans", False)),
            random_state=params.get("random_state"),
        )
        synth._check_params()
        state, models = header["state"], header["models"]
        tables, rels = state["tables"], state["relationships"]
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise bad(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(tables, dict) or sorted(tables) != sorted(meta.tables):
        raise bad("its tables differ from its metadata's")
    if not isinstance(models, dict) or sorted(models) != sorted(meta.tables):
        raise bad("its models differ from its metadata's tables")
    if not isinstance(rels, dict) or sorted(rels) != sorted(r.name for r in meta.relationships):
        raise bad("its relationships differ from its metadata's")
    for table, info in tables.items():
        for name, kind in _TABLE_FIELDS.items():
            if not isinstance(info, dict) or not isinstance(info.get(name), kind):
                raise bad(f"table {table!r} lacks a valid {name!r}")
    for name, info in rels.items():
        if not isinstance(info, dict) or not isinstance(info.get("n_null"), int):
            raise bad(f"relationship {name!r} lacks a valid 'n_null'")
    firsts = header.get("first_models", {})  # absent in files written before them
    if not isinstance(firsts, dict) or any(meta.order_by(t) is None for t in firsts):
        raise bad("its first-row models are not of sequence tables")

    def one(table, entry, what):
        try:
            start, length = entry["offset"], entry["length"]
            sub = entry["header"]
        except (KeyError, TypeError):
            raise bad(f"the {what} of table {table!r} has no valid description") from None
        if not all(isinstance(v, int) and v >= 0 for v in (start, length)) or (
            start + length > len(data)
        ):
            raise bad(f"the {what} of table {table!r} points outside the file")
        if not isinstance(sub, dict):
            raise bad(f"the {what} of table {table!r} has no valid header")
        model = model_from_parts(sub, data[start : start + length], f"{where} (table {table!r})")
        missing = [
            c
            for c in tables[table]["down"]
            if c not in model.columns_ and c != meta.order_by(table)
        ]
        if missing:
            raise bad(f"the {what} of table {table!r} lacks the columns {missing[:5]}")
        return model

    fitted = {t: None if e is None else one(t, e, "model") for t, e in models.items()}
    synth.firsts_ = {t: one(t, e, "first-row model") for t, e in firsts.items()}
    synth.metadata_ = meta
    synth.tables_ = tables
    synth.relationships_ = rels
    synth.models_ = fitted
    seed = synth.random_state if isinstance(synth.random_state, int) else None
    synth._sampling_rng = np.random.default_rng(seed)
    return synth
