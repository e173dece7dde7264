"""``results/privacy_attacks.md``: the privacy section of RESULTS.md (issue #27), from the
JSON results of bench_privacy_mia.py, bench_anonymize.py --no-raw, bench_attack_floor.py,
bench_privacy_anonymeter.py, bench_privacy_domias.py, bench_dp_audit.py and bench_dp.py (the
DP copula before / after the discrete noise). Sections whose JSON is missing are left out.

    python -m benchmarks.render_privacy && python benchmarks/make_results.py
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "privacy_attacks.md"
BUSY = (
    "a busy machine shared by eight engineers (2 cores): times are inflated and noisy, "
    "quality figures are not"
)
ATTACKS = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _machine(m: dict) -> str:
    keys = ("cpu", "cores", "python", "numpy", "torch")
    return ", ".join(f"{k} {m[k]}" for k in keys if k in m)


def _f(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def sanity(res: dict) -> list[str]:
    lines = [
        "### Membership attacks: sanity checks and the shadow-model attack",
        "",
        f"Command: `{res['command']}` ({res['date']}; {_machine(res['machine'])}; {BUSY}).",
        "Worst case over the five attacks of `membership_attacks` (distance, distance ratio, "
        "DOMIAS-style kNN and KDE density ratio, classifier), 95 % bootstrap upper bounds in "
        "brackets. *copy*: the release is the training rows (must be caught, AUC >= .9); "
        "*independent*: real rows disjoint from training and holdout (must be ~.5); "
        "*copula*: a Gaussian copula fitted on the training rows; *shadow attack*: the "
        "shadow-model attack (`membership_attacks(shadow=...)`, copula shadows, per-record "
        "calibration, feature weights clipped at 0; the first version's logistic regression "
        "learned noise of either sign from shadows without signal and gave .447 on Adult) on "
        "that release, with its own sanity checks on the copy and the independent sample. "
        "`at risk`: share of training rows "
        "flagged at 1 % FPR by some attack, beside the same share among non-members.",
        "",
        "| dataset | release | worst AUC | worst attack | TPR@1%FPR | TPR@0.1%FPR | at risk "
        "(chance) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res["results"]:
        for arm in ("copy", "independent", "copula"):
            s = r[arm]
            lines.append(
                f"| {r['dataset']} | {arm} | {_f(s['mia_auc_worst'])} "
                f"[{_f(s['mia_auc_worst_high'])}] | {s['worst_attack']} | "
                f"{_f(s['mia_tpr_at_1pct_fpr'])} [{_f(s['mia_tpr_at_1pct_fpr_high'])}] | "
                f"{_f(s['mia_tpr_at_0.1pct_fpr'])} | {_f(s['records_at_risk'])} "
                f"({_f(s['records_at_risk_holdout'])}) |"
            )
        for arm in ("copula", "copy", "independent"):
            sh = r.get(f"{arm}_shadow")
            if not sh:
                continue
            lines.append(
                f"| {r['dataset']} | {arm}, shadow attack ({sh['n_shadows']} copula shadows) | "
                f"{_f(sh['shadow_auc'])} [{_f(sh['shadow_auc_high'])}] | shadow | "
                f"{_f(sh['shadow_tpr_at_1pct_fpr'])} [{_f(sh['shadow_tpr_at_1pct_fpr_high'])}] | "
                f"{_f(sh['shadow_tpr_at_0.1pct_fpr'])} | – |"
            )
    return [*lines, ""]


def _headline_floor(top: dict, n: int, n_secrets: int) -> float:
    """The report's own leak-free floor (``inference_risk_high_floor``, the headline secret's
    Bonferroni floor) recomputed from the counts stored in the export JSON (rates are Wilson
    rates: ``k = rate (n + z²) - z²/2``), as ``tabgen.metrics.attacks.inference`` does."""
    import numpy as np

    from tabgen.metrics.attacks.inference import FLOOR_LEVEL, NULL_DRAWS
    from tabgen.metrics.attacks.statistics import _z, null_upper_bounds

    z2 = _z(0.95) ** 2
    k = [round(top[f"{w}_rate"] * (n + z2) - z2 / 2) for w in ("attack", "control")]
    _, high = null_upper_bounds(
        np.array([k[0]]),
        np.array([k[1]]),
        np.array([n]),
        0.95,
        np.random.default_rng(0),
        draws=NULL_DRAWS,
    )
    return float(np.quantile(high[:, 0], 1.0 - (1.0 - FLOOR_LEVEL) / n_secrets))


def export_rerun(res: dict) -> list[str]:
    """The report's own floor, end to end (a rerun of the export with the floor in it)."""
    lines = []
    for r in res["results"]:
        s = r["safeguarded"]
        if "inference_risk_high_floor" not in s:
            continue
        top = s["inference_top"][0]
        ok = s["inference_risk_high"] <= max(0.05, s["inference_risk_high_floor"])
        lines.append(
            f"End to end, `{res['command']}` ({_machine(res['machine'])}; {BUSY}): the "
            f"Anonymizer's own report on {r['dataset']} gives the inference headline "
            f"{top['secret']} {_f(s['inference_risk'], 4)}, upper bound "
            f"{_f(s['inference_risk_high'], 4)}, beside its `inference_risk_high_floor` "
            f"{_f(s['inference_risk_high_floor'], 4)}: target {'met' if ok else 'MISSED'} "
            f"(worst MIA AUC {_f(s['mia_auc_worst'])})."
        )
    return [*lines, ""] if lines else []


