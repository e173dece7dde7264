"""Ablation of the chained imputer's refinement rounds, on the development tables only (run
by hand; issue #28).

    OMP_NUM_THREADS=1 python benchmarks/bench_impute_rounds.py --seeds 0 --tag rounds_dev
    python benchmarks/bench_impute_rounds.py --render impute_rounds_dev

Each variant is the default ``SyntheticImputer`` with some settings of
``tabgen.pipelines._rounds`` changed (``VARIANTS``); tables, masks and scores are those of
``bench_impute_unseen`` (1,000 rows, 30 % MCAR and MAR). The scikit-learn baselines of the
same masks come from ``bench_impute_unseen --set dev`` (``--baselines``). Seconds are CPU
seconds of the process (``time.process_time``), one thread. Writes
``benchmarks/results/impute_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, machine_info
from benchmarks.bench_impute import inject, score
from benchmarks.bench_impute_unseen import DEV, load_table
from tabgen.pipelines import SyntheticImputer, _rounds

#: name -> (max_rounds, settings of ``_rounds``); the first pass alone is the old default,
#: ``r4_small`` the frozen default. Trees ``(n, leaf)``: the forest arm's size.
_SMALL, _MID, _BIG = (40, 5), (60, 2), (100, 1)


def _v(rounds, trees, **settings):
    return rounds, {"FOREST_TREES": trees[0], "FOREST_LEAF": trees[1], **settings}


VARIANTS = {
    "first_pass": (0, {}),
    "r3_freeze_norefit": _v(3, _MID, FREEZE=True, REFIT=False),
    "r3_freeze": _v(3, _MID, FREEZE=True),
    "r6_freeze": _v(6, _MID, FREEZE=True),
    "r6_freeze_big": _v(6, _BIG, FREEZE=True),
    "r6": _v(6, _MID),
    "r6_big": _v(6, _BIG),
    "r6_final": _v(6, _MID, FINAL=True),
    "r4_small": _v(4, _SMALL),
}


def run_variant(name, holes, categorical, seed):
    """Completed table, CPU seconds and kept rounds of one variant."""
    rounds, settings = VARIANTS[name]
    saved = {k: getattr(_rounds, k) for k in settings}
    try:
        for k, v in settings.items():
            setattr(_rounds, k, v)
        imp = SyntheticImputer(
            schema={c: "categorical" for c in categorical}, max_rounds=rounds, random_state=seed
        )
        t0 = time.process_time()
        filled = imp.fit_transform(holes)
        cpu = time.process_time() - t0
    finally:
        for k, v in saved.items():
            setattr(_rounds, k, v)
    return filled, cpu, len(imp.chained_.rounds)


def render(tags: list, baselines: str = "impute_unseen_dev") -> str:
    """Markdown: RMSE per table and mechanism of each variant (mean over seeds), with the
    scikit-learn baselines of the same masks where ``baselines`` has them."""
    lines = []
    base = RESULTS / f"{baselines}.json"
    rivals = pd.DataFrame(json.loads(base.read_text())["runs"]) if base.is_file() else None
    for tag in tags:
        data = json.loads((RESULTS / f"{tag}.json").read_text())
        runs = pd.DataFrame(data["runs"])
        seeds = sorted(set(runs["seed"]))
        table = runs.pivot_table(
            index=["table", "mechanism"], columns="variant", values="rmse", aggfunc="mean"
        )
        names = [v for v in VARIANTS if v in table.columns]
        cols = names
        if rivals is not None:
            r = rivals[rivals["seed"].isin(seeds) & (rivals["arm"] != "tabgen")]
            extra = r.pivot_table(
                index=["table", "mechanism"], columns="arm", values="rmse", aggfunc="mean"
            )
            table = table.join(extra, how="left")
            cols = names + [c for c in ("missforest", "iterative_br", "knn", "mean") if c in table]
        lines += [
            f"**Rounds ablation, dev set** (`{tag}.json`, {data['date']}; mask seeds {seeds}; "
            f"`{data['command']}`): numeric RMSE (std units, lower wins, best in bold).",
            "",
            "| table | mechanism | " + " | ".join(cols) + " |",
            "|---|---|" + "---|" * len(cols),
        ]
        for (t, mech), row in table.iterrows():
            best = row[cols].min()
            cells = [
                ""
                if pd.isna(row[c])
                else (f"**{row[c]:.3f}**" if row[c] == best else f"{row[c]:.3f}")
                for c in cols
            ]
            lines.append(f"| {t} | {mech} | " + " | ".join(cells) + " |")
        lines.append("")
        summary = []
        rival_cols = [c for c in cols if c not in names]
        for v in names:
            ran = table.dropna(subset=[v])
            won = "n/a"
            if rival_cols:
                won = f"{int((ran[v] < ran[rival_cols].min(axis=1)).sum())}/{len(ran)}"
            change = (ran[v] - ran["first_pass"]).mean() if "first_pass" in ran else np.nan
            mine = runs[runs["variant"] == v]
            summary.append(
                f"| {v} | {len(ran)} | {change:+.3f} | {won} | "
                f"{mine['cpu_seconds'].mean():.1f} | {mine['rounds'].mean():.1f} |"
            )
        lines += [
            "| variant | settings run | mean RMSE change vs first pass (same settings) | "
            "won vs every scikit-learn arm | CPU s per fit | rounds kept |",
            "|---|---|---|---|---|---|",
            *summary,
            "",
        ]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--render", nargs="+", metavar="TAG")
    p.add_argument("--tables", default=",".join(DEV))
    p.add_argument("--seeds", default="0")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--max-rows", type=int, default=1000)
    p.add_argument("--tag", default="rounds_dev")
    p.add_argument("--resume", action="store_true")
    args = p.parse_args(argv)
    if args.render:
        print(render(args.render))
        return
    tables = args.tables.split(",")
    if set(tables) - set(DEV):
        raise SystemExit(f"the ablation runs on the development tables only: {DEV}")
    out = RESULTS / f"impute_{args.tag}.json"
    result = {
        "kind": "rounds_ablation",
        "machine": machine_info(),
        "command": " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d"),
        "timing_note": "busy machine: 2 cores shared by 7 engineers; CPU seconds",
        "runs": [],
    }
    if args.resume and out.is_file():
        result["runs"] = json.loads(out.read_text())["runs"]
    done = {(r["table"], r["seed"], r["mechanism"], r["variant"]) for r in result["runs"]}
    for name in tables:
        full, categorical = load_table(name)
        for seed in (int(s) for s in args.seeds.split(",")):
            data = full
            if len(data) > args.max_rows:
                data = data.sample(args.max_rows, random_state=seed).reset_index(drop=True)
            for mech in ("mcar", "mar"):
                mask = inject(data, mech, 0.3, np.random.default_rng(seed))
                holes = data.mask(mask)
                for variant in args.variants.split(","):
                    if (name, seed, mech, variant) in done:
                        continue
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        filled, cpu, kept = run_variant(variant, holes, categorical, seed)
                    row = {
                        "table": name,
                        "seed": seed,
                        "mechanism": mech,
                        "variant": variant,
                        "cpu_seconds": round(cpu, 2),
                        "rounds": kept,
                        **score(data, holes, filled, mask, categorical),
                    }
                    result["runs"].append(row)
                    print(row, flush=True)
                    out.write_text(json.dumps(result, indent=2, default=float))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
