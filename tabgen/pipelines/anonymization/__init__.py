"""Anonymized export: a synthetic copy of a sensitive table, with safeguards and a measured
privacy report.

What :class:`Anonymizer` does, in order (each safeguard on by default):

1. **Holdout.** A share of the real rows (default 20 %) is split off before anything is
   learned. The model never sees it; every privacy number is measured against it.
2. **PII and keys are never learned.** Columns that look like personal identifiers — by name
   or by their values: emails, phone numbers, person names, street addresses, IPs, URLs, card,
   IBAN and social-security numbers, postcodes, free text — and key columns (unique ids) are
   left out of the model. In the output they are regenerated with fresh, format-preserving
   fake values (reserved domains and ranges, random syllables; keys unique across the whole
   export) or dropped (``pii="drop"``). See :mod:`tabgen.pii`.
3. **Rare categories are merged.** A category seen fewer than ``rare_threshold`` times in the
   training rows becomes one protected value (``"_RARE_"``) before training, so a unique value
   cannot single out its owner.
4. **Robust numeric bounds.** Numbers and dates are clipped, in the training rows and in the
   output, to the k-th smallest and k-th largest training value with k drawn at random in
   5-7 (per column), so the exact extremes — the outliers' own values — are never released.
   A column with fewer than 20 present values is clipped to its quartiles.
5. **Near-copies are replaced.** A synthetic row identical to a training row, or closer to its
   nearest training row than ``distance_quantile`` (default 5 %) of the holdout's real rows
   are to theirs, is discarded and replaced by a fresh sample; the count is reported. This
   filter compares with the real rows, so it is itself data-dependent: it is not
   differential privacy and must not be described as such.
6. **Only synthetic rows leave.** :meth:`Anonymizer.export` writes synthetic rows only, in
   batches (memory bounded by the batch). The fitted model is never written: a model can
   memorise rows, and saving it (``anonymizer.synthesizer_.save(path)``) is a separate,
   explicit act.

:meth:`Anonymizer.report` measures the result against the holdout: DCR share, exact-copy
rate, NNDR, a battery of membership-inference attacks (distance, DOMIAS-style density ratio,
classifier; worst-case AUC and TPR at 1 % / 0.1 % FPR, and the positions of the riskiest
training rows for the data owner), Anonymeter-style singling-out,
linkability and attribute-inference risks with 95 % confidence intervals, and the fidelity
and utility scores, so the trade-off is visible. These are *measured* risks from a set of
attacks, not a proof of anonymity.

**Differential privacy** (``epsilon=``): the synthesizer is trained in its DP mode (see
:mod:`tabgen.privacy`; default model in this mode: the DP Gaussian copula, the best utility we
measured at small epsilon) and the export then carries an (epsilon, delta) guarantee for the
training rows. Everything that would look at the real rows outside the model is switched off,
since it would break the guarantee: no rare-category merging or clipping here (the DP domain
releases categories and bounds itself), no near-copy filter (asking for one is an error), and
PII columns are regenerated from canonical formats only (no shapes, no missing rate learned).
Column kinds and names, the domain the user declares and the row count are treated as public.
"""

from tabgen.pipelines.anonymization.checks import MIN_ROWS
from tabgen.pipelines.anonymization.estimator import Anonymizer
from tabgen.pipelines.anonymization.safeguards import RARE_VALUE

__all__ = ["MIN_ROWS", "RARE_VALUE", "Anonymizer"]
