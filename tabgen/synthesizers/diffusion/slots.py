"""Known slots of conditional sampling and inpainting in the denoiser's model space: at
sampling time they stay fixed and the denoiser fills the others."""

from __future__ import annotations

import numpy as np

from tabgen.synthesizers.diffusion import process


def condition_slots(encoder, layout, n: int, conditions):
    """Model-space values and mask of the known slots of ``n`` rows under ``conditions``
    (``(None, None)`` when nothing is fixed); NaN in a condition leaves that cell free."""
    dim = layout.dim
    Z = np.zeros((n, dim))
    mask = np.zeros((n, dim), dtype=bool)
    rows = np.arange(n)
    for col in conditions.columns:
        values = np.asarray(conditions.encoded[col], dtype="float64")
        on = ~np.isnan(values)  # NaN: this row leaves the column free
        spans = encoder.column_spans(col)
        # an encoder of atoms as categories beside a slot builds its whole value block
        block_of = getattr(encoder.encoders_[col], "condition_block", None)
        if block_of is not None:
            block = block_of(values[on])
            Z[on, spans[0].start : spans[0].start + block.shape[1]] = block
        for s in spans:
            mask[on, s.slice] = True
            if s.role == "missing":
                Z[on, s.start] = 0.0  # a conditioned cell is observed
            elif block_of is not None:
                continue
            elif s.kind == "softmax":
                Z[rows[on], s.start + values[on].astype(int)] = 1.0
            else:
                Z[on, s.start] = values[on]
    # columns asked to come out observed (imputation): their missing slot is known 0
    for col in getattr(conditions, "present", ()):
        for s in encoder.column_spans(col):
            if s.role == "missing":
                mask[:, s.start] = True
    if not mask.any():
        return None, None
    return process.to_model(Z, layout), mask
