"""The diffusion model's defaults on every benchmark table, beside the previous release
(issue #26): renders ``results/diffusion_final.md`` from ``results/diffusion_final.json``.

The runs are :mod:`benchmarks.bench_diffusion_ablation` runs, one fit per table with the
defaults (seed 0, one torch thread), each sampled twice: ``default`` (the default pipeline,
with the sampler that the fit's check chose: ``sampler="auto"``) and
``dependencies,selection@other`` (the same fit with the sampler the check did not keep, its
selection refitted on that sampler's rows, so the reader sees what the choice gained)::

    python benchmarks/bench_diffusion_ablation.py --dataset california --arm final \\
        --variants 'default;dependencies,selection@other' \\
        --out benchmarks/results/diffusion_final.json
    python benchmarks/bench_diffusion_tables.py   # writes results/diffusion_final.md

Tables run side by side write their own ``--out`` (one JSON file each: two processes
would overwrite each other's runs); ``--merge a.json b.json`` appends them to
``results/diffusion_final.json`` before rendering.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS

NAME = "diffusion_final"
ORDER = ("adult", "shoppers", "magic", "default", "california", "bank", "beijing")
#: The previous release's gradient-boosting detection of the diffusion model (RESULTS.md:
#: the synthesis benchmark runs named), where it was measured.
PREVIOUS = {
    "adult": ".885 (`diffusion_adult_quiet2`)",
    "shoppers": ".579 (`shoppers_peers`)",
    "magic": ".711 (`magic_peers`)",
    "california": ".620 (`diffusion_more`)",
    "beijing": ".881 (`beijing_peers`)",
}
TARGET = 0.85


def _f(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def render(results: dict) -> str:
    runs = {}
    for r in results["runs"]:  # a later run of a table replaces an earlier one
        kind = "default" if r["variant"] == "default" else "other"
        runs.setdefault(r["dataset"], {})[kind] = r
    machine = results.get("machine", {})
    dates = sorted(r["date"] for r in results["runs"])
    lines = [
        "## Diffusion, the final defaults on every benchmark table: the sampler chosen at fit "
        "time against the other one (issue #26)",
        "",
        'One fit per table with the defaults of the merged main (`sampler="auto"`: the '
        "one-step student unless the fit's check, `tabgen/synthesizers/diffusion/gate.py`, "
        "finds it clearly worse than the teacher's DPM-Solver++ 20 steps), seed 0, one torch "
        "thread; bank and beijing on a random 20,000 training rows (`--sample-rows 20000`). "
        "*Default pipeline*: the chosen sampler with the model's post-processors (2 candidates "
        "per row for the student, 4 for DPM-Solver++). *Other sampler*: the same fit sampled "
        "with the sampler the check did not keep, its selection refitted on that sampler's "
        "rows. Check: the AUC of the fit's quick detector against each sampler's rows after a "
        "small selection (5,000 rows a side; student / DPM-Solver++; .5 = indistinguishable; "
        "section on the sampler check). Detection: gradient-boosting C2ST "
        "against the training rows, 5 folds, native categoricals, 10,000 rows a side (1 = "
        "indistinguishable); shape and trend against the training rows; DCR share and "
        "distance-MIA AUC against the holdout (.5 = no closer to training rows than to unseen "
        "ones). **The machine was busy** (two of these benchmarks side by side, other "
        "engineers' jobs on the same 2 cores: load in the last column): fit CPU s are CPU "
        "seconds of the process, wall time was longer. "
        f"Machine: {machine.get('cpu', 'CPU')}, {machine.get('cores', '?')} cores, torch "
        f"{machine.get('torch', '?')}, scikit-learn {machine.get('scikit-learn', '?')}"
        + (f"; runs {dates[0]} to {dates[-1]} UTC." if dates else "."),
        "",
        "| table | train rows | detection (default pipeline) | sampler chosen | check AUC "
        "student / DPM | the other sampler: detection | ≥ .85? | shape | trend | DCR share "
        "| MIA AUC | fit CPU s | previous release's detection | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for name in ORDER:
        pair = runs.get(name, {})
        d, o = pair.get("default"), pair.get("other")
        if d is None:
            missing.append(name)
            continue
        check = d.get("sampler_check") or {}
        if "student_auc" in check:
            figures = f"{check['student_auc']:.3f} / {check['dpm_auc']:.3f}"
        else:
            figures = f"skipped: {check.get('skipped', '–')}"
        other = "–" if o is None else f"{_f(o['detection_gb'])} ({o.get('sampler', '?')})"
        met = "yes" if d["detection_gb"] >= TARGET else "**no**"
        lines.append(
            f"| {name} | {d['train_rows']} | {_f(d['detection_gb'])} | {d.get('sampler', '?')} "
            f"| {figures} | {other} | {met} | {_f(d['shape'])} | {_f(d['trend'])} "
            f"| {_f(d['dcr_share'])} | {_f(d['mia_auc'])} | {d['fit_cpu_s']} "
            f"| {PREVIOUS.get(name, 'not measured')} | {d['load_1m']} |"
        )
    if missing:
        lines += ["", "Not run (out of time before the quiet window): " + ", ".join(missing) + "."]
    commands = [pair["default"]["command"] for pair in runs.values() if "default" in pair]
    lines += [
        "",
        "Commands (each table with its own `--out`, two at a time, merged by "
        "`python benchmarks/bench_diffusion_tables.py --merge <those files>`):",
        "",
    ] + [f"- `{c}`" for c in commands]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / f"{NAME}.json")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="*",
        default=(),
        help="JSON files of runs (one per table, run side by side) appended to --out first",
    )
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    for path in args.merge:
        part = json.loads(path.read_text())
        results["machine"] = part["machine"]
        results["runs"] += part["runs"]
    if args.merge:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    path = args.out.with_suffix(".md")
    path.write_text(render(results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
