"""Fingerprints of fixed-seed samples, to show that a speed-up changes no generated row (run by
hand, before and after a change).

    # with the code before the change: fit small models on 3,000 Adult rows and save them
    python benchmarks/fingerprint_samples.py fit /tmp/fp
    # with the code before, then after the change: hash their samples and compare the output
    python benchmarks/fingerprint_samples.py hash /tmp/fp > before.json
    # a change of the fit itself (e.g. the encoder): fit and hash with the code before and
    # after, here on all 32,561 Adult rows (an optional row count; 3,000 by default)
    python benchmarks/fingerprint_samples.py fit /tmp/fp all

Each model (copula, VAE, GAN, diffusion; 3 epochs) is hashed on ``sample(2000,
random_state=0)`` and on a conditioned sample; the GAN also with ``selection_draws=1``. The
hash covers values, index and dtypes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# this checkout's tabgen, not the one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen

MODELS = {
    "copula": lambda: tabgen.GaussianCopulaSynthesizer(random_state=0),
    "vae": lambda: tabgen.VAESynthesizer(epochs=3, random_state=0),
    "gan": lambda: tabgen.GANSynthesizer(epochs=3, random_state=0),
    "diffusion": lambda: tabgen.DiffusionSynthesizer(epochs=3, random_state=0),
}


def digest(frame: pd.DataFrame) -> str:
    values = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    return hashlib.sha256(values + str(list(frame.dtypes)).encode()).hexdigest()[:16]


def fit(folder: Path, rows: str = "3000") -> None:
    df = tabgen.datasets.load_adult()
    if rows != "all":
        df = df.sample(int(rows), random_state=0).reset_index(drop=True)
    df.loc[df.sample(200, random_state=1).index, "age"] = np.nan  # missing numbers too
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in MODELS.items():
        make().fit(df).save(folder / f"{name}.tabgen", overwrite=True)


def hashes(folder: Path) -> dict:
    out = {}
    for name in MODELS:
        model = tabgen.load(folder / f"{name}.tabgen")
        out[name] = digest(model.sample(2000, random_state=0))
        conditioned = model.sample(500, conditions={"sex": "Female"}, random_state=1)
        out[f"{name}_conditioned"] = digest(conditioned)
        if name == "gan":
            out["gan_draws1"] = digest(
                model.set_params(selection_draws=1).sample(2000, random_state=0)
            )
    return out


def main(argv=None) -> None:
    args = sys.argv[1:] if argv is None else argv
    what, folder = args[:2]
    if what == "fit":
        fit(Path(folder), *args[2:3])
    else:
        print(json.dumps(hashes(Path(folder)), indent=1))


if __name__ == "__main__":
    main()
