"""Generation of the :class:`~tabgen.pipelines.anonymization.Anonymizer`: the model's rows,
clipped, filtered for near-copies (replaced by fresh samples), PII columns regenerated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabgen._rng import check_random_state, spawn_seed

#: Rounds of resampling before the near-copy filter gives up.
MAX_ROUNDS = 50


def generate(anonymizer, n: int, rng: np.random.Generator, offset: int) -> pd.DataFrame:
    """``n`` safeguarded rows; counts them in ``anonymizer.stats_``."""
    a = anonymizer
    parts, have, rejected = [], 0, 0
    for _ in range(MAX_ROUNDS):
        want = n - have
        # ask for a little more than missing, so one extra round is usually enough
        m = want if not parts else max(int(want * 1.25), 16)
        rows = a._clip(a.synthesizer_.sample(m, random_state=spawn_seed(rng)))
        keep = keep_mask(a, rows)
        rejected += int((~keep).sum())
        rows = rows[keep].head(want)
        parts.append(rows)
        have += len(rows)
        if have >= n:
            break
    else:
        rate = rejected / max(rejected + have, 1)
        raise RuntimeError(
            f"the model keeps generating rows too close to training rows ({rate:.0%} "
            f"rejected after {MAX_ROUNDS} rounds); train it less long or with more data"
        )
    out = pd.concat(parts, ignore_index=True)
    a.stats_["rows"] += n
    a.stats_["replaced"] += rejected
    if a.pii == "regenerate":
        for col in a.pii_columns_:
            out[col] = a._fakes[col].generate(n, rng, offset=offset).to_numpy()
        return out[a.columns_]
    return out[[c for c in a.columns_ if c in out.columns]]


def keep_mask(anonymizer, rows: pd.DataFrame) -> np.ndarray:
    """Rows that pass the near-copy filter (all of them in DP mode: no look at the real rows
    after training)."""
    if anonymizer.epsilon is not None:
        return np.ones(len(rows), dtype=bool)
    return anonymizer._filter.keep(rows[anonymizer.model_columns_])


class Batches:
    """The anonymizer as the row source of :func:`tabgen.io.sample_to_file`: each batch
    continues its stream and its counts (``stats_``) and the ids of the batch before."""

    def __init__(self, anonymizer):
        self.anonymizer = anonymizer

    @property
    def schema_(self):
        """The schema of the anonymizer's output columns (the file's schema)."""
        return self.anonymizer.schema_

    @property
    def synthesizer_(self):
        """The fitted model (its category lists type the file's categorical columns)."""
        return self.anonymizer.synthesizer_

    def sample(self, n, conditions=None, random_state=None, *, id_offset: int = 0):
        if conditions is not None:
            raise ValueError("the anonymizer does not take conditions")
        anonymizer = self.anonymizer
        rng = anonymizer._rng if random_state is None else check_random_state(random_state)
        return generate(anonymizer, n, rng, offset=id_offset)
