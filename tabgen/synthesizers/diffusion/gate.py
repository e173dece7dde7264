"""The sampler a diffusion fit keeps with ``sampler="auto"``: the one-step student or its teacher.

The one-step student (:mod:`~tabgen.synthesizers.diffusion.distill`) samples about fifty
times faster than the teacher's DPM-Solver++, and on some tables it is as good; on others
it loses the teacher's joint structure (gradient-boosting detection .12-.30 lower than the
same fit's DPM-Solver++ rows: ``benchmarks/RESULTS.md``). After the student is trained, and
before the post-processors are fitted (the discriminator selection must learn the rows of
the sampler that will be used), :func:`check` plays each sampler's pipeline in small:
:data:`CHECK_ROWS` training rows, decoded and featurised as the selection sees them, train a
row discriminator against as many of the sampler's rows (after the structural
post-processors), which then keeps one of 2 (student) or 4 (DPM-Solver++) candidates per
row; a gradient-boosting classifier (100 rounds, no early stopping) tells the kept rows
from as many other training rows (AUC cross-fitted over two halves; .5: the sides cannot be
told apart). The student is kept unless its AUC exceeds the teacher's by more than
:data:`MARGIN` (:func:`choose`). Measured on saved fits (``bench_diffusion_gate.py``,
``benchmarks/RESULTS.md``): Adult, where the student's pipeline is as good as
DPM-Solver++'s, gap about +.01; magic, bank, beijing and california, where it is .15-.37
worse in the issue's detection, +.08 to +.14 (:data:`MARGIN` .04 between); 5-10 CPU
seconds a check. A first version
(5,000 rows, early stopping, margin .03) was too weak: it kept the student on magic, bank
and beijing, where it loses .15-.24. Without the selection's steps the raw student
looked as bad on Adult as on california (the category dependencies and the selection
repair most of what it misses there), and on the encoded matrix the detector also saw
where in an atom's interval a value fell, which decoding discards. The check reads the
training rows, so a differentially private fit does not run it (it keeps the student).
"""

from __future__ import annotations

import copy
import logging
import time

import numpy as np
import torch

from tabgen.synthesizers.postprocess import REGISTRY, postprocessor_class
from tabgen.synthesizers.postprocess.density_ratio import pick_per_row
from tabgen.synthesizers.postprocess.selection import DRAWS as SOLVER_DRAWS
from tabgen.synthesizers.postprocess.selection import (
    RowFeatures,
    numeric_quantiles,
    train_discriminator,
)

logger = logging.getLogger("tabgen")

#: Rows of each side of the check: training rows, each sampler's kept rows.
CHECK_ROWS = 10_000
#: Fewer rows a side than this (training rows / 2): no check, the student is kept.
MIN_ROWS = 100
#: Candidates per row of the student's selection (``_DISTILL_DRAWS`` of the estimator).
STUDENT_DRAWS = 2
#: The student is kept unless its detection AUC exceeds the teacher's by more than this.
MARGIN = 0.04
#: Least share of ``max_time`` left after the student for the check to run (of the
#: post-processors' 5 % reserve; :func:`fit_choice`).
TIME_SHARE = 0.025
#: Boosting rounds of the check's detector (all of them: early stopping on a tenth of the
#: rows stopped too soon to see the student's flaws on magic, bank and beijing).
_MAX_ITER = 100


def in_use(model) -> str:
    """The unconditional sampler of a diffusion ``model``: its ``sampler`` parameter, or
    with ``"auto"`` the fit's choice ``sampler_`` (else the student where there is one)."""
    if model.sampler != "auto":
        return model.sampler
    fallback = "distilled" if getattr(model, "student_", None) is not None else "dpm"
    return getattr(model, "sampler_", fallback)


