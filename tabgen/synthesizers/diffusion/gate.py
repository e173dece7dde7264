"""The sampler a diffusion fit keeps with ``sampler="auto"``: the one-step student or its teacher.

The one-step student (:mod:`~tabgen.synthesizers.diffusion.distill`) samples about fifty
times faster than the teacher's DPM-Solver++, and on some tables it is as good; on others
it loses the teacher's joint structure (gradient-boosting detection .12-.30 lower than the
same fit's DPM-Solver++ rows: ``benchmarks/RESULTS.md``). After the student is trained, and
before the post-processors are fitted (the discriminator selection must learn the rows of
the sampler that will be used), :func:`check` draws :data:`CHECK_ROWS` rows from each
sampler and scores each set against as many training rows with a quick detector: a
gradient-boosting classifier with early stopping on the ENCODED matrix (one-hot categories,
normal scores), its AUC cross-fitted over two halves (.5: the sides cannot be told apart).
The student is kept unless its AUC exceeds the teacher's by more than :data:`MARGIN`
(:func:`choose`; the margin is several times the check's spread over seeds, measured in
``benchmarks/RESULTS.md``). The check reads the training rows, so a differentially
private fit does not run it (it keeps the student).
"""

from __future__ import annotations

import copy
import logging
import time

import numpy as np

logger = logging.getLogger("tabgen")

#: Rows of each side of the check: training rows, student rows, DPM-Solver++ rows.
CHECK_ROWS = 4000
#: The student is kept unless its detection AUC exceeds the teacher's by more than this.
MARGIN = 0.03
#: Least share of ``max_time`` left after the student for the check to run (of the
#: post-processors' 5 % reserve; :func:`fit_choice`).
TIME_SHARE = 0.025
#: Boosting rounds of the check's detector (early stopping ends most runs much sooner).
_MAX_ITER = 200


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
            max_iter=_MAX_ITER, early_stopping=True, random_state=seed
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
        Rows of each side (at most the training rows).

    Returns
    -------
    choice : {"distilled", "dpm"}
    info : dict
        ``student_auc``, ``dpm_auc``, ``margin``, ``rows`` and the check's ``cpu_s``.
    """
    c0 = time.process_time()
    rng = copy.deepcopy(rng)
    n = min(int(rows), len(Z))
    real = np.asarray(Z[np.sort(rng.choice(len(Z), n, replace=False))], dtype="float32")
    seed = int(rng.integers(0, 2**31 - 1))
    auc = {}
    for name in ("distilled", "dpm"):
        fake = model._generate(n, None, None, rng, sampler=name)
        auc[name] = detection_auc(real, np.asarray(fake, dtype="float32"), seed)
    info = {
        "student_auc": round(auc["distilled"], 4),
        "dpm_auc": round(auc["dpm"], 4),
        "margin": MARGIN,
        "rows": n,
        "cpu_s": round(time.process_time() - c0, 2),
    }
    return choose(auc["distilled"], auc["dpm"]), info


def fit_choice(model, Z, rng, *, private: bool, time_left: float | None) -> tuple[str, dict]:
    """The sampler a fit with ``sampler="auto"`` keeps and its ``sampler_check_``: the
    student without a check under differential privacy (it would read the training rows)
    or when less than :data:`TIME_SHARE` of ``model.max_time`` is left (``time_left``
    seconds; the post-processors keep the rest of their reserve); else :func:`check`."""
    skipped = None
    if getattr(model, "student_", None) is None:
        return "distilled", {}  # nothing trained (no learnt columns)
    if private:
        skipped = "differential privacy: the check would read the training rows"
    elif time_left is not None and time_left < TIME_SHARE * float(model.max_time):
        skipped = f"max_time spent ({time_left:.1f} s left)"
    if skipped is not None:
        choice, info = "distilled", {"skipped": skipped}
    else:
        choice, info = check(model, Z, rng)
    if getattr(model, "verbose", False):
        logger.info("sampler=%r kept (check: %s)", choice, info)
    return choice, info
