"""Data-parallel training across processes (``torch.distributed``, launched by ``torchrun``).

A training loop asks :func:`data_parallel` whether it runs in an initialised process group
of more than one process. If so, every rank holds the whole training matrix and runs the
same shuffles and per-row random draws as a single process would for the *global* batch
(the generators are seeded identically); each rank then keeps its contiguous slice of the
batch, and ``DistributedDataParallel`` averages the gradients. The updates therefore equal
those of single-process training with the same seed and batch size, up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class DataParallel:
    """The rank of this process among ``world_size`` data-parallel processes."""

    rank: int
    world_size: int

    def wrap(self, module: nn.Module) -> nn.Module:
        """``module`` wrapped in ``DistributedDataParallel`` (gradients averaged)."""
        from torch.nn.parallel import DistributedDataParallel

        device = next(module.parameters()).device
        ids = [device] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def check_batch(self, batch_size: int) -> None:
        """Raise unless the global batch splits evenly over the ranks."""
        if batch_size % self.world_size:
            raise ValueError(
                f"batch_size={batch_size} (the effective batch, after capping at the number of "
                f"rows) must be a multiple of the {self.world_size} data-parallel processes"
            )

    def local_rows(self, batch_size: int) -> slice:
        """This rank's contiguous slice of a global batch of ``batch_size`` rows."""
        per = batch_size // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """Mean of a scalar over the ranks (the global batch mean of a per-rank mean)."""
        import torch.distributed as dist

        value = value.detach().clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value / self.world_size

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """Sum of a tensor over the ranks (e.g. a loss denominator: a count over the global
        batch); no gradient flows through it."""
        import torch.distributed as dist

        value = value.detach().clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value

    def average_gradients(self, params) -> None:
        """Replace each parameter's gradient by its mean over the ranks (what
        ``DistributedDataParallel`` does, for networks that are not called through their
        ``forward``, or whose loss needs a double backward)."""
        import torch.distributed as dist

        for p in params:
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= self.world_size

    def check_same(self, what: str, values) -> None:
        """Raise ``ValueError`` unless every rank passes the same numbers (e.g. the shape
        and checksum of its training matrix)."""
        import torch.distributed as dist

        backend = dist.get_backend()
        device = "cuda" if backend == "nccl" else "cpu"
        t = torch.as_tensor(values, dtype=torch.float64, device=device).reshape(-1)
        lo, hi = t.clone(), t.clone()
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        if not torch.equal(lo, hi):
            raise ValueError(
                f"the data-parallel processes hold different {what}: every rank must fit the "
                "same table with the same random_state"
            )


def data_parallel() -> DataParallel | None:
    """The data-parallel context of this process, or ``None`` when it trains alone (no
    initialised ``torch.distributed`` process group, or a group of one).

    Examples
    --------
    >>> data_parallel() is None  # a plain process
    True
    """
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size()
    if world < 2:
        return None
    return DataParallel(rank=dist.get_rank(), world_size=world)
