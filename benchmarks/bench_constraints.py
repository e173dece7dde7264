"""Constraints: validity and fidelity with and without ``constraints=``, beside SDV's (run by hand).

For adult, california and magic, each model is fitted on a random subset of the training
rows (rows breaking a rule dropped first, for every model alike) twice: without rules and
with the table's named rules (adult: education <-> education_num; california:
total_bedrooms <= total_rooms, households <= population; magic: Conc1 <= Conc,
Width <= Length) plus the exact rules :func:`tabgen.constraints.discover` proposes that do
not clash with them (non-negativity). Every model trains a fixed number of epochs (no
``max_time``), so that a busy machine changes the timings, not the quality.

Measured per fit: **validity** (share of sampled rows obeying every rule; FixedCombinations
checked against the training combinations) for plain sampling, for conditional sampling
(the target column fixed to one value), and for inpainting (held-out rows with about half
of their cells freed in one of four patterns, given cells kept); each of these two steps is
stopped after ``--step-limit`` seconds (recorded as a timeout; 0 skips both); shape, trend and the
gradient-boosting detection score against held-out rows (``tabgen.evaluate``; higher is
better); fit and sample time.
SDV's GaussianCopula and CTGAN (same epochs as the GAN) run in the same process with the
same rules as far as SDV's constraint classes express them (column inequalities, fixed
combinations; SDV has no inequality with a constant: its own min/max clipping stands in;
columns SDV detects as PII, such as latitude/longitude, are declared numerical or
categorical as for tabgen; inpainting through ``sample_remaining_columns`` with 50 tries
per batch).

    OMP_NUM_THREADS=1 PYTHONPATH=. /work/venv-bench/bin/python -m benchmarks.bench_constraints
        [--train 3000] [--rows 3000] [--epochs 100] [--step-limit 120] [--seeds 0]
        [--models copula,diffusion,vae,gan,sdv_copula,sdv_ctgan]
        [--datasets adult,california,magic] [--arms without,with] [--output constraints.json]

Writes ``benchmarks/results/constraints.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import time
import traceback
import warnings

import numpy as np
import pandas as pd

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.constraints import FixedCombinations, Inequality, discover
from tabgen.metrics.constraints import rule_violations

NAMED = {
    "adult": [FixedCombinations(["education", "education_num"])],
    "california": [
        Inequality("total_bedrooms", "<=", "total_rooms"),
        Inequality("households", "<=", "population"),
    ],
    "magic": [Inequality("Conc1", "<=", "Conc"), Inequality("Width", "<=", "Length")],
}
CONDITION = {
    "adult": ("income", ">50K"),
    "california": ("ocean_proximity", "NEAR BAY"),
    "magic": ("class", "h"),
}
TABGEN = {
    "copula": tabgen.GaussianCopulaSynthesizer,
    "diffusion": tabgen.DiffusionSynthesizer,
    "vae": tabgen.VAESynthesizer,
    "gan": tabgen.GANSynthesizer,
}
SDV = ("sdv_copula", "sdv_ctgan")


def rules_for(name: str, train) -> list:
    """The named rules, then the exact discovered ones that do not clash with them."""
    rules = list(NAMED[name])
    named_cols = {c for r in rules for c in r.columns}
    for rule in discover(train):
        if rule not in rules and not set(rule.columns) & named_cols:
            rules.append(rule)
    return rules


def validity(rules, train, frame) -> float:
    """Share of the rows of ``frame`` obeying every rule."""
    return 1.0 - rule_violations(train, frame, rules).scores["rule_violations_synthetic"]


def inpaint_conditions(train, holdout, rules, n, rng) -> pd.DataFrame:
    """``n`` held-out rows obeying the rules and inside the training domain, with the cells
    of one of four random patterns freed (each cell free with probability 1/2; at least one
    given and one free per row)."""
    ok = validity_mask(rules, train, holdout)
    for c in train.columns:
        col = holdout[c]
        if pd.api.types.is_numeric_dtype(train[c].dtype):
            ok &= (col.isna() | col.between(train[c].min(), train[c].max())).to_numpy()
        else:
            ok &= (col.isna() | col.isin(set(train[c].dropna()))).to_numpy()
    rows = holdout.loc[ok].sample(min(n, int(ok.sum())), random_state=0).reset_index(drop=True)
    patterns = rng.random((4, rows.shape[1])) < 0.5  # four patterns of free cells
    patterns[:, 0] = ~patterns[:, 1]  # each frees at least one cell and keeps one
    free = patterns[np.arange(len(rows)) % 4]
    return rows.astype(object).mask(free)


def validity_mask(rules, train, frame) -> np.ndarray:
    from tabgen.metrics.constraints import _bound

    bad = np.zeros(len(frame), dtype=bool)
    for rule in rules:
        bad |= np.asarray(_bound(rule, train).violations(frame), dtype=bool)
    return ~bad


def kept_given(cond: pd.DataFrame, out: pd.DataFrame) -> float:
    """Share of the given cells of ``cond`` that ``out`` keeps."""
    hits = total = 0
    for c in cond.columns:
        mask = cond[c].notna().to_numpy()
        want, got = cond[c].to_numpy(dtype=object)[mask], out[c].to_numpy(dtype=object)[mask]
        for w, g in zip(want, got):
            total += 1
            try:
                hits += bool(w == g) or abs(float(w) - float(g)) <= 1e-6 * max(1.0, abs(float(w)))
            except (TypeError, ValueError):
                pass
    return hits / max(total, 1)


# -- SDV ----------------------------------------------------------------------------------------
def sdv_constraints(rules, metadata) -> tuple[list, list]:
    """SDV CAG constraints for the rules it can express, and the rules left out."""
    from sdv.cag import FixedCombinations as SdvFixed
    from sdv.cag import Inequality as SdvInequality

    out, skipped = [], []
    for rule in rules:
        if isinstance(rule, Inequality) and len(rule.columns) == 2:
            out.append(
                SdvInequality(
                    low_column_name=rule.low,
                    high_column_name=rule.high,
                    strict_boundaries=rule.strict,
                )
            )
        elif isinstance(rule, FixedCombinations):
            for c in rule.columns:  # SDV fixes combinations of categorical columns only
                metadata.update_column(column_name=c, table_name="table", sdtype="categorical")
            out.append(SdvFixed(column_names=list(rule.columns)))
        else:
            skipped.append(repr(rule))
    return out, skipped


def sdv_model(name, train, rules, epochs, seed, with_rules):
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer

    metadata = Metadata.detect_from_dataframes({"table": train})
    for c, spec in metadata.to_dict()["tables"]["table"]["columns"].items():
        if spec["sdtype"] not in ("numerical", "categorical", "boolean", "datetime"):
            # e.g. latitude/longitude detected as PII and replaced by fakes: model them
            sdtype = "numerical" if pd.api.types.is_numeric_dtype(train[c]) else "categorical"
            metadata.update_column(column_name=c, table_name="table", sdtype=sdtype)
    skipped = []
    constraints = []
    if with_rules:
        constraints, skipped = sdv_constraints(rules, metadata)
    if name == "sdv_copula":
        model = GaussianCopulaSynthesizer(metadata)
    else:
        model = CTGANSynthesizer(metadata, epochs=epochs)
    if constraints:
        model.add_constraints(constraints)
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - SDV draws from the legacy global generator
    return model, skipped


class _SdvAdapter:
    """The calls the benchmark makes, on an SDV synthesizer (SDV 2 takes and gives
    ``{table name: DataFrame}``)."""

    def __init__(self, model):
        self.model = model

    def fit(self, train):
        self.model.fit({"table": train})
        return self

    @staticmethod
    def _frame(out):
        return next(iter(out.values())) if isinstance(out, dict) else out

    def sample(self, n=None, conditions=None, random_state=None):
        from sdv.sampling import Condition

        if conditions is None:
            return self._frame(self.model.sample(n))
        if isinstance(conditions, dict):
            return self._frame(
                self.model.sample_from_conditions([Condition(num_rows=n, column_values=conditions)])
            )
        # inpainting: SDV fills the remaining columns, one pattern of given cells at a time
        parts = []
        pattern = conditions.notna()
        for key, idx in pattern.groupby(list(pattern.columns)).groups.items():
            cols = [c for c, on in zip(pattern.columns, key) if on]
            known = conditions.loc[idx, cols].infer_objects()
            filled = self._frame(self.model.sample_remaining_columns(known, max_tries_per_batch=50))
            parts.append(filled.set_axis(idx))
        return pd.concat(parts).sort_index()


class StepTimeout(Exception):
    """A conditional or inpainting step ran past ``--step-limit`` seconds."""


@contextlib.contextmanager
def _time_limit(seconds: int):
    def stop(signum, frame):
        raise StepTimeout(f"stopped after {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- one fit --------------------------------------------------------------------------------------
def run_one(name, train, holdout, rules, args, seed, with_rules, cond_pair, inpaint) -> dict:
    out = {"model": name, "rules": with_rules, "seed": seed}
    if name in TABGEN:
        cls = TABGEN[name]
        params = {} if name == "copula" else {"epochs": args.epochs}
        if with_rules:
            params.update(constraints=rules)
        model = cls(random_state=seed, **params)
    else:
        sdv, skipped = sdv_model(name, train, rules, args.epochs, seed, with_rules)
        model = _SdvAdapter(sdv)
        out["sdv_rules_left_out"] = skipped
    start = time.perf_counter()
    model.fit(train)
    out["fit_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    synth = (
        model.sample(args.rows, random_state=seed) if name in TABGEN else model.sample(args.rows)
    )
    out["sample_s"] = round(time.perf_counter() - start, 2)
    out["validity"] = validity(rules, train, synth)
    report = tabgen.evaluate(
        holdout, synth, metrics=["fidelity", "detection"], random_state=seed, n_jobs=1
    )
    out["scores"] = {k: report.scores.get(k) for k in ("shape", "trend", "detection_score_gb")}
    shapes = report.results["fidelity"].details["column_shapes"]
    out["column_shapes"] = {  # where a change of shape comes from
        str(c): round(float(v), 4) for c, v in zip(shapes.iloc[:, 0], shapes["score"])
    }
    if args.step_limit <= 0:  # fidelity only (e.g. long fits)
        return out
    col, value = cond_pair
    try:
        start = time.perf_counter()
        with _time_limit(args.step_limit):
            part = model.sample(500, conditions={col: value})
        out["conditional_s"] = round(time.perf_counter() - start, 2)
        out["validity_conditional"] = validity(rules, train, part)
        out["conditional_kept"] = float((part[col] == value).mean())
    except Exception as exc:  # recorded, the benchmark goes on
        out["conditional_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        start = time.perf_counter()
        with _time_limit(args.step_limit):
            filled = model.sample(conditions=inpaint)
        out["inpaint_s"] = round(time.perf_counter() - start, 2)
        out["validity_inpaint"] = validity(rules, train, filled)
        out["inpaint_kept"] = kept_given(inpaint, filled)
    except Exception as exc:
        out["inpaint_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        if args.debug:
            traceback.print_exc()
    return out


def _cell(v, fmt="{:.3f}"):
    return "-" if v is None else fmt.format(v)


COLUMNS = ("validity", "cond.", "inpaint", "shape", "trend", "detection", "fit s")


def _row(name, model_name, with_rules, seed, out) -> str:
    s = out.get("scores", {})
    cells = [
        name,
        model_name,
        "with" if with_rules else "without",
        str(seed),
        _cell(out.get("validity"), "{:.2%}"),
        _cell(out.get("validity_conditional"), "{:.2%}"),
        _cell(out.get("validity_inpaint"), "{:.2%}"),
        _cell(s.get("shape")),
        _cell(s.get("trend")),
        _cell(s.get("detection_score_gb")),
        str(out.get("fit_s", out.get("error"))),
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=3000)
    p.add_argument("--rows", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--models", default=",".join([*TABGEN, *SDV]))
    p.add_argument("--datasets", default=",".join(NAMED))
    p.add_argument("--seeds", default="0")
    p.add_argument("--output", default="constraints.json")
    p.add_argument("--arms", default="without,with", help="fits without and/or with the rules")
    p.add_argument("--debug", action="store_true")
    p.add_argument(
        "--step-limit",
        type=int,
        default=120,
        help="seconds for each conditional/inpaint step (0: skip both steps)",
    )
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    results = {"machine": machine_info(), "args": vars(args), "datasets": {}, "runs": []}
    results["machine"]["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    try:
        import sdv

        results["machine"]["sdv"] = sdv.__version__
    except ImportError:
        pass
    print("| data | model | rules | seed | " + " | ".join(COLUMNS) + " |")
    print("|---" * (4 + len(COLUMNS)) + "|")
    for name in args.datasets.split(","):
        train, test, _ = load_dataset(name)
        train = train.sample(min(args.train, len(train)), random_state=0).reset_index(drop=True)
        holdout = test.sample(min(args.rows, len(test)), random_state=0).reset_index(drop=True)
        rules = rules_for(name, train)
        ok = validity_mask(rules, train, train)
        dropped = int((~ok).sum())
        train = train.loc[ok].reset_index(drop=True)
        inpaint = inpaint_conditions(train, holdout, rules, 300, np.random.default_rng(0))
        results["datasets"][name] = {
            "rules": [repr(r) for r in rules],
            "train_rows": len(train),
            "train_rows_dropped": dropped,
            "validity_holdout": validity(rules, train, holdout),
            "inpaint_rows": len(inpaint),
        }
        for model_name in args.models.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                for with_rules in [a == "with" for a in args.arms.split(",")]:
                    try:
                        out = run_one(
                            model_name,
                            train,
                            holdout,
                            rules,
                            args,
                            seed,
                            with_rules,
                            CONDITION[name],
                            inpaint,
                        )
                    except Exception as exc:
                        out = {
                            "model": model_name,
                            "rules": with_rules,
                            "seed": seed,
                            "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                        }
                        if args.debug:
                            traceback.print_exc()
                    out["dataset"] = name
                    results["runs"].append(out)
                    print(_row(name, model_name, with_rules, seed, out), flush=True)
                    RESULTS.mkdir(parents=True, exist_ok=True)
                    (RESULTS / args.output).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
