"""Relational synthesis on the four shared databases, tabgen against SDV's HMASynthesizer.

    nice -n 5 /work/venv-bench/bin/python benchmarks/bench_relational.py \
        [--dbs math_schools,pbc,chem97,insteval] \
        [--methods tabgen,tabgen-columns,tabgen-nomarg,single,bootstrap,hma] \
        [--seeds 5] [--hma-timeout 1500] [--hma-keep FOLDER] \
        [--out benchmarks/results/relational.json]

Methods (each scored by :func:`tabgen.metrics.evaluate_database` against the training
database, fit + sample timed; ``n_jobs=1`` for the classifiers):

``tabgen``
    :class:`tabgen.relational.RelationalSynthesizer` with its defaults (copula per table,
    child counts and up to 12 child aggregates in each parent's model); ``pbc`` visits are
    declared a sequence ordered by ``day``.
``tabgen-columns``
    the same with ``marginals=True`` (each child column mapped to its model's draw on its
    own, the default before the joint match): ablation of the joint match.
``tabgen-nomarg``
    the same with ``marginals=False`` (the children's conditional draws as they come, the
    default before the marginals were matched): ablation of the marginal map.
``tabgen-counts``
    the same with ``aggregates=0`` (only the child counts go up to the parent): ablation of
    the aggregate columns.
``single``
    tabgen's copula fitted on each table alone (keys left out): the per-table shape and trend
    a single-table model reaches, the yardstick of the per-table target.
``tabgen-vae``, ``tabgen-diffusion``
    the default with a neural per-table model, fixed epochs (``NEURAL_EPOCHS``) so that a
    busy machine changes the time, not the model.
``bootstrap``
    no model: the real database resampled by root entity (root rows drawn with
    replacement, each with all its descendants, fresh keys; with two roots, as insteval,
    the larger one is drawn and the other kept whole): what the metrics give a "perfect"
    generator, the noise ceiling of the parent-child trend and of the per-table scores.
    With ``--seeds k``, resampled ``k`` times (seeds ``0..k-1``) for the spread.
``hma``
    SDV's HMASynthesizer (needs the bench environment with SDV), run in a subprocess with a
    time limit (``--hma-timeout`` seconds for fit + sample).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import RESULTS, SHARED  # noqa: E402

DATABASES = ("math_schools", "pbc", "chem97", "insteval")
METHODS = ("tabgen", "tabgen-columns", "tabgen-nomarg", "single", "bootstrap", "hma")
#: Epochs of the neural per-table models (fixed: comparable on a busy machine).
NEURAL_EPOCHS = {"vae": 60, "diffusion": 60}
#: Sequences declared for the benchmark (the shared metadata names none).
ORDERS = {"pbc": {"visits": "day"}}


def load_db(name: str):
    """``(tables, Metadata)`` of a shared database."""
    from tabgen.relational import Metadata

    folder = SHARED / "relational" / name
    raw = json.loads((folder / "metadata.json").read_text())
    meta = Metadata.from_dict(raw)
    for table, column in ORDERS.get(name, {}).items():
        meta.set_order(table, column)
    tables = {t: pd.read_csv(folder / spec["file"]) for t, spec in raw["tables"].items()}
    return tables, meta


def sdv_metadata(meta, tables) -> dict:
    """SDV's metadata dict for the same database (keys ``id``, numbers ``numerical``,
    everything else ``categorical``)."""
    out = {"METADATA_SPEC_VERSION": "V1", "tables": {}, "relationships": []}
    for name in meta.tables:
        keys = set(meta.key_columns(name))
        cols = {}
        for col, dtype in tables[name].dtypes.items():
            if col in keys:
                cols[col] = {"sdtype": "id"}
            elif pd.api.types.is_numeric_dtype(dtype):
                cols[col] = {"sdtype": "numerical"}
            else:
                cols[col] = {"sdtype": "categorical"}
        out["tables"][name] = {"primary_key": meta.primary_key(name), "columns": cols}
    for rel in meta.relationships:
        out["relationships"].append(
            {
                "parent_table_name": rel.parent,
                "parent_primary_key": rel.parent_key,
                "child_table_name": rel.child,
                "child_foreign_key": rel.child_key,
            }
        )
    return out


def hma_worker(db: str, folder: str) -> None:
    """Fit and sample HMA; write the tables (Parquet) and the times into ``folder``."""
    import warnings

    from sdv.metadata import Metadata as SDVMetadata
    from sdv.multi_table import HMASynthesizer

    warnings.filterwarnings("ignore")
    tables, meta = load_db(db)
    sdv_meta = SDVMetadata.load_from_dict(sdv_metadata(meta, tables))
    start, cpu = time.perf_counter(), time.process_time()
    synth = HMASynthesizer(sdv_meta)
    synth.fit(tables)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    root = next(t for t in meta.order() if not meta.parents(t))
    fake = synth.sample(num_rows=len(tables[root]), main_table_name=root)  # scale 1
    sample_s, sample_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    out = Path(folder)
    for name, frame in fake.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    times = {"fit_s": fit_s, "sample_s": sample_s, "fit_cpu_s": fit_cpu_s}
    times.update(sample_cpu_s=sample_cpu_s, finished=time.strftime("%Y-%m-%d %H:%M:%S UTC"))
    (out / "times.json").write_text(json.dumps(times))


def run_hma(db: str, timeout: float, keep: str | None = None) -> tuple[dict | None, dict]:
    """HMA's tables and times for ``db``: fitted and sampled in a subprocess (at most
    ``timeout`` seconds), or, with ``keep``, read from ``keep/<db>`` where an earlier
    run of this script left them (the same worker; scored again in this run)."""
    if keep is not None:
        folder = Path(keep) / db
        if (folder / "times.json").is_file():
            times = json.loads((folder / "times.json").read_text())
            times["reused"] = str(folder)
            return {p.stem: pd.read_parquet(p) for p in folder.glob("*.parquet")}, times
        folder.mkdir(parents=True, exist_ok=True)
        return _hma_subprocess(db, timeout, str(folder))
    with tempfile.TemporaryDirectory() as folder:
        return _hma_subprocess(db, timeout, folder)


def _hma_subprocess(db: str, timeout: float, folder: str) -> tuple[dict | None, dict]:
    cmd = [sys.executable, __file__, "--hma-worker", db, folder]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        proc = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, env=env)
    except subprocess.TimeoutExpired:
        return None, {"error": f"fit + sample over the {timeout:.0f} s limit"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        errors = [ln for ln in lines if "Error" in ln or "error" in ln] or lines[-1:]
        message = " ".join(errors[-1:] + lines[-1:]) if errors else "no message"
        return None, {"error": f"HMA failed: {message[:400]}"}
    times = json.loads((Path(folder) / "times.json").read_text())
    fake = {p.stem: pd.read_parquet(p) for p in Path(folder).glob("*.parquet")}
    return fake, times


def run_tabgen(tables, meta, seeds: int = 1, **params) -> tuple[dict, dict]:
    from tabgen.relational import RelationalSynthesizer

    start, cpu = time.perf_counter(), time.process_time()
    synth = RelationalSynthesizer(meta, random_state=0, **params).fit(tables)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    fake = synth.sample(random_state=1)
    info = {"fit_s": fit_s, "sample_s": time.perf_counter() - start, "fit_cpu_s": fit_cpu_s}
    info["sample_cpu_s"] = time.process_time() - cpu
    if seeds > 1:  # the same fit sampled again: the spread of the cheap scores
        draws = [synth.sample(random_state=s) for s in range(1, seeds + 1)]
        info["seeds"] = spread([cheap_scores(tables, d, meta) for d in draws])
    return fake, info


def cheap_scores(real, fake, meta) -> dict:
    """Key integrity, cardinality, parent-child trend and per-table shape / trend (no
    classifier, no distances)."""
    from tabgen.metrics import evaluate_database

    report = evaluate_database(
        real, fake, meta, privacy_metrics=False, detection_metrics=False, n_jobs=1
    )
    return {k: v for k, v in report.scores.items() if v == v and k != "time_s"}


def spread(runs: list) -> dict:
    """``{score: [mean, sd, n]}`` over runs (sd with ``ddof=1``)."""
    import numpy as np

    keys = set.intersection(*(set(r) for r in runs))
    return {
        k: [float(np.mean(v)), float(np.std(v, ddof=1)), len(v)]
        for k in sorted(keys)
        for v in [[r[k] for r in runs]]
    }


def run_single(tables, meta, seeds: int = 1) -> dict:
    """Per-table shape / trend of a copula fitted on each table alone (sampled with seeds
    ``1..seeds``; the first draw's scores, and their spread over the draws)."""
    from tabgen import GaussianCopulaSynthesizer
    from tabgen.metrics import fidelity

    runs = [{} for _ in range(seeds)]
    for name, frame in tables.items():
        attrs = frame.drop(columns=meta.key_columns(name))
        if attrs.shape[1] == 0:
            continue
        model = GaussianCopulaSynthesizer(random_state=0).fit(attrs)
        for i, scores in enumerate(runs):
            fid = fidelity(attrs, model.sample(len(attrs), random_state=i + 1))
            scores[f"{name}.shape"] = fid.scores["shape"]
            scores[f"{name}.trend"] = fid.scores["trend"]
    runs = [{k: v for k, v in r.items() if v == v} for r in runs]  # NaN (no trend) left out
    out = {"scores": runs[0]}
    if seeds > 1:
        out["seeds"] = spread(runs)
    return out


def run_bootstrap(tables, meta, seed: int = 0):
    """The real database resampled by root entity: no model, the noise ceiling.

    One root table is drawn with replacement (the one with the most rows under it through
    the children's first parent), each drawn row with all its descendants; every other root
    is kept whole. A child row goes with its first parent's drawn copies; its other
    foreign keys point to a random copy of their parent (the row is dropped if that parent
    was never drawn). Primary keys are fresh.
    """
    import numpy as np

    from tabgen.relational import RelationalSynthesizer

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    order = meta.order()
    first = {t: RelationalSynthesizer._primary(meta, t) for t in order}
    below = {t: len(tables[t]) for t in order}
    for t in reversed(order):  # rows under each table through the first-parent links
        for rel in meta.parents(t):
            if rel.name == first[t]:
                below[rel.parent] += below[t]
    roots = [t for t in order if not meta.parents(t)]
    drawn_root = max(roots, key=lambda t: below[t])
    out, new_keys = {}, {}
    for table in order:
        frame = tables[table]
        rels = meta.parents(table)
        if table == drawn_root:
            picked = frame.iloc[rng.integers(0, len(frame), len(frame))].reset_index(drop=True)
        elif not rels:
            picked = frame.reset_index(drop=True)
        else:
            rel = next(r for r in rels if r.name == first[table])
            copies = new_keys[rel.parent]  # (old key, new key) of every drawn parent row
            picked = frame.merge(copies, left_on=rel.child_key, right_on="__old")
            picked[rel.child_key] = picked["__new"].to_numpy()
            picked = picked.drop(columns=["__old", "__new"])
            orphans = frame[frame[rel.child_key].isna()]  # a nullable key: kept as it is
            picked = pd.concat([picked, orphans], ignore_index=True)
            for other in rels:
                if other is not rel:
                    picked = _point_to_copies(picked, other, new_keys[other.parent], rng)
        pk = meta.primary_key(table)
        if pk is not None:
            new_keys[table] = pd.DataFrame(
                {"__old": picked[pk].to_numpy(), "__new": range(len(picked))}
            )
            picked[pk] = np.arange(len(picked))
        out[table] = picked[frame.columns]
    info = {"fit_s": 0.0, "sample_s": time.perf_counter() - start, "drawn_root": drawn_root}
    return out, info


def _point_to_copies(rows: pd.DataFrame, rel, copies: pd.DataFrame, rng) -> pd.DataFrame:
    """``rows`` with ``rel``'s foreign key set to a random drawn copy of the parent it
    named (null stays null; rows whose parent has no copy are dropped)."""
    import numpy as np

    copies = copies.sort_values("__old", kind="stable")
    old = copies["__old"].to_numpy()
    keys = rows[rel.child_key]
    null = keys.isna().to_numpy()
    lo = np.searchsorted(old, keys.to_numpy()[~null], side="left")
    hi = np.searchsorted(old, keys.to_numpy()[~null], side="right")
    keep = np.ones(len(rows), dtype=bool)
    keep[np.flatnonzero(~null)[hi == lo]] = False
    pick = lo + np.floor(rng.random(len(lo)) * (hi - lo)).astype("int64")
    new = keys.astype(object).copy()
    has = hi > lo
    new.iloc[np.flatnonzero(~null)[has]] = copies["__new"].to_numpy()[pick[has]]
    rows = rows.assign(**{rel.child_key: new.to_numpy()})[keep].reset_index(drop=True)
    return rows.astype({rel.child_key: "int64"}) if not null.any() else rows


def score(real, fake, meta) -> dict:
    from tabgen.metrics import evaluate_database

    report = evaluate_database(real, fake, meta, n_jobs=1)
    return {k: v for k, v in report.scores.items() if v == v}  # NaN left out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbs", default=",".join(DATABASES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--hma-timeout", type=float, default=1500.0)
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="sampling seeds of tabgen and the single-table copula for the spread of the "
        "cheap scores (the full scores are the first seed's)",
    )
    parser.add_argument(
        "--hma-keep",
        default=None,
        help="folder where HMA's sampled tables are kept per database (reused when there: a "
        "long HMA fit can run ahead, in the background, and be scored in the main run)",
    )
    parser.add_argument("--out", default=str(RESULTS / "relational.json"))
    parser.add_argument("--hma-worker", nargs=2, metavar=("DB", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hma_worker:
        hma_worker(*args.hma_worker)
        return
    from threadpoolctl import threadpool_limits

    from benchmarks._common import machine_info

    machine = machine_info()
    try:
        import sdv

        machine["sdv"] = sdv.__version__
    except ImportError:
        machine["sdv"] = None
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.is_file() else {}
    command = "nice -n 5 /work/venv-bench/bin/python benchmarks/bench_relational.py " + " ".join(
        sys.argv[1:]
    )
    results["commands"] = [*results.get("commands", []), command]  # runs merged in this file
    results.update(
        {
            "command": "; ".join(results["commands"]),
            "machine": machine,
            "date": date.today().isoformat(),
            "note": "2 cores shared with four other engineers' runs",
        }
    )
    results.setdefault("databases", {})
    for db in args.dbs.split(","):
        tables, meta = load_db(db)
        entry = results["databases"].setdefault(db, {"methods": {}})
        entry["rows"] = {t: len(f) for t, f in tables.items()}
        for method in args.methods.split(","):
            print(f"{db}: {method} ...", flush=True)
            with threadpool_limits(limits=1):
                if method == "single":
                    entry["methods"][method] = run_single(tables, meta, args.seeds)
                    out.write_text(json.dumps(results, indent=1))
                    continue
                if method == "hma":
                    if machine["sdv"] is None:
                        entry["methods"][method] = {"error": "SDV not installed"}
                        continue
                    fake, info = run_hma(db, args.hma_timeout, args.hma_keep)
                elif method == "tabgen":
                    fake, info = run_tabgen(tables, meta, args.seeds)
                elif method == "tabgen-nomarg":
                    fake, info = run_tabgen(tables, meta, args.seeds, marginals=False)
                elif method in ("tabgen-vae", "tabgen-diffusion"):
                    from tabgen.synthesizers import get_synthesizer

                    name = method.split("-")[1]
                    model = get_synthesizer(name)(epochs=NEURAL_EPOCHS[name], device="cpu")
                    fake, info = run_tabgen(tables, meta, model=model)
                    info["epochs"] = NEURAL_EPOCHS[name]
                elif method == "tabgen-columns":
                    fake, info = run_tabgen(tables, meta, args.seeds, marginals=True)
                elif method == "bootstrap":
                    fake, info = run_bootstrap(tables, meta)
                    if args.seeds > 1:  # the same seeds' count of resamples: the spread
                        draws = [run_bootstrap(tables, meta, s)[0] for s in range(args.seeds)]
                        info["seeds"] = spread([cheap_scores(tables, d, meta) for d in draws])
                elif method == "tabgen-counts":
                    fake, info = run_tabgen(tables, meta, aggregates=0)
                else:
                    raise SystemExit(f"unknown method {method!r}")
                if fake is not None:
                    info["rows"] = {t: len(f) for t, f in fake.items()}
                    info["scores"] = score(tables, fake, meta)
            entry["methods"][method] = info
            shown = {k: round(v, 4) for k, v in info.get("scores", {}).items() if "[" not in k}
            print(
                f"  {info.get('fit_s', 0):.1f} s fit, {info.get('sample_s', 0):.1f} s sample,"
                f" {info.get('error', '')} {shown}",
                flush=True,
            )
            out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
