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
from tabgen.synthesizers.diffusion.gate import MARGIN

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


def render(results: dict, recheck: dict) -> str:
    """The fragment; ``recheck``: ``{table: (choice, info)}`` of the committed check re-run
    on the saved fit (it picks which of the two sampled pipelines is the default one)."""
    runs = {}
    for r in results["runs"]:  # a later run of a table replaces an earlier one
        runs.setdefault(r["dataset"], {})[r["sampler"]] = r
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
        "The fits ran with the first version of the check (5,000 rows, early stopping, margin "
        ".03: *first check's choice*), which kept the student on magic, bank and beijing; the "
        "committed check re-run on the same saved fits (seed 0, section on the sampler check) "
        "gives *sampler chosen*. Each fit was sampled with both samplers: as fitted (2 "
        "candidates per row for the student, 4 for DPM-Solver++, the model's post-processors) "
        "and with the other sampler, its selection refitted on that sampler's rows. *Default "
        "pipeline*: the rows of the chosen sampler (where the two checks differ, the refitted "
        "pipeline: what a fit with the committed code gives, up to the selection's seed; "
        "magic and bank were fitted again with the committed code, which chose DPM-Solver++ "
        "at fit time, and those runs, arm `final, committed check`, are their rows: the same "
        "weights, since the check draws from a copy of the fit's generator); "
        "*other sampler*: the rest. Fit CPU s with the first check (the committed one costs "
        "5-10 CPU s more). Check: the AUC of the fit's quick detector against each "
        "sampler's rows after a "
        "small selection (10,000 rows a side, at most half the table; student / DPM-Solver++; "
        ".5 = indistinguishable; "
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
        "| MIA AUC | fit CPU s | previous release's detection | first check's choice | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for name in ORDER:
        pair = runs.get(name, {})
        first = next((r for r in pair.values() if r["variant"] == "default"), None)
        if first is None:
            missing.append(name)
            continue
        choice, check = recheck.get(name, (first["sampler"], first.get("sampler_check") or {}))
        d = pair.get(choice)
        o = next((r for k, r in pair.items() if k != choice), None)
        if d is None:
            missing.append(name)
            continue
        own = d.get("sampler_check") or {}
        if own.get("margin") == MARGIN and "student_auc" in own:  # fitted with this check
            check = own
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
            f"| {PREVIOUS.get(name, 'not measured')} | {first['sampler']} | {d['load_1m']} |"
        )
    met = [line.split(" | ")[0][2:] for line in lines if " | yes | " in line]
    short = [line.split(" | ")[0][2:] for line in lines if " | **no** | " in line]
    lines += [
        "",
        f"Detection ≥ {TARGET} with the default pipeline: {', '.join(met) or 'none'}; "
        f"below: {', '.join(short) or 'none'}.",
    ]
    if missing:
        lines += ["", "Not run (out of time before the quiet window): " + ", ".join(missing) + "."]
    commands = [r["command"] for pair in runs.values() for r in pair.values()]
    commands = list(dict.fromkeys(commands))
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
    recheck = {}
    gate_file = RESULTS / "diffusion_gate_check.json"
    if gate_file.is_file():  # the committed check, seed 0, on the saved fits
        for r in json.loads(gate_file.read_text())["runs"]:
            if r["seed"] == 0:
                recheck[r["dataset"]] = (r["choice"], r)
    path = args.out.with_suffix(".md")
    path.write_text(render(results, recheck))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
