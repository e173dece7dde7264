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
  child with two parents gets its first parent by the counts; its rows are drawn given that
  parent alone, and each is given the slot of a second parent (the second parent's
  counts, rescaled to the same total) closest to what the draw expects of it (a
  minimum-cost assignment); then the rows are drawn again conditioned on both. A sequence
  (``order_by``) is generated row by row, each conditioned on its position and on the row
  before it, the order column rebuilt from the learnt steps (never decreasing); its first
  rows and its later rows have a model each (a first row has no row before it).
* **Calibration** (``calibrate=True``). The sampled numbers of children are mapped to the
  learnt distribution by rank (each parent keeps its rank, hence its link to its
  attributes); each family of children is shifted and scaled to the mean and spread of its
  continuous columns that the parent was generated with, and its two-level columns are
  brought to the parent's share by sampling the changed children again given the new value
  (inpainting). A generated parent with children whose aggregates came out missing (as a
  childless parent's are) beyond the learnt share gets them drawn given the rest of its
  row, so that its children are conditioned on values that agree with it.
* **Marginals** (``marginals="joint"``). Each generated row of a child table is paired
  with a distinct row of its model's unconditional draw, close in the row's own columns
  and in its parents' context (:mod:`tabgen.relational._match`), and takes that row's
  values: the table gets the joint distribution its model has on its own (the
  conditional draws inherit every error of the generated parents), each parent keeps
  children close to those it was generated with. ``marginals=True``: column by column
  instead, each numeric column mapped rank for rank onto the draw, each categorical
  column given the draw's level shares with the fewest cells changed.
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

from tabgen._params import store_params
from tabgen._rng import check_random_state, spawn_seed
from tabgen._validation import check_integer
from tabgen.relational import _features as F
from tabgen.relational import _sampling as S
from tabgen.relational._calibrate import calibrate, complete_aggregates, match_marginals
from tabgen.relational._modelfile import load_model, save_model
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
    marginals : {"joint", True, False}, default "joint"
        After sampling (and calibration), bring each child table to its model's
        unconditional draw (one draw per child table). ``"joint"``: each generated row
        takes the values of a distinct row of the draw, the closest in the table's own
        columns and its parents' context (a minimum-cost assignment, exact within blocks
        of 400 rows), so that the table has the draw's joint distribution while the
        conditioning on the generated parents still decides which parent gets which
        children. ``True``: column by column, each numeric column given the draw's
        marginal rank for rank, each categorical column the draw's level shares with the
        fewest cells changed (random cells of the over-represented levels). Either way a
        sequence's order column is mapped rank for rank (a monotone map: every sequence
        stays non-decreasing). ``False``: the conditional draws as they come (model files
        written before this option load with ``False``, so they sample as before).
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
        such as a key-only leaf table); of a sequence table, the model of its later rows.
    firsts_ : dict
        Sequence table -> the model of its first rows.

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

    #: The single-table model of a table the ``model`` dict does not name.
    DEFAULT_MODEL = DEFAULT_MODEL

    def __init__(
        self,
        metadata=None,
        *,
        model="copula",
        aggregates: int = 12,
        calibrate: bool = True,
        marginals="joint",
        drop_orphans: bool = False,
        random_state=None,
    ):
        store_params(self, locals())

    # -- parameters -------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_integer(self.aggregates, "aggregates", minimum=0)
        if not any(self.marginals is v for v in (True, False)) and self.marginals != "joint":
            raise ValueError(f'marginals must be "joint", True or False, got {self.marginals!r}')
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
                [down[t]] + [F.parent_context(full, rel, groups[rel]) for rel in meta.parents(t)],
                axis=1,
            )

        self.metadata_ = meta
        self.tables_ = {}
        self.relationships_ = {}
        self.models_ = {}
        self.firsts_ = {}
        for rel in meta.relationships:
            null = groups[rel] < 0
            per_parent = np.bincount(groups[rel][~null], minlength=len(data[rel.parent]))
            self.relationships_[rel.name] = {
                "aggregates": [list(s) for s in specs[rel.name]],
                "n_null": int(null.sum()),
                "null_share": float(null.mean()) if len(null) else 0.0,
                "counts": F.count_distribution(per_parent),
                "missing": F.missing_shares(down[rel.parent], rel, specs[rel.name]),
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
                # several parents: the others matched to rows drawn given the first
                "match_parents": len(meta.parents(t)) > 1 and meta.order_by(t) is None,
            }
            order_col = meta.order_by(t)
            if order_col is not None:
                rel = meta.parents(t)[0]
                numbers_ = F.order_numbers(data[t][order_col])
                seq = F.sequence_features(own[t], groups[rel], numbers_, order_col)
                frame = pd.concat([frame, seq], axis=1)
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
            first = F.first_rows(frame) if order_col is not None else None
            if first is not None:  # a sequence: its first rows get a model of their own
                start_model = self._table_model(t, meta, rng)
                self.firsts_[t] = _fit(start_model, t, F.first_frame(frame[first]))
                frame = F.later_frame(frame[~first])
            self.models_[t] = _fit(model, t, frame)
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
        return save_model(self, path, overwrite)

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
        return dict(self.iter_sample(scale, random_state))

    def iter_sample(self, scale: float = 1.0, random_state=None):
        """Generate a database table by table, parents first (what :meth:`sample` collects).

        Each table is yielded as soon as it is generated, and the generator keeps only what
        the tables still to come need (their parents' keys and rows), so that a caller can
        write each table and let it go (``tabgen sample-db`` does). The tables and the
        random stream are those of :meth:`sample` with the same arguments.

        Parameters
        ----------
        scale, random_state
            As for :meth:`sample` (checked at once, not at the first table).

        Returns
        -------
        iterator of (str, pandas.DataFrame)
        """
        self._check_fitted()
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        rng = self._sampling_rng if random_state is None else check_random_state(random_state)
        return self._tables(scale, rng)

    def _tables(self, scale, rng):
        meta = self.metadata_
        order = meta.order()
        full, keys = {}, {}
        for i, t in enumerate(order):
            info = self.tables_[t]
            assign = S.assign_parents(self, t, full, scale, rng)
            n = (
                max(1, round(scale * info["n_rows"]))
                if not assign
                else len(next(iter(assign.values())))
            )
            ctx = [F.parent_context(full, rel, pos) for rel, pos in assign.items()]
            context = pd.concat(ctx, axis=1) if ctx else pd.DataFrame(index=range(n))
            frame = S.sample_table(self, t, n, context, assign, rng)
            if self.calibrate:
                frame = calibrate(self, t, frame, full, context, assign, rng)
                frame = complete_aggregates(self, t, frame, rng)
            if self.marginals:
                frame = match_marginals(self, t, frame, rng)
            down = frame[info["down"]] if info["down"] else pd.DataFrame(index=range(n))
            full[t] = pd.concat([down.reset_index(drop=True), context], axis=1)
            table, keys[t] = S.assemble(self, t, frame, assign, keys)
            del frame, context, ctx, down
            needed = {r.parent for later in order[i + 1 :] for r in meta.parents(later)}
            for done in [d for d in full if d not in needed]:  # no table to come needs them
                del full[done], keys[done]
            yield t, table


# -- helpers ----------------------------------------------------------------------------------
def _fit(model, table: str, frame: pd.DataFrame):
    logger.info(
        "fitting %s on table %r (%d rows x %d columns)", type(model).__name__, table, *frame.shape
    )
    return model.fit(frame)


def _median(values) -> float:
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(x.median()) if len(x) else 0.0


def load_relational(header: dict, data: bytes, where: str) -> RelationalSynthesizer:
    """Rebuild a :class:`RelationalSynthesizer` from a validated model file's ``header``
    and bytes (called by :func:`tabgen.load`; every sub-model goes through the same checks
    as a single-table model file)."""
    return load_model(RelationalSynthesizer, header, data, where)
