"""Cross-check of tabgen's Anonymeter-style attacks against the ``anonymeter`` package (run by
hand; anonymeter lives in its own venv because it pins ``numpy<1.27``).

    python benchmarks/bench_privacy_anonymeter.py --datasets adult,default,bank \\
        [--rows 10000] [--n-attacks 1000] [--anon-python /work/venv-anon/bin/python]

For each dataset: ``--rows`` rows of the training file, an :class:`Anonymizer` with the
Gaussian copula (fast; every safeguard on, 20 % holdout) exports as many synthetic rows as it
trained on. Both tools then score *the same tables*: ``ori`` = the training rows subsampled to
the holdout size (tabgen does this itself; anonymeter is given the same rows), ``control`` =
the holdout, ``syn`` = the export; the same number of attacks, the same linkability column
split, the same secrets (the target, the first categorical and the first numerical column),
numerical secrets with a 5 % relative tolerance in both. Agreement = the two 95 % intervals
overlap. Writes ``benchmarks/results/privacy_anonymeter_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics import attack_risks
from tabgen.pipelines import Anonymizer

RUNNER = Path(__file__).with_name("_anonymeter_runner.py")


def _secrets(meta: dict, columns: list) -> list:
    cat = [c for c in meta["categorical"] if c in columns and c != meta["target"]]
    num = [c for c in meta["numerical"] if c in columns]
    return [meta["target"], *cat[:1], *num[:1]]


def run_dataset(name: str, args) -> dict:
    train, _, meta = load_dataset(name)
    if args.rows and len(train) > args.rows:
        train = train.sample(args.rows, random_state=0).reset_index(drop=True)
    anon = Anonymizer(
        synthesizer=tabgen.GaussianCopulaSynthesizer(random_state=0),
        target=meta["target"],
        random_state=0,
    ).fit(train)
    cols = anon.model_columns_
    syn = anon.sample(len(anon.train_), random_state=1)[cols]
    control = anon.holdout_[cols]
    ori = anon.train_[cols].sample(len(control), random_state=0).reset_index(drop=True)
    half = len(cols) // 2
    aux_split = [cols[:half], cols[half:]]
    secrets = _secrets(meta, cols)
    numerical = [c for c in cols if c in meta["numerical"]]
    kinds = {c: "numerical" if c in numerical else "categorical" for c in cols}
    n = min(args.n_attacks, len(control))

    t0 = time.perf_counter()
    ours = attack_risks(
        ori,
        syn,
        control,
        metadata=kinds,
        n_attacks=n,
        n_cols=3,
        secrets=secrets,
        aux_split=tuple(aux_split),
        n_neighbors=1,
        random_state=0,
    )
    t_ours = time.perf_counter() - t0
    tabgen_out = {}
    for attack in ("singling_out_univariate", "singling_out_multivariate", "linkability"):
        d = ours.details[attack]
        tabgen_out[attack] = {
            k: d[k]
            for k in ("risk", "risk_low", "risk_high", "attack_rate", "control_rate")
            if k in d
        }
        tabgen_out[attack]["baseline_rate"] = d["baseline_rate"]
        tabgen_out[attack]["n_attacks"] = d["n_attacks"]
    per_secret = ours.details["inference_per_secret"]
    for row in per_secret.to_dict(orient="records"):
        tabgen_out[f"inference:{row['secret']}"] = {
            "risk": row["risk"],
            "risk_low": row["low"],
            "risk_high": row["high"],
            "attack_rate": row.get("attack_rate"),
            "control_rate": row.get("control_rate"),
        }

    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: str(Path(tmp) / f"{k}.parquet") for k in ("ori", "syn", "control")}
        for key, frame in (("ori", ori), ("syn", syn), ("control", control)):
            frame.to_parquet(paths[key], index=False)
        settings = {
            **paths,
            "out": str(Path(tmp) / "anonymeter.json"),
            "n_attacks": n,
            "n_cols": 3,
            "aux_split": aux_split,
            "secrets": secrets,
            "numerical": numerical,
        }
        Path(tmp, "settings.json").write_text(json.dumps(settings))
        t0 = time.perf_counter()
        command = [args.anon_python, str(RUNNER), str(Path(tmp) / "settings.json")]
        subprocess.run(command, check=True)
        t_ref = time.perf_counter() - t0
        reference = json.loads(Path(settings["out"]).read_text())

    rows = []
    for key in tabgen_out:
        a, b = tabgen_out[key], reference.get(key)
        if b is None:
            continue
        overlap = a["risk_low"] <= b["risk_high"] and b["risk_low"] <= a["risk_high"]
        rows.append({"attack": key, "tabgen": a, "anonymeter": b, "intervals_overlap": overlap})
        print(
            f"[{name}] {key:<34} tabgen {a['risk']:.4f} [{a['risk_low']:.4f}, "
            f"{a['risk_high']:.4f}]  anonymeter {b['risk']:.4f} [{b['risk_low']:.4f}, "
            f"{b['risk_high']:.4f}]  overlap={overlap}",
            flush=True,
        )
    return {
        "dataset": name,
        "rows_ori": len(ori),
        "rows_control": len(control),
        "rows_syn": len(syn),
        "n_attacks": n,
        "aux_split": aux_split,
        "secrets": secrets,
        "time_tabgen_s": round(t_ours, 1),
        "time_anonymeter_s": round(t_ref, 1),
        "comparison": rows,
        "all_overlap": all(r["intervals_overlap"] for r in rows),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,default,bank")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--n-attacks", type=int, default=1000)
    parser.add_argument("--anon-python", default="/work/venv-anon/bin/python")
    parser.add_argument("--tag", default="copula")
    args = parser.parse_args(argv)
    results = [run_dataset(d, args) for d in args.datasets.split(",")]
    out = {
        "command": "python benchmarks/bench_privacy_anonymeter.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "anonymeter": "1.1.0 (own venv: numpy 1.26)",
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"privacy_anonymeter_{args.tag}.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
