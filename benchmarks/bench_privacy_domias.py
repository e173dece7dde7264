"""Cross-check of tabgen's DOMIAS-style attack against the ``domias`` package (run by hand;
domias lives in its own venv: it pulls torch and old pins).

    python benchmarks/bench_privacy_domias.py [--rows 6000]

Adult's numerical columns (the domias KDE works on the raw feature space, where one-hot
columns make the covariance singular), ``--rows`` training rows, a holdout of a fifth of that
split into non-members and a reference half exactly as ``membership_attacks`` does, and two
releases: a copy of the training rows and a Gaussian copula fitted on them. Both tools score
the same arrays (tabgen's row encoding): tabgen's ``density_kde`` and ``distance`` attacks
beside domias' ``ablated_eq2`` (its KDE density ratio, DOMIAS eq. 2) and ``gan_leaks``
(distance to the nearest synthetic row). Writes ``benchmarks/results/privacy_domias.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.metrics.attacks.mia_density import density_kde
from tabgen.metrics.attacks.mia_distance import distance
from tabgen.metrics.attacks.roc import auc
from tabgen.metrics.attacks.space import RowSpace

RUNNER = Path(__file__).with_name("_domias_runner.py")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--anon-python", default="/work/venv-anon/bin/python")
    args = parser.parse_args(argv)
    full, _, meta = load_dataset("adult")
    cols = list(meta["numerical"])
    full = full[cols].dropna().sample(frac=1.0, random_state=0).reset_index(drop=True)
    n_hold = args.rows // 5
    train, holdout = full.iloc[: args.rows], full.iloc[args.rows : args.rows + n_hold]
    half = n_hold // 2
    non_members, reference = holdout.iloc[:half], holdout.iloc[half:]
    members = train.iloc[:half]
    kinds = dict.fromkeys(cols, "numerical")
    space = RowSpace(kinds).fit(train)
    copula = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(train)
    releases = {"copy": train, "copula": copula.sample(len(train), random_state=1)}
    # the missing indicators are all 0 here (rows with a missing value were dropped)
    keep = np.arange(0, 2 * len(cols), 2)
    arrays = {
        "x_test": space.transform(members)[:, keep],
        "x_ref": space.transform(reference)[:, keep],
    }
    arrays["x_test"] = np.vstack([arrays["x_test"], space.transform(non_members)[:, keep]])
    arrays["y_test"] = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    ours = {}
    rng = np.random.default_rng(0)
    for name, frame in releases.items():
        x = space.transform(frame)[:, keep]
        arrays[f"x_{name}"] = x
        m = len(members)
        kde = density_kde(arrays["x_test"], x, arrays["x_ref"], rng)
        dist = distance(arrays["x_test"], x, arrays["x_ref"], rng)
        ours[name] = {
            "density_kde": auc(kde[:m], kde[m:]),
            "distance": auc(dist[:m], dist[m:]),
        }
    with tempfile.TemporaryDirectory() as tmp:
        npz, out_json = Path(tmp) / "arrays.npz", Path(tmp) / "domias.json"
        np.savez(npz, **arrays)
        subprocess.run([args.anon_python, str(RUNNER), str(npz), str(out_json)], check=True)
        theirs = json.loads(out_json.read_text())
    rows = []
    for name in releases:
        rows.append(
            {
                "release": name,
                "tabgen_density_kde_auc": round(ours[name]["density_kde"], 4),
                "domias_kde_ratio_auc": round(theirs[name]["ablated_eq2"], 4),
                "tabgen_distance_auc": round(ours[name]["distance"], 4),
                "domias_gan_leaks_auc": round(theirs[name]["gan_leaks"], 4),
                "domias_all": {k: round(v, 4) for k, v in theirs[name].items()},
            }
        )
        print(rows[-1], flush=True)
    out = {
        "command": "python benchmarks/bench_privacy_domias.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "domias": "0.0.5 (own venv)",
        "columns": cols,
        "members": len(members),
        "non_members": len(non_members),
        "reference": len(reference),
        "results": rows,
    }
    path = RESULTS / "privacy_domias.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
