"""One GAN fit of the constraints benchmark, with or without the rules, and the shape score
of every column (run by hand, one fit per call; used to tell a rule's reparameterisation
from the run-to-run spread of a short GAN fit).

Same data as :mod:`benchmarks.bench_constraints`: 1,500 training rows (rows breaking a rule
dropped), 1,500 held-out rows, the named rules plus the discovered ones that do not clash
with them. Prints ``MODE SEED cpu S shape X trend Y`` and the per-column table, and saves
the sampled rows to ``--save`` (a pickle) when given.

    OMP_NUM_THREADS=1 DS=california PYTHONPATH=. python benchmarks/bench_constraints_columns.py \\
        SEED {with,without} [EPOCHS=30] [--save rows.pkl]
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import tabgen
from benchmarks._common import load_dataset
from benchmarks.bench_constraints import rules_for, validity_mask
from tabgen.metrics.fidelity import column_shapes, fidelity


def main(argv: list[str]) -> None:
    warnings.filterwarnings("ignore")
    save = None
    if "--save" in argv:
        i = argv.index("--save")
        save, argv = argv[i + 1], argv[:i] + argv[i + 2 :]
    seed, mode = int(argv[0]), argv[1]
    epochs = int(argv[2]) if len(argv) > 2 else 30
    name = os.environ.get("DS", "california")
    train, test, _ = load_dataset(name)
    train = train.sample(1500, random_state=0).reset_index(drop=True)
    holdout = test.sample(1500, random_state=0).reset_index(drop=True)
    rules = rules_for(name, train)
    train = train.loc[validity_mask(rules, train, train)].reset_index(drop=True)
    params = {"constraints": rules} if mode == "with" else {}
    start = time.process_time()
    model = tabgen.GANSynthesizer(random_state=seed, epochs=epochs, **params).fit(train)
    rows = model.sample(1500, random_state=seed)
    scores = fidelity(holdout, rows).scores
    print(
        mode, seed, "cpu", round(time.process_time() - start, 1),
        "shape", round(scores["shape"], 4), "trend", round(scores["trend"], 4),
    )  # fmt: skip
    print(column_shapes(holdout, rows).to_string())
    if save:
        rows.to_pickle(save)


if __name__ == "__main__":
    main(sys.argv[1:])
