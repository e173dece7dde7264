"""``RelationalSynthesizer``: a whole database from single-table models.

How it works (details of the frames in :mod:`tabgen.relational._features`):

* **Fit.** Bottom-up, every table gets, for each child relationship, the number of children
  of each row and aggregates of the children (means, category shares; recursively, so that
  a grandparent carries its grandchildren's signal). Top-down, every child row gets its
  parents' rows (with their counts, aggregates and own ancestors) as context columns. One
  single-table model per table learns its frame: a parent's model learns its attributes
  jointly with how many children it has and what they look like on average; a child's
  model learns its rows jointly with its parents' context.
* **Sample.** Top-down: roots are sampled unconditionally (``scale`` times as many rows);
  each generated parent's sampled count says how many children it gets (zero included);
  the children are sampled *conditioned on* their parent's generated row (inpainting). A
  child with two parents gets its first parent by the counts and its second by the second
  parent's counts (rescaled to the same total), then is conditioned on both. A sequence
  (``order_by``) is generated row by row, each conditioned on its position and on the row
  before it, the order column rebuilt from the learnt steps (never decreasing).
* **Calibration** (``calibrate=True``). The sampled numbers of children are mapped to the
  learnt distribution by rank (each parent keeps its rank, hence its link to its
  attributes); each family of children is shifted and scaled to the mean and spread of its
  continuous columns that the parent was generated with, and its two-level columns are
  brought to the parent's share by sampling the changed children again given the new value
  (inpainting).
* **Keys.** Primary keys are fresh (``1..n``, or ``"<table>_<i>"`` for text keys); every
  foreign key is a generated parent's key, null only where the relationship is nullable.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from tabgen._rng import check_random_state, spawn_seed
from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.encoders.numerical import NumericEncoder
from tabgen.relational import _features as F
from tabgen.relational.metadata import Metadata

logger = logging.getLogger("tabgen")

__all__ = ["RelationalSynthesizer"]

DEFAULT_MODEL = "copula"


class RelationalSynthesizer(BaseEstimator):
    """Synthesize a database of related tables with key integrity.

    Parameters
    ----------
    metadata : Metadata, dict or None, default None
        Tables, keys, relationships (a dict in the JSON layout is accepted). ``None``:
        detected from the tables at ``fit`` (:meth:`Metadata.detect`; check ``metadata_``).
    model : str, synthesizer or dict, default "copula"
        The single-table model of every table: a registered name (``"copula"``,
        ``"vae"``, ``"diffusion"``, ``"gan"``), an unfitted synthesizer (cloned per table),
        or ``{table: name or synthesizer}`` (tables not named get ``"copula"``). Tables with
        a parent need a model that takes per-row conditions
        (``capabilities.row_conditions``). The copula is the default: it fits and samples
        each of the four benchmark databases in seconds (insteval's 73k ratings: under 10 s
        on 2 cores) with full key integrity and cardinality
        (``benchmarks/bench_relational.py``); the neural models are accepted but were not
        benchmarked here (a sequence table calls its model once per position).
    aggregates : int, default 12
        Most aggregate columns (means, spreads, category shares) of a child table carried
        into its parent's model, per relationship (0: only the child counts).
    calibrate : bool, default True
        After sampling, give the children counts the learnt distribution (each parent
        keeps its rank, so the dependence on its attributes stays) and give every family
        of children the mean and spread of its continuous columns that its parent was
        generated with (children shifted and scaled within their family; not a column
        that is a near-exact linear function of another, whose relation that would break).
        ``False``: the models' draws as they come.
    drop_orphans : bool, default False
        Drop child rows whose foreign key has no parent instead of raising.
    random_state : None, int or numpy.random.Generator
        Seed of the fit and of the default sampling stream.

    Attributes
    ----------
    metadata_ : Metadata
        The metadata used.
    models_ : dict
        Table -> fitted single-table model (``None`` for a table with nothing to learn,
        such as a key-only leaf table).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> users = pd.DataFrame({"user_id": range(40), "age": rng.integers(20, 60, 40)})
    >>> orders = pd.DataFrame({"order_id": range(100), "user_id": rng.integers(0, 40, 100),
    ...                        "amount": rng.gamma(2.0, 10.0, 100).round(2)})
    >>> meta = Metadata({"users": {"primary_key": "user_id"},
    ...                  "orders": {"primary_key": "order_id"}},
    ...                 [{"parent_table": "users", "parent_primary_key": "user_id",
    ...                   "child_table": "orders", "child_foreign_key": "user_id"}])
    >>> synth = RelationalSynthesizer(meta, random_state=0).fit(
    ...     {"users": users, "orders": orders})
    >>> fake = synth.sample(scale=0.5, random_state=1)
    >>> len(fake["users"]), fake["orders"]["user_id"].isin(fake["users"]["user_id"]).all()
    (20, np.True_)
    """

    def __init__(
        self,
        metadata=None,
        *,
        model="copula",
        aggregates: int = 12,
        calibrate: bool = True,
        drop_orphans: bool = False,
        random_state=None,
    ):
        self.metadata = metadata
        self.model = model
        self.aggregates = aggregates
        self.calibrate = calibrate
        self.drop_orphans = drop_orphans
        self.random_state = random_state

    # -- parameters -------------------------------------------------------------------------
    def _check_params(self) -> None:
        if (
            not isinstance(self.aggregates, numbers.Integral)
            or isinstance(self.aggregates, bool)
            or self.aggregates < 0
        ):
            raise ValueError(f"aggregates must be an integer >= 0, got {self.aggregates!r}")
        check_random_state(self.random_state)
        spec = self.model
        specs = spec.values() if isinstance(spec, dict) else [spec]
        for one in specs:
            self._estimator(one)

    def _metadata(self, tables) -> Metadata:
        meta = self.metadata
        if meta is None:
            return Metadata.detect(tables)
        if isinstance(meta, dict):
            return Metadata.from_dict(meta)
        if not isinstance(meta, Metadata):
            raise TypeError(
                f"metadata must be a Metadata, a dict or None, got {type(meta).__name__}"
            )
        return meta

    @staticmethod
    def _estimator(spec):
        from tabgen.synthesizers.base import BaseSynthesizer
        from tabgen.synthesizers.registry import get_synthesizer

        if isinstance(spec, str):
            return get_synthesizer(spec)()
        if isinstance(spec, BaseSynthesizer):
            return clone(spec)
        raise TypeError(
            f"model must be a model name, an unfitted synthesizer or a dict of them, got {spec!r}"
        )

    def _table_model(self, table: str, meta: Metadata, rng):
        spec = self.model
        if isinstance(spec, dict):
            unknown = [t for t in spec if t not in meta.tables]
            if unknown:
                raise ValueError(f"model names unknown table(s) {unknown}; tables: {meta.tables}")
            spec = spec.get(table, DEFAULT_MODEL)
        est = self._estimator(spec)
        if meta.parents(table) and not (
            est.capabilities.row_conditions or est.capabilities.inpainting
        ):
            raise ValueError(
                f"table {table!r} has a parent, so its model must take per-row conditions; "
                f"{type(est).__name__} does not (use copula, vae or diffusion)"
            )
        if "random_state" in est.get_params():
            est.set_params(random_state=spawn_seed(rng) % (2**32))
        return est

    # -- fit --------------------------------------------------------------------------------
    def fit(self, tables: dict) -> RelationalSynthesizer:
        """Learn the database.

        Parameters
        ----------
        tables : dict of str to pandas.DataFrame
            One DataFrame per metadata table (never modified).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad metadata or data (see :meth:`Metadata.validate`), bad parameters, or a
            column whose name starts with ``__tg_`` (reserved).
        """
        self._check_params()
        meta = self._metadata(tables)
        data = meta.validate(tables, drop_orphans=self.drop_orphans)
        rng = check_random_state(self.random_state)
        order = meta.order()
        for t in order:
            bad = [c for c in data[t].columns if str(c).startswith(F.PREFIX)]
            if bad:
                raise ValueError(
                    f"table {t!r}: column names starting with {F.PREFIX!r} are reserved: {bad}"
                )
        groups = {
            rel: F.parent_positions(
                data[rel.child][rel.child_key], data[rel.parent][rel.parent_key]
            )
            for rel in meta.relationships
        }
        own = {t: data[t].drop(columns=meta.key_columns(t)).reset_index(drop=True) for t in order}
        down, specs = {}, {}
        for t in reversed(order):
            parts = [own[t]]
            for rel in meta.children(t):
                specs[rel.name] = F.aggregate_specs(down[rel.child], self.aggregates)
                parts.append(
                    F.aggregates(down[rel.child], groups[rel], len(data[t]), rel, specs[rel.name])
                )
            down[t] = pd.concat(parts, axis=1)
        full = {}
        for t in order:
            full[t] = pd.concat(
                [down[t]] + [self._context(full, rel, groups[rel]) for rel in meta.parents(t)],
                axis=1,
            )

        self.metadata_ = meta
        self.tables_ = {}
        self.relationships_ = {}
        self.models_ = {}
        for rel in meta.relationships:
            null = groups[rel] < 0
            per_parent = np.bincount(groups[rel][~null], minlength=len(data[rel.parent]))
            self.relationships_[rel.name] = {
                "aggregates": [list(s) for s in specs[rel.name]],
                "n_null": int(null.sum()),
                "null_share": float(null.mean()) if len(null) else 0.0,
                "counts": F.count_distribution(per_parent),
            }
        for t in order:
            frame = full[t]
            info = {
                "columns": [str(c) for c in data[t].columns],
                "dtypes": {str(c): str(d) for c, d in data[t].dtypes.items()},
                "n_rows": len(data[t]),
                "down": [str(c) for c in down[t].columns],
                "primary": self._primary(meta, t),
                "ranges": {
                    str(c): [float(own[t][c].min()), float(own[t][c].max())]
                    for c in own[t].columns
                    if F.is_numeric(own[t][c]) and own[t][c].notna().any()
                },
                "linked": F.linked_columns(own[t]),
            }
            order_col = meta.order_by(t)
            if order_col is not None:
                rel = meta.parents(t)[0]
                numbers_ = F.order_numbers(data[t][order_col])
                seq = F.sequence_features(own[t], groups[rel], numbers_, order_col)
                frame = pd.concat([frame.drop(columns=[order_col]), seq], axis=1)
                info["start"] = _median(seq[F.START])
                info["gap"] = _median(seq[F.GAP])
            info["fill"] = F.fill_values(frame)
            frame = F.apply_fill(frame, info["fill"])
            self.tables_[t] = info
            learnable = down[t].shape[1] > 0 or order_col is not None
            if not learnable or len(frame) == 0:
                self.models_[t] = None
                continue
            model = self._table_model(t, meta, rng)
            logger.info(
                "fitting %s on table %r (%d rows x %d columns)",
                type(model).__name__,
                t,
                *frame.shape,
            )
            self.models_[t] = model.fit(frame)
        self._sampling_rng = np.random.default_rng(spawn_seed(rng))
        return self

    @staticmethod
    def _primary(meta: Metadata, table: str) -> str | None:
        """The relationship whose counts decide how many rows a child gets (the first
        non-nullable one)."""
        rels = meta.parents(table)
        if not rels:
            return None
        firm = [r for r in rels if not r.nullable]
        return (firm or rels)[0].name

    @staticmethod
    def _context(full: dict, rel, positions: np.ndarray) -> pd.DataFrame:
        parent = full[rel.parent]
        ctx = parent.iloc[np.maximum(positions, 0)].reset_index(drop=True)
        if len(parent) == 0:
            ctx = pd.DataFrame(np.nan, index=range(len(positions)), columns=parent.columns)
        missing = positions < 0
        if missing.any():
            ctx = ctx.astype({c: "float64" for c in ctx.columns if F.is_numeric(ctx[c])})
            ctx.loc[missing, :] = np.nan
        ctx.columns = [F.context_prefix(rel) + str(c) for c in ctx.columns]
        return ctx

    # -- persistence ------------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = False):
        """Write the fitted database model to one safe model file (JSON + arrays, no pickle).

        The file holds the metadata, the fitted state and every table's model in the
        format of :mod:`tabgen.persistence` (``"container": "relational"`` in its header);
        :func:`tabgen.load` reads it back with every check of a single-table model file.

        Parameters
        ----------
        path : str or Path
        overwrite : bool, default False
            Replace an existing file; otherwise an existing ``path`` raises
            ``FileExistsError``.

        Returns
        -------
        pathlib.Path
        """
        return _save(self, path, overwrite)

    # -- sample -----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError(
                "This RelationalSynthesizer instance is not fitted yet. Call 'fit' with a dict "
                "of DataFrames before sampling."
            )

    def sample(self, scale: float = 1.0, random_state=None) -> dict:
        """Generate a database.

        Parameters
        ----------
        scale : float, default 1.0
            Size relative to the training database: each root table gets
            ``round(scale * rows)`` rows (at least one); child tables follow from the
            sampled numbers of children.
        random_state : None, int or numpy.random.Generator
            Seed of this call; ``None`` continues the estimator's own stream.

        Returns
        -------
        dict of str to pandas.DataFrame
            One table per metadata table, with the training columns and dtypes.
        """
        self._check_fitted()
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        meta = self.metadata_
        full, keys, out = {}, {}, {}
        for t in meta.order():
            info = self.tables_[t]
            assign = self._assign_parents(t, full, scale, rng)
            n = (
                max(1, round(scale * info["n_rows"]))
                if not assign
                else len(next(iter(assign.values())))
            )
            ctx = [self._context(full, rel, pos) for rel, pos in assign.items()]
            context = pd.concat(ctx, axis=1) if ctx else pd.DataFrame(index=range(n))
            frame = self._sample_table(t, n, context, assign, rng)
            if self.calibrate:
                frame = self._calibrate(t, frame, full, context, assign, rng)
            down = frame[info["down"]] if info["down"] else pd.DataFrame(index=range(n))
            full[t] = pd.concat([down.reset_index(drop=True), context], axis=1)
            out[t], keys[t] = self._assemble(t, frame, assign, keys)
        return out

    def _calibrate(self, table, frame, full, context, assign, rng) -> pd.DataFrame:
        """Counts to the learnt distribution; families to their parent's moments and
        category shares (see ``calibrate``)."""
        meta = self.metadata_
        for rel in meta.children(table):
            col = F.count_column(rel)
            if col in frame.columns:
                counts = _counts(frame[col])
                frame[col] = F.calibrate_counts(
                    counts, self.relationships_[rel.name]["counts"], rng
                )
        primary = self.tables_[table]["primary"]
        rel = next((r for r in assign if r.name == primary), None)
        if rel is None or len(frame) == 0:
            return frame
        specs = self.relationships_[rel.name]["aggregates"]
        if meta.order_by(table) is None:
            frame = self._calibrate_shares(table, frame, full, context, rel, assign[rel], rng)
        parent = full[rel.parent]
        ranges = self.tables_[table].get("ranges", {})
        for spec in specs:
            col = spec[1]
            if (
                spec[0] != "std"
                or col not in frame.columns
                or col == meta.order_by(table)
                or col not in ranges
                or col in self.tables_[table].get("linked", [])
            ):
                continue
            mean = parent[F.aggregate_name(rel, ["mean", col])].to_numpy(dtype="float64")
            std = parent[F.aggregate_name(rel, spec)].to_numpy(dtype="float64")
            x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64")
            new = F.calibrate_moments(x, assign[rel], mean, std, *ranges[col])
            dtype = pd.api.types.pandas_dtype(self.tables_[table]["dtypes"][col])
            if pd.api.types.is_integer_dtype(dtype):
                new = np.round(new)
            frame[col] = _as_dtype(pd.Series(new), str(dtype)).to_numpy()
        return frame

    def _calibrate_shares(self, table, frame, full, context, rel, family, rng):
        """Two-level columns: each family gets the share of the first level its parent was
        generated with; the children whose level changes are sampled again given the new
        level and their context (inpainting), so that their other columns agree."""
        model = self.models_[table]
        shares = [s for s in self.relationships_[rel.name]["aggregates"] if s[0] == "share"]
        parent = full[rel.parent]
        for spec in shares:
            col, level = spec[1], spec[2]
            if col not in frame.columns or model is None or col not in model.columns_:
                continue
            if model.schema_[col].kind != "categorical":
                continue
            cats = model.encoder_.encoders_[col].categories_
            if len(cats) != 2 or level not in [str(c) for c in cats]:
                continue
            first = next(c for c in cats if str(c) == level)
            other = next(c for c in cats if str(c) != level)
            target = parent[F.aggregate_name(rel, spec)].to_numpy(dtype="float64")
            values = frame[col]
            is_first = (values.astype(str) == level).to_numpy() & values.notna().to_numpy()
            flips = F.share_flips(is_first, values.notna().to_numpy(), family, target, rng)
            if len(flips) == 0:
                continue
            new_values = np.where(is_first[flips], other, first)
            cond = F.apply_fill(
                context.iloc[flips].reset_index(drop=True), self.tables_[table].get("fill", {})
            )
            cond = _conditions(model, cond)
            cond = pd.DataFrame(index=range(len(flips))) if cond is None else cond
            cond[col] = pd.Series(new_values, dtype=object)
            redo = model.sample(conditions=cond, random_state=rng).reset_index(drop=True)
            frame = frame.copy()
            for c in frame.columns:
                if c in redo.columns and not c.startswith("__tg_p."):
                    column = frame[c].copy()
                    column.iloc[flips] = redo[c].to_numpy()
                    frame[c] = column
        return frame

    def _assign_parents(self, table, full, scale, rng) -> dict:
        """Relationship -> the generated parent (row position, -1 for none) of each row."""
        meta = self.metadata_
        rels = meta.parents(table)
        if not rels:
            return {}
        primary = next(r for r in rels if r.name == self.tables_[table]["primary"])
        counts = _counts(full[primary.parent][F.count_column(primary)])
        pos = np.repeat(np.arange(len(counts)), counts)
        n_null = self.relationships_[primary.name]["n_null"]
        if n_null:
            pos = np.r_[pos, np.full(round(scale * n_null), -1)]
        assign = {primary: pos}
        for rel in rels:
            if rel is primary:
                continue
            assign[rel] = _match(
                _counts(full[rel.parent][F.count_column(rel)]),
                len(pos),
                self.relationships_[rel.name]["null_share"],
                rng,
            )
        return assign

    def _sample_table(self, table, n, context, assign, rng) -> pd.DataFrame:
        model = self.models_[table]
        if model is None or n == 0:
            return pd.DataFrame(index=range(n))
        if self.metadata_.order_by(table) is not None:
            return self._sample_sequence(table, model, context, next(iter(assign.values())), rng)
        cond = _conditions(model, F.apply_fill(context, self.tables_[table].get("fill", {})))
        if cond is None:
            return model.sample(n, random_state=rng).reset_index(drop=True)
        return model.sample(conditions=cond, random_state=rng).reset_index(drop=True)

    def _sample_sequence(self, table, model, context, parents, rng) -> pd.DataFrame:
        """Rows of a sequence table, step by step: step ``k`` conditions on the position
        ``k``, the parent's context and the row at step ``k - 1``."""
        info = self.tables_[table]
        order_col = self.metadata_.order_by(table)
        n = len(parents)
        first = np.r_[True, parents[1:] != parents[:-1]] | (parents < 0)
        pos = np.arange(n)
        index = pos - np.maximum.accumulate(np.where(first, pos, 0))
        prev_cols = [c for c in model.columns_ if c.startswith("__tg_prev.")]
        pieces = []
        result = None
        for k in range(int(index.max()) + 1 if n else 0):
            rows = np.flatnonzero(index == k)
            cond = context.iloc[rows].reset_index(drop=True)
            cond[F.INDEX] = k
            if k > 0:
                prev = result.loc[rows - 1].reset_index(drop=True)
                for c in prev_cols:
                    cond[c] = prev[c[len("__tg_prev.") :]].to_numpy()
            got = _conditions(model, F.apply_fill(cond, info.get("fill", {})))
            step = model.sample(conditions=got, random_state=rng).reset_index(drop=True)
            step.index = rows
            pieces.append(step)
            result = pd.concat(pieces).sort_index()
        frame = result.sort_index().reset_index(drop=True)
        start = pd.to_numeric(frame[F.START], errors="coerce").to_numpy(dtype="float64")
        gap = pd.to_numeric(frame[F.GAP], errors="coerce").to_numpy(dtype="float64")
        start = np.where(np.isnan(start), info["start"], start)
        gap = np.maximum(np.where(np.isnan(gap), info["gap"], gap), 0.0)
        values = np.empty(n)
        for i in range(n):
            values[i] = start[i] if index[i] == 0 else values[i - 1] + gap[i]
        frame[order_col] = F.order_values(
            values, pd.api.types.pandas_dtype(info["dtypes"][order_col])
        ).to_numpy()
        return frame

    def _assemble(self, table, frame, assign, keys):
        """The output table: fresh primary key, foreign keys of the generated parents,
        the own columns in the training order and dtypes."""
        info = self.tables_[table]
        meta = self.metadata_
        n = len(frame)
        cols = {}
        pk = meta.primary_key(table)
        key_values = None
        if pk is not None:
            key_values = _fresh_keys(table, n, info["dtypes"][pk])
            cols[pk] = key_values
        for rel, pos in assign.items():
            parent_keys = keys[rel.parent]
            values = pd.Series(
                parent_keys.to_numpy()[np.maximum(pos, 0)]
                if len(parent_keys)
                else np.full(len(pos), np.nan)
            )
            if (pos < 0).any():
                values = values.astype(object).where(pd.Series(pos >= 0), None)
            cols[rel.child_key] = _as_dtype(values, info["dtypes"][rel.child_key])
        for c in info["columns"]:
            if c not in cols:
                cols[c] = (
                    frame[c].reset_index(drop=True)
                    if c in frame.columns
                    else pd.Series(np.nan, index=range(n))
                )
        table_out = pd.DataFrame({c: cols[c] for c in info["columns"]})
        return table_out, (key_values if key_values is not None else pd.Series(np.arange(n)))


