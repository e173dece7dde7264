"""Privacy attacks on synthetic data with 95 % confidence intervals (Anonymeter-style).

A reimplementation, from the published description (Giomi et al., "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023), of the three attacks that follow the
Article 29 Working Party criteria (WP216): *singling out*, *linkability* and *inference*. Every
attack is run three times:

* **main**: against the training rows the generator saw (``real``);
* **control**: the same attack against real rows it never saw (``holdout``); what an attacker
  learns about the control rows comes from the population, not from a leak;
* **baseline**: random guessing, a sanity check (an attack no better than it says nothing).

Each success rate gets a Wilson score interval and the residual risk is
``(attack - control) / (1 - control)``, with the error propagated from both rates. The attacks:

1. **Singling out, univariate**: predicates built from the synthetic rows, one column each:
   ``col == v`` for values seen exactly once in the synthetic column, ``col <= min`` and
   ``col >= max`` for numbers and datetimes. A predicate succeeds when it matches exactly one
   target row.
2. **Singling out, multivariate**: a random synthetic row and ``n_cols`` random columns where it
   has a value give a conjunction (numbers: ``col <= v`` when ``v`` is at most the synthetic
   median, else ``col >= v``; categories: ``col == v``), kept when it matches exactly one
   synthetic row.
3. **Linkability**: the columns are split in two disjoint halves; a target row is linked when
   its ``n_neighbors`` nearest synthetic rows on one half and on the other share a row.
4. **Inference**: for each secret column, the attacker finds the synthetic row nearest to the
   target on all the other columns and guesses its secret.

The baselines use the synthetic data only for their domain: random predicates (random columns,
a value drawn uniformly from the synthetic range or among the distinct synthetic values and
categories), random synthetic rows as neighbours (linkability) or as guesses (inference).

Membership inference is measured separately (:func:`membership_attacks`, run by
:func:`tabgen.metrics.privacy`: distance, distance-ratio, DOMIAS-style density-ratio and
classifier attacks, worst case first; with ``shadow=`` it also trains the generator itself,
the shadow-model attack, run by the benchmarks).

These are *empirical* risk estimates against a holdout control, not a guarantee: only
differential privacy gives one (``references/privacy.md``).

Differences from the reference implementation, on purpose: the training rows are subsampled to
the size of the holdout (or the holdout to the size of the training rows, if that is smaller)
instead of rescaling the singling-out control count with a fitted model, so that the main and
control attacks target equally many rows; the nearest-neighbour distance is Euclidean on one
shared encoding (see :func:`attack_risks`) instead of a Gower-like L1.
"""

from .membership import MEMBERSHIP_ATTACKS, membership_attacks
from .risks import ATTACKS, MIN_ROWS, attack_risks
from .statistics import residual_risk, wilson_interval

__all__ = [
    "ATTACKS",
    "MEMBERSHIP_ATTACKS",
    "MIN_ROWS",
    "attack_risks",
    "membership_attacks",
    "residual_risk",
    "wilson_interval",
]
