"""Linear-algebra helpers shared by the models and the differential-privacy mechanisms."""

from __future__ import annotations

import numpy as np


def nearest_correlation(corr: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """The correlation matrix nearest ``corr`` in spirit: symmetrise, clip eigenvalues at
    ``floor`` and rescale to a unit diagonal.

    Examples
    --------
    >>> fixed = nearest_correlation(np.array([[1.0, 1.2], [1.2, 1.0]]))
    >>> bool(np.allclose(np.diag(fixed), 1.0) and np.linalg.eigvalsh(fixed).min() > 0)
    True
    """
    corr = np.nan_to_num((corr + corr.T) / 2.0)
    np.fill_diagonal(corr, 1.0)
    w, v = np.linalg.eigh(corr)
    fixed = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)