# -- helpers ----------------------------------------------------------------------------------
def _median(values) -> float:
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(x.median()) if len(x) else 0.0


def _counts(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    return np.maximum(np.nan_to_num(np.round(x), nan=0.0), 0).astype("int64")


def _match(counts: np.ndarray, n: int, null_share: float, rng) -> np.ndarray:
    """Parent position for each of ``n`` child rows, following the sampled ``counts``
    rescaled to the rows that have a parent (the others get -1)."""
    out = np.full(n, -1)
    m = n - int(rng.binomial(n, null_share)) if null_share > 0 else n
    if m == 0 or len(counts) == 0:
        return out
    weights = counts.astype("float64")
    if weights.sum() == 0:
        weights = np.ones(len(counts))
    expected = weights / weights.sum() * m
    base = np.floor(expected).astype("int64")
    rest = m - int(base.sum())
    if rest > 0:
        frac = expected - base
        extra = rng.choice(len(counts), size=rest, replace=False, p=frac / frac.sum())
        base[extra] += 1
    slots = np.repeat(np.arange(len(counts)), base)
    rows = rng.permutation(n)[:m]
    out[rows] = rng.permutation(slots)
    return out


def _conditions(model, context: pd.DataFrame) -> pd.DataFrame | None:
    """The context columns ``model`` can condition on, with values it accepts: numbers
    clipped to (and integers rounded within) its training range, unseen categories left
    free (NaN)."""
    cols = {}
    for col in context.columns:
        if col not in model.columns_ or not model.can_condition_on(col):
            continue
        enc = model.encoder_.encoders_[col]
        values = context[col].reset_index(drop=True)
        if isinstance(enc, CategoricalEncoder):
            known = values.isin(enc.categories_) & values.notna()
            cols[col] = values.astype(object).where(known, np.nan)
        elif isinstance(enc, NumericEncoder):
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            x = np.clip(x, enc.min_, enc.max_)
            if model.schema_[col].kind == "integer":
                x = np.clip(np.round(x), np.ceil(enc.min_), np.floor(enc.max_))
            cols[col] = x
    if not cols:
        return None
    return pd.DataFrame(cols)


def _fresh_keys(table: str, n: int, dtype: str) -> pd.Series:
    dt = pd.api.types.pandas_dtype(dtype)
    if pd.api.types.is_integer_dtype(dt) or pd.api.types.is_float_dtype(dt):
        return pd.Series(np.arange(1, n + 1)).astype(dt)
    return pd.Series([f"{table}_{i}" for i in range(1, n + 1)], dtype=object)


def _as_dtype(values: pd.Series, dtype: str) -> pd.Series:
    dt = pd.api.types.pandas_dtype(dtype)
    try:
        if values.isna().any() and pd.api.types.is_integer_dtype(dt):
            return values.astype("float64")
        return values.astype(dt)
    except (TypeError, ValueError):
        return values


# -- model file -------------------------------------------------------------------------------
def _save(synth: RelationalSynthesizer, path, overwrite: bool):
    from tabgen._output import check_output
    from tabgen._version import __version__
    from tabgen.persistence import model_parts, write_model_file

    synth._check_fitted()
    path = check_output(path, overwrite=overwrite, parents=True)
    models, chunks, offset = {}, [], 0
    for table, model in synth.models_.items():
        if model is None:
            models[table] = None
            continue
        header, data = model_parts(model)
        models[table] = {"header": header, "offset": offset, "length": len(data)}
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
            "drop_orphans": synth.drop_orphans,
            "random_state": synth.random_state if isinstance(synth.random_state, int) else None,
        },
        "metadata": synth.metadata_.to_dict(),
        "state": {"tables": synth.tables_, "relationships": synth.relationships_},
        "models": models,
        "arrays": {},
    }
    return write_model_file(path, header, b"".join(chunks))


