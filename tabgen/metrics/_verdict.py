"""The report's overall verdict: one plain-language line per metric group.

The thresholds are rules of thumb, said as such in the page; the numbers next to them are the
measured ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ._report import Report

#: The Anonymeter-style risks of the ``attacks`` group.
_ATTACK_RISKS = (
    "singling_out_univariate_risk",
    "singling_out_multivariate_risk",
    "linkability_risk",
    "inference_risk",
)
#: Names of the detectors, as the scores spell them.
DETECTORS = {"lr": "logistic regression", "gb": "gradient boosting"}


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _grade(value: float, good: float, fair: float) -> str:
    return "good" if value >= good else "fair" if value >= fair else "poor"


def headline_detector(scores: dict[str, float]) -> str | None:
    """``"lr"`` or ``"gb"``: the detector with the higher AUC (the stronger one), or None."""
    aucs = {k: scores.get(f"detection_{k}_auc", math.nan) for k in DETECTORS}
    aucs = {k: v for k, v in aucs.items() if _ok(v)}
    if not aucs:
        return None
    return max(aucs, key=lambda k: (aucs[k], k == "gb"))


def _fidelity(report: Report, scores: dict) -> str:
    shape, trend = scores["shape"], scores["trend"]
    worst = min(shape, trend) if _ok(trend) else shape
    text = f"{_grade(worst, 0.9, 0.8)}: single-column distributions match at shape {shape:.2f}"
    if _ok(trend):
        text += f", column-pair relations at trend {trend:.2f}"
    text += " (1 = identical)"
    result = report.results.get("fidelity")
    shapes = None if result is None else result.details.get("column_shapes")
    if shapes is not None and len(shapes) > 1:
        weakest = shapes.sort_values("score", kind="stable").iloc[0]
        text += f"; weakest column: {weakest['column']} ({weakest['score']:.2f})"
    return text + "."


def _detection(report: Report, scores: dict) -> str:
    best = headline_detector(scores)
    auc = scores[f"detection_{best}_auc"]
    if auc <= 0.6:
        grade, meaning = "good", "hard to tell from real rows"
    elif auc <= 0.8:
        grade, meaning = "fair", "partly distinguishable from real rows"
    else:
        grade, meaning = "poor", "easy to tell from real rows"
    text = (
        f"{grade}: synthetic rows are {meaning}: the {DETECTORS[best]} classifier separates "
        f"them with ROC-AUC {auc:.2f} (0.5 = cannot tell them apart, 1 = always can). "
        f"Headline: {DETECTORS[best]}, the stronger of the two detectors"
    )
    other = "gb" if best == "lr" else "lr"
    other_auc = scores.get(f"detection_{other}_auc", math.nan)
    if _ok(other_auc):
        text += f"; {DETECTORS[other]} reaches only AUC {other_auc:.2f}"
        if abs(auc - other_auc) >= 0.05:
            if other == "lr":
                text += (
                    " because a linear model on one-hot and scaled columns sees only shifts "
                    "of single columns, not the thresholds and interactions trees find"
                )
            else:
                text += (
                    " because the trees, fitted on few rows or coarse splits, miss a "
                    "difference spread thinly over many columns that a linear model adds up"
                )
        text += ". A detector is a lower bound: trust the one that finds the difference"
    return text + "."


def _utility(report: Report, scores: dict) -> str:
    syn, real = scores["utility_synthetic"], scores["utility_real"]
    result = report.results.get("utility")
    metric = "score" if result is None else str(result.details.get("metric", "score"))
    text = f"a model trained on synthetic rows scores {metric} {syn:.3f} on the holdout"
    if _ok(real) and real != 0:
        ratio = syn / real
        text = (
            f"{_grade(ratio, 0.95, 0.85)}: {text}, against {real:.3f} when trained on the "
            f"real rows ({ratio:.0%} of it)"
        )
    return text + "."


def _privacy(report: Report, scores: dict) -> str:
    copies, copies_hold = scores["exact_copy_rate"], scores["exact_copy_rate_holdout"]
    parts = [f"{copies:.1%} of synthetic rows copy a training row"]
    if _ok(copies_hold):
        parts[0] += f" ({copies_hold:.1%} match a holdout row by chance)"
    dcr, mia = scores["dcr_share"], scores["mia_auc"]
    worry = copies > (copies_hold if _ok(copies_hold) else 0.0) + 0.01
    if _ok(dcr):
        parts.append(
            f"{dcr:.0%} of synthetic rows are closer to a training row than to a holdout row "
            "(50% = no closer to what it learnt from than to unseen rows)"
        )
        worry = worry or dcr > 0.6
    worst_mia = scores.get("mia_auc_worst", math.nan)
    if _ok(worst_mia):
        parts.append(
            f"the strongest membership attack reaches ROC-AUC {worst_mia:.2f} (0.5 = chance)"
        )
        worry = worry or worst_mia > 0.6
    elif _ok(mia):
        parts.append(f"a distance-based membership attack reaches ROC-AUC {mia:.2f} (0.5 = chance)")
        worry = worry or mia > 0.6
    at_risk = scores.get("records_at_risk", math.nan)
    if _ok(at_risk):
        chance = scores.get("records_at_risk_holdout", math.nan)
        text = f"{at_risk:.1%} of training rows flagged by it at 1% false positives"
        parts.append(text + (f" ({chance:.1%} of holdout rows)" if _ok(chance) else ""))
        worry = worry or at_risk > (chance if _ok(chance) else 0.0) + 0.01
    attack_keys = [k for k in _ATTACK_RISKS if _ok(scores.get(k, math.nan))]
    if attack_keys:
        worst = max(attack_keys, key=lambda k: scores[k])
        parts.append(f"highest attack risk {scores[worst]:.2f} ({worst.removesuffix('_risk')})")
        high, floor = scores.get(f"{worst}_high", math.nan), scores.get(f"{worst}_high_floor")
        if _ok(high) and _ok(floor) and high <= floor:  # #27: within the leak-free floor
            parts[-1] += f", upper bound {high:.2f} within what a release leaking nothing reaches"
        else:
            worry = worry or scores[worst] > 0.1
    if not _ok(dcr):
        parts.append("no holdout given, so closeness to the training rows is not measured")
    grade = "needs attention" if worry else "no sign of copying"
    return f"{grade}: " + "; ".join(parts) + ". These are measurements, not a guarantee."


def verdict(report: Report) -> dict[str, str]:
    """``{group: sentence}`` for fidelity, detection, utility and privacy (what ran): a
    group has a sentence when one of the scores it needs was measured."""
    scores = report.scores
    out = {}
    for group, needs, make in (
        ("fidelity", ("shape",), _fidelity),
        ("detection", tuple(f"detection_{k}_auc" for k in DETECTORS), _detection),
        ("utility", ("utility_synthetic",), _utility),
        ("privacy", ("exact_copy_rate",), _privacy),
    ):
        if any(_ok(scores.get(key, math.nan)) for key in needs):
            out[group] = make(report, scores)
        elif group in report.skipped:
            out[group] = f"not measured: {report.skipped[group]}."
    return out
