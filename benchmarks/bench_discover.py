"""Cost and findings of :func:`tabgen.constraints.discover` (run by hand).

1. A wide table: 50 columns x 100k rows (20 floats, 10 small integers, 10 categories,
   5 binary, 5 datetimes) of which some columns carry planted rules (an order, a sum, a
   lookup, a one-hot group, a datetime order); the rest are independent. Prints the time
   of ``discover`` (target: at most 10 s) and which planted rules were found, and any rule
   found that was not planted (a false rule).
2. adult, california and magic (training split): the rules found, and whether the ones
   named in issue #23 are among them (with ``confidence=1`` and with ``confidence=0.999``:
   california's ``households <= population`` fails on 3 training rows).

    python -m benchmarks.bench_discover [--rows 100000] [--columns 50] [--seed 0]

Writes ``benchmarks/results/discover.json``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from benchmarks._common import RESULTS, load_dataset, machine_info
from tabgen.constraints import (
    Determines,
    FixedCombinations,
    Inequality,
    LinearEquality,
    OneHot,
    discover,
)

NAMED = {
    "adult": [FixedCombinations(["education", "education_num"])],
    "california": [
        Inequality("total_bedrooms", "<=", "total_rooms"),
        Inequality("households", "<=", "population"),
    ],
    "magic": [Inequality("Conc1", "<=", "Conc"), Inequality("Width", "<=", "Length")],
}


def wide_table(n: int, k: int, seed: int) -> tuple[pd.DataFrame, list]:
    """``k`` (>= 25) columns x ``n`` rows with planted rules; returns the table and them."""
    rng = np.random.default_rng(seed)
    cols: dict = {}
    n_float = k - 30
    for i in range(n_float):
        cols[f"f{i}"] = rng.normal(size=n) * (i + 1)
    for i in range(10):
        cols[f"i{i}"] = rng.integers(0, 20, n)
    for i in range(10):
        cols[f"c{i}"] = rng.choice([f"v{j}" for j in range(5 + 2 * i)], n)
    hot = rng.integers(0, 3, n)
    for i in range(3):
        cols[f"h{i}"] = (hot == i).astype(int)
    cols["b0"], cols["b1"] = rng.integers(0, 2, n), rng.integers(0, 2, n)
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")
    for i in range(5):
        cols[f"d{i}"] = start + pd.to_timedelta(rng.integers(0, 10**7, n) * (i + 1), unit="s")
    # planted rules (replacing independent columns)
    cols["f1"] = cols["f0"] + rng.exponential(1.0, n)  # f0 <= f1
    cols["i2"] = cols["i0"] + cols["i1"]  # i2 = i0 + i1
    code = {f"v{j}": 100 + j for j in range(5)}
    cols["i3"] = pd.Series(cols["c0"]).map(code).to_numpy()  # c0 -> i3 (and back)
    cols["d1"] = cols["d0"] + pd.to_timedelta(rng.integers(1, 10**6, n), unit="s")  # d0 <= d1
    df = pd.DataFrame(cols)
    planted = [
        Inequality("f0", "<=", "f1"),
        LinearEquality("i2", ["i0", "i1"]),
        FixedCombinations(["c0", "i3"]),
        OneHot(["h0", "h1", "h2"]),
        Inequality("d0", "<=", "d1"),
    ]
    return df, planted


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, LinearEquality):
        return a.total == b.total and set(a.parts) == set(b.parts)
    if isinstance(a, (FixedCombinations, Determines)):
        return set(a.columns) == set(b.columns)
    return a == b


def _expected(rule, df) -> bool:
    """Whether a found rule on the wide table is planted, or true by construction of the
    generator (non-negativity of the counts, and the orders the planted ones imply)."""
    if isinstance(rule, Inequality) and rule.right == 0:
        return bool((df[rule.left] >= 0).all()) and rule.left.startswith(("i", "h", "b"))
    return False


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--columns", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = {"machine": machine_info(), "args": vars(args)}
    df, planted = wide_table(args.rows, args.columns, args.seed)
    start = time.perf_counter()
    found = discover(df, max_rows=args.rows)
    seconds = time.perf_counter() - start
    hits = [any(_same(f, r) for f in found) for r in planted]
    false = [
        repr(f) for f in found if not any(_same(f, r) for r in planted) and not _expected(f, df)
    ]
    print(f"wide table {df.shape}: discover {seconds:.2f} s, {len(found)} rule(s)")
    print(f"  planted found: {sum(hits)}/{len(planted)}; unexpected: {false}")
    out["wide"] = {
        "shape": list(df.shape),
        "seconds": round(seconds, 2),
        "found": [repr(f) for f in found],
        "planted": {repr(r): h for r, h in zip(planted, hits)},
        "unexpected": false,
    }
    out["datasets"] = {}
    for name, named in NAMED.items():
        train, _, _ = load_dataset(name)
        entry = {}
        for confidence in (1.0, 0.999):
            start = time.perf_counter()
            rules = discover(train, confidence=confidence)
            seconds = time.perf_counter() - start
            got = {repr(r): any(_same(f, r) for f in rules) for r in named}
            print(f"{name} {train.shape} confidence={confidence}: {seconds:.2f} s; named {got}")
            for r in rules:
                print(f"    {r!r}  support={r.support:.4f} confidence={r.confidence:.4f}")
            entry[str(confidence)] = {
                "seconds": round(seconds, 2),
                "named_found": got,
                "found": [
                    {"rule": repr(r), "support": r.support, "confidence": r.confidence}
                    for r in rules
                ],
            }
        out["datasets"][name] = entry
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "discover.json").write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
