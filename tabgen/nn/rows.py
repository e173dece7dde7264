"""Training rows read by minibatch from a (disk-backed) numpy matrix."""

from __future__ import annotations

import numpy as np
import torch


class ArrayRows:
    """Rows of a 2-d numpy array (typically a ``numpy.memmap``) as float32 tensors.

    ``rows[index]`` copies only the indexed rows (``index``: a long tensor), so a training
    loop over minibatches never holds the whole matrix in memory. It has the few tensor
    attributes a loop reads: ``shape``, ``dtype``, ``device``.

    Examples
    --------
    >>> rows = ArrayRows(np.arange(12, dtype="float32").reshape(4, 3), "cpu")
    >>> rows.shape, rows[torch.tensor([2, 0])].tolist()
    ((4, 3), [[6.0, 7.0, 8.0], [0.0, 1.0, 2.0]])
    """

    dtype = torch.float32

    def __init__(self, array: np.ndarray, device):
        self.array = array
        self.device = torch.device(device)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.array.shape)

    def __len__(self) -> int:
        return self.array.shape[0]

    def __getitem__(self, index: torch.Tensor) -> torch.Tensor:
        block = np.asarray(self.array[index.cpu().numpy()], dtype="float32")
        return torch.from_numpy(block).to(self.device)

    def checksum(self, chunk: int = 1_000_000) -> float:
        """Sum of all entries (float64), read ``chunk`` rows at a time."""
        total = 0.0
        for a in range(0, len(self), chunk):
            total += float(np.asarray(self.array[a : a + chunk], dtype="float64").sum())
        return total


def checksum(X) -> float:
    """Sum of all entries of a tensor or an :class:`ArrayRows` (float64)."""
    if isinstance(X, ArrayRows):
        return X.checksum()
    return float(X.double().sum())
