"""Empirical privacy audits of the DP models with canary records (run by hand).

    python benchmarks/bench_dp_audit.py [--epsilons 1,3,10] [--runs 150] [--rows 1000]
    python benchmarks/bench_dp_audit.py --model vae [--canaries 200] [--epochs 10]

Neural models (``--model vae|gan|diffusion``, DP-SGD): the one-run audit of Steinke, Nasr &
Jagielski (NeurIPS 2023). ``--canaries`` random rows of the public domain are drawn; each joins
the training table independently with probability 1/2 and one DP fit is made per epsilon. The
auditor sees only the release (a sample of 20,000 rows) and scores each canary by minus its
distance to the nearest synthetic row (tabgen's row encoding); it guesses "in" for the ``k``
highest scores and "out" for the ``k`` lowest and counts the right guesses ``W`` of ``2k``.
Under ``epsilon``-DP, ``W`` is dominated by ``Binomial(2k, e^eps / (1 + e^eps))``, so the largest
``epsilon`` at which ``W`` or more right guesses have probability below 5 % is a 95 % lower
bound (``k`` in {m/20, m/10, m/4}, Bonferroni over the three; delta neglected: ``2 m delta``
is below 0.005 here). For the VAE a white-box statistic is scored too (Bonferroni over both):
each canary's log-likelihood under the released decoder, a Monte Carlo average over 1,024
latents of the prior. The same audit of the model trained *without* DP (``epsilon=None``,
``--epochs-nondp`` epochs) shows what the statistic can detect.

Gaussian copula (default):
A canary row (age 100, every categorical column set to the value ``"CANARY"``, which the
declared public domain allows and no real row has) is added to the training table in half of
the fits ("in") and left out in the other half ("out"); everything else is identical. The
auditor sees what a DP fit releases, the fitted model, and computes a white-box statistic:
the released (noisy, post-processed) counts of the canary's cells summed over its columns.
A threshold is chosen on the first half of the runs (largest lower bound) and evaluated on
the second half; with one-sided 95 % Clopper-Pearson bounds on the true- and false-positive
rates, ``epsilon_lb = log(TPR_low / FPR_high)`` (and the same for the complementary test) is
a lower bound on the epsilon the mechanism can have, valid with 95 % confidence (delta is
neglected: ``delta << 1/runs``). It must stay below the claimed epsilon; how far below says
how loose this audit is (one canary, black-box statistics of the release).

The domain is fully public here, so the whole budget goes to the marginal histograms and the
correlation (the weakest point of a row: its own histogram cells). Writes
``benchmarks/results/privacy_audit_<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import beta

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tabgen
from benchmarks._common import RESULTS, load_dataset, machine_info

NUMERIC = {"age": (17, 100), "education_num": (1, 16), "hours_per_week": (1, 99)}
CATEGORICAL = ("sex", "race", "relationship")
CANARY = "CANARY"


def _table(rows: int):
    train, _, _ = load_dataset("adult")
    cols = [*NUMERIC, *CATEGORICAL]
    data = train[cols].dropna().sample(rows, random_state=0).reset_index(drop=True)
    domain = {c: bounds for c, bounds in NUMERIC.items()}
    for c in CATEGORICAL:
        domain[c] = [*sorted(data[c].unique().tolist()), CANARY]
    canary = pd.DataFrame([{"age": 100, "education_num": 16, "hours_per_week": 99}])
    for c in CATEGORICAL:
        canary[c] = CANARY
    schema = {c: "integer" for c in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
    return data, canary[cols], domain, schema


def _statistic(model) -> float:
    """Released counts of the canary's cells: its category in each categorical column and
    its age bin (age 100 is above every real age)."""
    total = 0.0
    for c in CATEGORICAL:
        dom = model.domain_.columns_[c]
        total += float(dom.counts[dom.categories.index(CANARY)])
    age = model.domain_.columns_["age"]
    k = int(np.clip(np.searchsorted(age.edges, 100, side="right") - 1, 0, len(age.counts) - 1))
    return total + float(age.counts[k])


def _cp_low(k: int, n: int, conf: float = 0.95) -> float:
    return 0.0 if k == 0 else float(beta.ppf(1 - conf, k, n - k + 1))


def _cp_high(k: int, n: int, conf: float = 0.95) -> float:
    return 1.0 if k == n else float(beta.ppf(conf, k + 1, n - k))


def _bound(s_in: np.ndarray, s_out: np.ndarray, t: float) -> float:
    """One-sided 95 % lower bound on epsilon from the test ``statistic > t`` (and its
    complement)."""
    n_in, n_out = len(s_in), len(s_out)
    tp, fp = int((s_in > t).sum()), int((s_out > t).sum())
    best = 0.0
    tpr_lo, fpr_hi = _cp_low(tp, n_in), _cp_high(fp, n_out)
    if tpr_lo > 0:
        best = max(best, math.log(tpr_lo / fpr_hi))
    tnr_lo, fnr_hi = _cp_low(n_out - fp, n_out), _cp_high(n_in - tp, n_in)
    if tnr_lo > 0:
        best = max(best, math.log(tnr_lo / fnr_hi))
    return best


def audit(epsilon: float, runs: int, data, canary, domain, schema) -> dict:
    stats = {"in": [], "out": []}
    t0 = time.perf_counter()
    with_canary = pd.concat([data, canary], ignore_index=True)
    for r in range(runs):
        for arm, frame in (("in", with_canary), ("out", data)):
            model = tabgen.GaussianCopulaSynthesizer(
                epsilon=epsilon, domain=domain, schema=schema, random_state=r
            ).fit(frame)
            stats[arm].append(_statistic(model))
    s_in, s_out = np.array(stats["in"]), np.array(stats["out"])
    half = runs // 2
    candidates = np.unique(np.r_[s_in[:half], s_out[:half]])
    thresholds = np.r_[candidates, candidates - 0.5]
    chosen = max(thresholds, key=lambda t: _bound(s_in[:half], s_out[:half], t))
    lb = _bound(s_in[half:], s_out[half:], chosen)
    claimed = model.privacy_["epsilon"]
    return {
        "epsilon": epsilon,
        "claimed_epsilon": claimed,
        "runs_per_arm": runs,
        "threshold": float(chosen),
        "epsilon_lower_bound": round(lb, 4),
        "below_claimed": lb < claimed,
        "ratio_lb_to_claimed": round(lb / claimed, 4),
        "mean_statistic_in": float(s_in.mean()),
        "mean_statistic_out": float(s_out.mean()),
        "tpr_eval": float((s_in[half:] > chosen).mean()),
        "fpr_eval": float((s_out[half:] > chosen).mean()),
        "time_s": round(time.perf_counter() - t0, 1),
    }


# ---- neural models: one-run audit with many canaries -------------------------------------

#: Synthetic rows sampled from each fit for the canaries' scores.
RELEASE_ROWS = 20_000


def _random_canaries(m: int, domain: dict, rng: np.random.Generator) -> pd.DataFrame:
    """``m`` rows drawn uniformly from the public domain (integers in their bounds, any
    category of the declared lists but the marker)."""
    out = {}
    for c, dom in domain.items():
        if c in NUMERIC:
            lo, hi = dom
            out[c] = rng.integers(lo, hi + 1, m)
        else:
            cats = [v for v in dom if v != CANARY]
            out[c] = rng.choice(np.array(cats, dtype=object), m)
    return pd.DataFrame(out)


def binomial_epsilon_lb(correct: int, guesses: int, beta_: float) -> float:
    """Largest ``epsilon`` (0 if none) at which ``correct`` or more right guesses out of
    ``guesses`` have probability below ``beta_`` under ``Binomial(guesses, e^eps/(1+e^eps))``
    (Steinke, Nasr & Jagielski 2023, Theorem 1 with delta = 0)."""
    from scipy.stats import binom

    def tail(eps):
        p = 1.0 / (1.0 + math.exp(-eps))
        return float(binom.sf(correct - 1, guesses, p))

    if guesses == 0 or tail(0.0) >= beta_:
        return 0.0
    lo, hi = 0.0, 50.0
    if tail(hi) < beta_:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if tail(mid) < beta_ else (lo, mid)
    return lo


def _make_neural(model: str, epsilon, epochs: int, seed: int):
    cls = tabgen.get_synthesizer(model)
    params = {"epochs": epochs, "batch_size": 100, "random_state": seed}
    if epsilon is not None:
        params.update(epsilon=epsilon, delta=1e-5)
    return cls, params


def _vae_loglik(fitted, canaries: pd.DataFrame, seed: int, draws: int = 1024) -> np.ndarray:
    """White-box statistic for the VAE: each canary's log-likelihood under the released
    decoder, ``log mean_k p(x | z_k)`` over ``draws`` latents from the prior (a Monte Carlo
    estimate of ``log p(x)``; the encoder network is not kept after training)."""
    import torch

    from tabgen.synthesizers.vae.loss import reconstruction_nll

    layout = fitted.layout_
    x = fitted.encoder_.transform(canaries, rng=np.random.default_rng(seed))
    x = torch.as_tensor(x, dtype=torch.float32)
    cond = torch.zeros(draws, layout.cond_width)
    gen = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        z = fitted.decoder_.sample_latent(cond, gen, shared=True)
        dec, log_scale = fitted.decoder_(z, cond, shared=True)
        for row in x:
            nll = reconstruction_nll(dec, row.expand(draws, -1), log_scale, layout)
            out.append(float(torch.logsumexp(-nll, 0) - math.log(draws)))
    return np.array(out)


def one_run_audit(
    model: str, epsilon, epochs: int, m: int, data, domain, schema, seed=0, tokens=False
):
    """One fit with ``m`` random canaries, each in with probability 1/2: the lower bound.
    With ``tokens`` each canary carries its own category of ``TOKEN_COLUMN`` (declared in
    the public domain, in no real row), and the count of release rows with it is scored too."""
    from sklearn.neighbors import NearestNeighbors

    from tabgen.metrics._encode import RowSpace

    rng = np.random.default_rng(seed)
    canaries = _random_canaries(m, domain, rng)
    if tokens:
        canaries[TOKEN_COLUMN] = _tokens(m)
    inside = rng.random(m) < 0.5
    frame = pd.concat([data, canaries[inside]], ignore_index=True)
    cls, params = _make_neural(model, epsilon, epochs, seed)
    if epsilon is not None:
        params["domain"] = dict(domain)
    t0 = time.perf_counter()
    fitted = cls(**params, schema=schema).fit(frame)
    fit_s = time.perf_counter() - t0
    out = {}
    release = fitted.sample(RELEASE_ROWS, random_state=seed + 1)
    kinds = {c: ("numerical" if c in NUMERIC else "categorical") for c in data.columns}
    space = RowSpace(kinds).fit(data)
    nn = NearestNeighbors(n_neighbors=1).fit(space.transform(release[list(data.columns)]))
    dist, _ = nn.kneighbors(space.transform(canaries))
    statistics = {"black_box": -dist[:, 0]}
    if tokens:
        counts = release[TOKEN_COLUMN].value_counts()
        statistics["token_count"] = counts.reindex(_tokens(m), fill_value=0).to_numpy(float)
    elif model == "vae":
        statistics["white_box"] = _vae_loglik(fitted, canaries, seed)
    for name, score in statistics.items():
        # random tie-break; Bonferroni over the statistics too
        out[name] = _guesses(score + 1e-9 * rng.random(m), inside, m, len(statistics))
    claimed = fitted.privacy_["epsilon"] if epsilon is not None else None
    best = out["black_box"]
    result = {
        "model": model,
        "epsilon": epsilon,
        "claimed_epsilon": claimed,
        "epochs": epochs,
        "canaries": m,
        "canaries_in": int(inside.sum()),
        "training_rows": len(frame),
        **best,
        "guesses": 2 * best.get("k", 0),
        "below_claimed": None if claimed is None else best["epsilon_lower_bound"] < claimed,
        "noise_multiplier": None if claimed is None else fitted.privacy_.get("noise_multiplier"),
        "fit_s": round(fit_s, 1),
    }
    for name in ("white_box", "token_count"):
        if name in out:
            wb = out[name]
            result[name] = {**wb, "guesses": 2 * wb.get("k", 0)}
            if claimed is not None:
                result[name]["below_claimed"] = wb["epsilon_lower_bound"] < claimed
    return result


#: The column whose category marks each token canary.
TOKEN_COLUMN = "race"


def _tokens(m: int) -> list[str]:
    return [f"{CANARY}_{i:03d}" for i in range(m)]


def _guesses(score: np.ndarray, inside: np.ndarray, m: int, n_statistics: int) -> dict:
    """The best of the three ``k`` (Bonferroni over them and the ``n_statistics``): lower
    bound, ``k`` and right guesses."""
    order = np.argsort(-score)
    best = {"epsilon_lower_bound": 0.0}
    ks = sorted({max(1, m // 20), max(1, m // 10), max(1, m // 4)})
    for k in ks:
        correct = int(inside[order[:k]].sum() + (~inside[order[-k:]]).sum())
        lb = binomial_epsilon_lb(correct, 2 * k, 0.05 / (len(ks) * n_statistics))
        if lb >= best["epsilon_lower_bound"]:
            best = {"epsilon_lower_bound": round(lb, 4), "k": k, "correct": correct}
    return best


def main_neural(args) -> None:
    data, _, domain, schema = _table(args.rows)
    domain = {
        c: ([v for v in d if v != CANARY] if c in CATEGORICAL else d) for c, d in domain.items()
    }
    if args.tokens:
        domain[TOKEN_COLUMN] = [*domain[TOKEN_COLUMN], *_tokens(args.canaries)]
    results = []
    arms = [(float(e), args.epochs) for e in args.epsilons.split(",")]
    arms.append((None, args.epochs_nondp))
    for eps, epochs in arms:
        res = one_run_audit(
            args.model, eps, epochs, args.canaries, data, domain, schema, tokens=args.tokens
        )
        print(res, flush=True)
        results.append(res)
    method = (
        "one-run audit (Steinke, Nasr & Jagielski 2023), random-domain canaries, "
        "black-box statistic: minus the distance to the nearest of 20,000 synthetic rows"
    )
    if args.tokens:
        method += (
            f"; token canaries: each carries its own {TOKEN_COLUMN} category (public domain, "
            "no real row), scored by the count of release rows with it"
        )
    tag = args.tag or (f"{args.model}_tokens" if args.tokens else args.model)
    _write(tag, args.rows, results, model=args.model, method=method)


def _write(tag: str, rows: int, results: list, **info) -> None:
    out = {
        "command": "python benchmarks/bench_dp_audit.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        **info,
        "rows": rows,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"privacy_audit_{tag}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="1,3,10")
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--tag", default=None)
    parser.add_argument("--model", default="copula", help="copula, vae, gan or diffusion")
    parser.add_argument("--canaries", type=int, default=200, help="neural models")
    parser.add_argument("--epochs", type=int, default=10, help="neural models, DP fits")
    parser.add_argument("--epochs-nondp", type=int, default=100, help="the non-DP control")
    parser.add_argument(
        "--tokens", action="store_true", help="canaries with their own category (neural)"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.model != "copula":
        main_neural(args)
        return
    data, canary, domain, schema = _table(args.rows)
    results = []
    for eps in (float(e) for e in args.epsilons.split(",")):
        res = audit(eps, args.runs, data, canary, domain, schema)
        print(res, flush=True)
        results.append(res)
    _write(
        args.tag or "copula",
        args.rows,
        results,
        model="GaussianCopulaSynthesizer (DP, public domain)",
        statistic="released counts of the canary's cells (3 categories + age bin)",
    )


if __name__ == "__main__":
    main()