def detection_auc(real: np.ndarray, fake: np.ndarray, seed: int) -> float:
    """AUC of a gradient-boosting classifier telling ``real`` rows from ``fake`` ones,
    each row scored by the model fitted on the other half (two-fold cross-fitting; .5: no
    better than chance, 1: every row told apart)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    X = np.vstack([real, fake]).astype("float32", copy=False)
    y = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    fold = np.random.default_rng(seed).permutation(len(X)) % 2
    score = np.empty(len(X))
    for k in (0, 1):
        clf = HistGradientBoostingClassifier(
            max_iter=_MAX_ITER, early_stopping=False, random_state=seed
        )
        clf.fit(X[fold != k], y[fold != k])
        score[fold == k] = clf.predict_proba(X[fold == k])[:, 1]
    return float(roc_auc_score(y, score))


def choose(student_auc: float, dpm_auc: float, margin: float = MARGIN) -> str:
    """``"dpm"`` when the student's detection AUC exceeds the teacher's by more than
    ``margin``, else ``"distilled"`` (the student: fifty times faster to sample).

    Examples
    --------
    >>> choose(0.62, 0.60), choose(0.75, 0.60)
    ('distilled', 'dpm')
    """
    return "dpm" if student_auc - dpm_auc > margin else "distilled"


def check(model, Z: np.ndarray, rng: np.random.Generator, rows: int = CHECK_ROWS):
    """The sampler ``model`` (a fitted diffusion model with a student) should keep, and the
    check's figures.

    For each sampler, as its pipeline does: a row discriminator
    (:func:`~tabgen.synthesizers.postprocess.selection.train_discriminator`) learns ``rows``
    training rows against as many of the sampler's, then keeps one of ``draws`` candidates
    per row (:func:`~tabgen.synthesizers.postprocess.density_ratio.pick_per_row`; 2 for the
    student, 4 for DPM-Solver++); the kept rows are told from ``rows`` other training rows
    by :func:`detection_auc`. All on the encoded matrix.

    Parameters
    ----------
    model : DiffusionSynthesizer
        Fitted (denoiser and student), post-processors not yet fitted.
    Z : numpy.ndarray
        The encoded training rows.
    rng : numpy.random.Generator
        Not advanced: the check draws from a copy, so that a fit that keeps the student
        is the fit of ``sampler="distilled"``.
    rows : int
        Rows of each side (at most half the training rows).

    Returns
    -------
    choice : {"distilled", "dpm"}
    info : dict
        ``student_auc``, ``dpm_auc``, ``margin``, ``rows`` and the check's ``cpu_s``.
    """
    from tabgen._rng import torch_generator

    c0 = time.process_time()
    rng = copy.deepcopy(rng)
    n = max(1, min(int(rows), len(Z) // 2))
    pick = rng.choice(len(Z), 2 * n, replace=False)  # two random halves, each in order:
    pick = np.r_[np.sort(pick[:n]), np.sort(pick[n:])]
    real = model._decode(np.asarray(Z[pick], dtype="float64"), 0)
    categorical = [s.name for s in model.schema_ if s.kind == "categorical"]
    quantiles = numeric_quantiles(real, model.schema_)
    features = RowFeatures.from_frame(real, quantiles, categorical)
    X = features.transform(real)
    steps = [  # the structural post-processors that run before the selection
        postprocessor_class(name)().fit(real, model, rng)
        for name in list(REGISTRY)[: list(REGISTRY).index("selection")]
        if name in model._postprocessor_names()
    ]
    real, held = X[:n], X[n:]  # the discriminators' side, the detector's side
    seed = int(rng.integers(0, 2**31 - 1))
    auc = {}
    selects = "selection" in model._postprocessor_names()  # else: the raw rows compared
    for name, draws in (("distilled", STUDENT_DRAWS), ("dpm", SOLVER_DRAWS)):
        kept = _sampled_features(model, steps, features, n, rng, name)
        if selects:  # kept: the discriminator's pool
            disc, _ = train_discriminator(real, kept, torch_generator(rng, "cpu"))
            cand = _sampled_features(model, steps, features, draws * n, rng, name)
            with torch.no_grad():
                logits = disc(torch.from_numpy(cand)).double().numpy()
            kept = cand[pick_per_row(logits, draws, rng.random(n))]
        auc[name] = detection_auc(held, kept, seed)
    info = {
        "student_auc": round(auc["distilled"], 4),
        "dpm_auc": round(auc["dpm"], 4),
        "margin": MARGIN,
        "rows": n,
        "cpu_s": round(time.process_time() - c0, 2),
    }
    return choose(auc["distilled"], auc["dpm"]), info


def _sampled_features(model, steps, features, n: int, rng, sampler: str) -> np.ndarray:
    """``n`` rows of ``model``'s ``sampler``, decoded, through ``steps`` and featurised as
    the selection sees them."""
    Z = model._generate(n, None, None, rng, sampler=sampler)
    frame = model._decode(np.asarray(Z, dtype="float64"), 0)
    for step in steps:
        frame = step.apply(frame, None)
    return features.transform(frame)


def fit_choice(model, Z, rng, *, private: bool, time_left: float | None) -> tuple[str, dict]:
    """The sampler a fit with ``sampler="auto"`` keeps and its ``sampler_check_``: the
    student without a check under differential privacy (it would read the training rows)
    or when less than :data:`TIME_SHARE` of ``model.max_time`` is left (``time_left``
    seconds; the post-processors keep the rest of their reserve) or for fewer than
    ``2 * MIN_ROWS`` training rows; else :func:`check`."""
    skipped = None
    if getattr(model, "student_", None) is None:
        return "distilled", {}  # nothing trained (no learnt columns)
    if private:
        skipped = "differential privacy: the check would read the training rows"
    elif time_left is not None and time_left < TIME_SHARE * float(model.max_time):
        skipped = f"max_time spent ({time_left:.1f} s left)"
    elif len(Z) < 2 * MIN_ROWS:
        skipped = f"{len(Z)} training rows: too few for the check (at least {2 * MIN_ROWS})"
    if skipped is not None:
        choice, info = "distilled", {"skipped": skipped}
    else:
        choice, info = check(model, Z, rng)
    if getattr(model, "verbose", False):
        logger.info("sampler=%r kept (check: %s)", choice, info)
    return choice, info