def export(res: dict, floor: dict | None, same: dict | None = None) -> list[str]:
    floors = {}
    for d in (floor or {}).get("results", []):
        runs = d.get("runs", [])
        if runs:
            floors[d["dataset"]] = {
                a: max(run[a][1] for run in runs if a in run) for a in ATTACKS if a in runs[0]
            }
    same_runs = {d["dataset"]: d for d in (same or {}).get("results", [])}
    lines = [
        "### Anonymized export (default VAE, every safeguard on) against the new attacks",
        "",
        f"Command: `{res['command']}` ({_machine(res['machine'])}; {BUSY}). Targets: "
        "worst-case MIA AUC <= .55 and TPR@1%FPR <= 3 %; each Anonymeter-style risk's upper "
        "95 % bound <= .05 **or** not above the leak-free floor measured the same way on the "
        "same split.",
        "",
        "| dataset | worst AUC [high] | TPR@1%FPR [high] | TPR@0.1%FPR | at risk (chance) | "
        "DCR share | MLE (real) | MIA target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    risk_rows, inference_rows = [], []
    for r in res["results"]:
        s = r["safeguarded"]
        ok = s["mia_auc_worst"] <= 0.55 and s["mia_tpr_at_1pct_fpr"] <= 0.03
        lines.append(
            f"| {r['dataset']} | {_f(s['mia_auc_worst'])} [{_f(s['mia_auc_worst_high'])}] | "
            f"{_f(s['mia_tpr_at_1pct_fpr'])} [{_f(s['mia_tpr_at_1pct_fpr_high'])}] | "
            f"{_f(s['mia_tpr_at_0.1pct_fpr'])} | {_f(s['records_at_risk'])} "
            f"({_f(s['records_at_risk_holdout'])}) | {_f(s['dcr_share'])} | "
            f"{_f(s['utility_synthetic'])} ({_f(s['utility_real'])}) | "
            f"{'met' if ok else 'MISSED'} |"
        )
        sm = same_runs.get(r["dataset"])
        for a in ATTACKS:
            high = s.get(f"{a}_risk_high")
            fl = floors.get(r["dataset"], {}).get(a)
            where = "other splits, max over seeds"
            if a == "inference" and sm and s.get("inference_top"):
                n_secrets = len(sm["runs"][0]["inference_per_secret"])
                fl = _headline_floor(s["inference_top"][0], s["n_attacks"], n_secrets)
                where = f"same split, {s['inference_top'][0]['secret']}"
                secret = s["inference_top"][0]["secret"]
                leak_free = [run["inference"][1] for run in sm["runs"]]
                same = [run["inference_per_secret"][secret][1] for run in sm["runs"]]
                inference_rows.append(
                    f"| {r['dataset']} | {secret} | "
                    f"{_f(s['inference_top'][0]['attack_rate'], 4)} / "
                    f"{_f(s['inference_top'][0]['control_rate'], 4)} | {_f(high, 4)} | "
                    f"{_f(fl, 4)} | {len(leak_free)} | {_f(min(leak_free), 3)}–"
                    f"{_f(max(leak_free), 3)} | {_f(min(same), 3)}–{_f(max(same), 3)} | "
                    f"{_f(sm['inference_runs_under_own_floor'], 2)} |"
                )
            ok = high is not None and (high <= 0.05 or (fl is not None and high <= fl))
            risk_rows.append(
                f"| {r['dataset']} | {a} | {_f(s.get(f'{a}_risk'), 4)} | {_f(high, 4)} | "
                f"{_f(fl, 4)} ({where}) | {'met' if ok else 'MISSED'} |"
            )
    lines += [
        "",
        "| dataset | attack | risk | upper 95 % | leak-free floor | target |",
        "|---|---|---|---|---|---|",
        *risk_rows,
    ]
    if inference_rows:
        lines += [
            "",
            "The inference floor (issue #27's revised target). The first measurement compared "
            "the export's headline, the riskiest of ~15-24 secrets, with the largest headline "
            "of 5 leak-free releases drawn on *other* splits: a single noisy draw, not a floor. "
            "What drives the wide bounds: the residual risk is `(attack - control) / (1 - "
            "control)`, and for a secret the other columns nearly determine (Adult's "
            "`education_num` from `education`, Bank's `default`, 96 % `no`) both rates are "
            "~.95, so a rate difference of .004-.007 (1-1.6 standard errors) becomes a risk of "
            ".09-.13 with a half-width of ~.15. The floor is now measured the same way on the "
            "same split: the report computes it itself (`inference_risk_high_floor`: under "
            "'no leak' main and control succeed equally often given the release, so their "
            "counts are redrawn as binomials at the pooled rate and scored exactly as measured; "
            "the headline secret's bound at the 1 - .05/S quantile, Bonferroni over the S "
            "secrets, so that a leak-free release stays under it at least 95 % of the time "
            "whichever secret the headline picks); here recomputed from the export's stored "
            "counts. Check on real leak-free releases on the same split (`bench_attack_floor.py "
            "--same-split`: the Anonymizer's holdout as control, targets from its training "
            "rows, a release of export size from the other training rows and the test file): "
            "their headline upper bounds, their bounds for the export's headline secret, and the "
            "share of runs under their own floor. Leak-free releases reach the export's bounds "
            "on Adult and Bank: those two bounds are the measurement's resolution, not a leak, "
            "so no safeguard was strengthened (none would move a bound that a release of "
            "unrelated real rows also reaches).",
            "",
            "| dataset | headline secret | attack / control rate | upper 95 % | floor "
            "(same split) | leak-free runs | their headline upper bounds | their bounds for "
            "the same secret | under own floor |",
            "|---|---|---|---|---|---|---|---|---|",
            *inference_rows,
        ]
    return [*lines, ""]


def anonymeter(res: dict) -> list[str]:
    lines = [
        "### Cross-check: tabgen's Anonymeter-style attacks beside the `anonymeter` package",
        "",
        f"Command: `{res['command']}` ({res['date']}; {_machine(res['machine'])}; {BUSY}); "
        f"anonymeter {res['anonymeter']}. Both tools score the same tables (training rows "
        "subsampled to the holdout size, the holdout as control, a copula `Anonymizer` "
        "export), the same number of attacks, linkability split and secrets. Agreement = the "
        "two 95 % intervals overlap.",
        "",
        "| dataset | attack | tabgen risk [95 %] | anonymeter risk [95 %] | overlap |",
        "|---|---|---|---|---|",
    ]
    for r in res["results"]:
        for c in r["comparison"]:
            a, b = c["tabgen"], c["anonymeter"]
            lines.append(
                f"| {r['dataset']} | {c['attack']} | {_f(a['risk'], 4)} "
                f"[{_f(a['risk_low'], 4)}, {_f(a['risk_high'], 4)}] | {_f(b['risk'], 4)} "
                f"[{_f(b['risk_low'], 4)}, {_f(b['risk_high'], 4)}] | "
                f"{'yes' if c['intervals_overlap'] else 'NO'} |"
            )
    return [*lines, ""]


def domias(res: dict) -> list[str]:
    lines = [
        "### Cross-check: tabgen's DOMIAS-style attack beside the `domias` package",
        "",
        f"Command: `{res['command']}` ({res['date']}; {_machine(res['machine'])}; {BUSY}); "
        f"domias {res['domias']}. Adult's numerical columns, {res['members']} members, "
        f"{res['non_members']} non-members, {res['reference']} reference rows; the same "
        "arrays given to both. ROC-AUC:",
        "",
        "| release | tabgen density_kde | domias KDE ratio (eq. 2) | tabgen distance | "
        "domias GAN-leaks |",
        "|---|---|---|---|---|",
    ]
    for r in res["results"]:
        lines.append(
            f"| {r['release']} | {_f(r['tabgen_density_kde_auc'], 4)} | "
            f"{_f(r['domias_kde_ratio_auc'], 4)} | {_f(r['tabgen_distance_auc'], 4)} | "
            f"{_f(r['domias_gan_leaks_auc'], 4)} |"
        )
    return [*lines, ""]


def audit(res: dict) -> list[str]:
    lines = [
        "### Empirical privacy audit of the DP copula (canary)",
        "",
        f"Command: `{res['command']}` ({res['date']}; {_machine(res['machine'])}; {BUSY}). "
        f"{res['model']}, {res['rows']} Adult rows; statistic: {res['statistic']}; "
        "threshold chosen on half of the runs, bound (one-sided 95 % Clopper-Pearson) on the "
        "other half. The lower bound must sit below the claimed epsilon.",
        "",
        "| epsilon | runs per arm | TPR | FPR | epsilon lower bound | below claimed |",
        "|---|---|---|---|---|---|",
    ]
    for r in res["results"]:
        lines.append(
            f"| {r['epsilon']:g} | {r['runs_per_arm']} | {_f(r['tpr_eval'])} | "
            f"{_f(r['fpr_eval'])} | {_f(r['epsilon_lower_bound'])} | "
            f"{'yes' if r['below_claimed'] else 'NO'} ({_f(r['ratio_lb_to_claimed'])} of it) |"
        )
    return [*lines, ""]


def audit_neural(results: list[dict]) -> list[str]:
    first = results[0]
    lines = [
        "### Empirical privacy audit of the DP neural models (one run, many canaries)",
        "",
        f"Command: `{first['command']}` and the same with the other `--model` values "
        f"({first['date']}; {_machine(first['machine'])}; {BUSY}). {first['method']}. "
        f"{first['rows']} Adult rows (the copula audit's columns); each canary, a random row of "
        "the public domain, joins the training table with probability 1/2; the auditor "
        "guesses in / out for the k most / least exposed canaries; 95 % lower bound from the "
        "binomial tail (Steinke, Nasr & Jagielski 2023), Bonferroni over three k. The "
        "non-DP row (same table, same canaries, more epochs) shows what the statistic can "
        "detect; a black-box audit with one run is loose by design.",
        "",
        "| model | epsilon (claimed) | epochs | noise multiplier | canaries (in) | right "
        "guesses | epsilon lower bound | below claimed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for r in res["results"]:
            eps = (
                "no DP"
                if r["epsilon"] is None
                else f"{r['epsilon']:g} ({r['claimed_epsilon']:.3f})"
            )
            noise = "–" if r["noise_multiplier"] is None else f"{r['noise_multiplier']:.2f}"
            stats = (
                ("black box", r),
                ("white box", r.get("white_box")),
                ("token count", r.get("token_count")),
            )
            for stat, row in stats:
                if row is None:
                    continue
                below = "–" if r["below_claimed"] is None else "NO"
                if (
                    r["below_claimed"] is not None
                    and row["epsilon_lower_bound"] < r["claimed_epsilon"]
                ):
                    below = f"yes, {r['claimed_epsilon'] - row['epsilon_lower_bound']:.2f} below"
                lines.append(
                    f"| {r['model']} ({stat}) | {eps} | {r['epochs']} | {noise} | "
                    f"{r['canaries']} ({r['canaries_in']}) | {row.get('correct', '–')} / "
                    f"{row['guesses']} | {_f(row['epsilon_lower_bound'])} | {below} |"
                )
    lines += [
        "",
        "Statistics: *black box*, minus the canary's distance to the nearest released row; "
        "*white box* (VAE), its log-likelihood under the released decoder (Monte Carlo over "
        "1,024 prior latents); *token count* (runs with `--tokens`, tags `<model>_tokens`), "
        "the canaries carry their own category of `race`, declared in the public domain and "
        "in no real row, and the statistic is how many released rows have it. Read the DP "
        "rows against the non-DP rows: random-domain canaries are not detected even without "
        "DP (the distance and likelihood statistics have no power on them), so those bounds "
        "only rule out gross violations; token canaries are detected without DP (100 of 100 "
        "right, a bound of 3.0, the most that 100 guesses can certify at this confidence), "
        "and with DP the bound stays below the claimed epsilon at every epsilon, by the "
        "margin shown. One run each, 1,000 rows, 10 DP epochs: a loose audit, not a proof.",
    ]
    return [*lines, ""]


def dp_noise(before: dict, after: dict) -> list[str]:
    lines = [
        "### DP copula: discrete noise and the zCDP accountant, before / after",
        "",
        f"Commands: `{before['command']}` on the code before (float Laplace / Gaussian, basic "
        f"composition) and `{after['command']}` after (exact discrete samplers, zCDP). "
        f"{_machine(after['machine'])}. Mean over the seeds (each seed in the "
        "`dp_adult_copula_*` sections below).",
        "",
        "| epsilon | MLE before | MLE after | trend before | trend after |",
        "|---|---|---|---|---|",
    ]

    def means(res):
        out = {}
        for r in res["datasets"]["adult"]["runs"]:
            out.setdefault(r["epsilon"], []).append((r["utility_synthetic"], r["trend"]))
        return {k: [sum(x) / len(v) for x in zip(*v)] for k, v in out.items()}

    b, a = means(before), means(after)
    for eps in b:
        if eps in a:
            lines.append(
                f"| {eps} | {_f(b[eps][0])} | {_f(a[eps][0])} | {_f(b[eps][1])} | {_f(a[eps][1])} |"
            )
    return [*lines, ""]


def render() -> str:
    parts = [
        "## Privacy: membership attacks, Anonymeter cross-check, secure DP noise (issue #27)",
        "",
    ]
    mia = _load("privacy_mia_sanity.json")
    if mia:
        parts += sanity(mia)
    exp = _load("privacy_export_vae.json")
    if exp:
        parts += export(
            exp, _load("attack_floor_leak_free.json"), _load("privacy_floor_same_split.json")
        )
    rerun = _load("privacy_export_vae_adult_floor.json")
    if rerun:
        parts += export_rerun(rerun)
    anon = _load("privacy_anonymeter_copula.json")
    if anon:
        parts += anonymeter(anon)
    dom = _load("privacy_domias.json")
    if dom:
        parts += domias(dom)
    aud = _load("privacy_audit_copula.json")
    if aud:
        parts += audit(aud)
    neural = [
        _load(f"privacy_audit_{m}{t}.json")
        for t in ("", "_tokens")
        for m in ("vae", "gan", "diffusion")
    ]
    if any(neural):
        parts += audit_neural([n for n in neural if n])
    before, after = _load("dp_adult_copula_before.json"), _load("dp_adult_copula_discrete.json")
    if before and after:
        parts += dp_noise(before, after)
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