_TABLE_FIELDS = {"columns": list, "dtypes": dict, "n_rows": int, "down": list}


def load_relational(header: dict, data: bytes, where: str) -> RelationalSynthesizer:
    """Rebuild a :class:`RelationalSynthesizer` from a validated model file's ``header``
    and bytes (called by :func:`tabgen.load`; every sub-model goes through the same checks
    as a single-table model file)."""
    from tabgen.persistence import ModelFileError, model_from_parts

    def bad(msg):
        return ModelFileError(f"{where} has an invalid relational model: {msg}")

    try:
        meta = Metadata.from_dict(header["metadata"])
        params = header["params"]
        synth = RelationalSynthesizer(
            meta,
            model=params.get("model") or DEFAULT_MODEL,
            aggregates=params.get("aggregates", 12),
            calibrate=bool(params.get("calibrate", True)),
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
    fitted = {}
    for table, entry in models.items():
        if entry is None:
            fitted[table] = None
            continue
        try:
            start, length = entry["offset"], entry["length"]
            sub = entry["header"]
        except (KeyError, TypeError):
            raise bad(f"the model of table {table!r} has no valid description") from None
        if not all(isinstance(v, int) and v >= 0 for v in (start, length)) or (
            start + length > len(data)
        ):
            raise bad(f"the model of table {table!r} points outside the file")
        if not isinstance(sub, dict):
            raise bad(f"the model of table {table!r} has no valid header")
        model = model_from_parts(sub, data[start : start + length], f"{where} (table {table!r})")
        missing = [
            c
            for c in tables[table]["down"]
            if c not in model.columns_ and c != meta.order_by(table)
        ]
        if missing:
            raise bad(f"the model of table {table!r} lacks the columns {missing[:5]}")
        fitted[table] = model
    synth.metadata_ = meta
    synth.tables_ = tables
    synth.relationships_ = rels
    synth.models_ = fitted
    seed = synth.random_state if isinstance(synth.random_state, int) else None
    synth._sampling_rng = np.random.default_rng(seed)
    return synth
