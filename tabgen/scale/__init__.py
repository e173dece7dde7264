"""Scaling out: sharded sampling on a Dask cluster, data-parallel training with torchrun.

* :func:`sample_sharded` writes ``n`` rows as Parquet partitions, one task per shard, each
  shard with an independent seed (``numpy.random.SeedSequence.spawn``); on a
  ``dask.distributed`` cluster (``pip install "tabgen[scale]"``) or in this process.
* ``python -m tabgen.scale.train_ddp`` (:mod:`tabgen.scale.train_ddp`) fits a model with
  ``DistributedDataParallel`` under ``torchrun``; rank 0 writes the model file.
* Large inputs need nothing from here: ``model.fit("folder/")`` streams a Parquet file or
  folder off disk (see :meth:`tabgen.synthesizers.base.BaseSynthesizer.fit`).
"""

from tabgen.scale.sharded import sample_sharded, shard_seeds, shard_sizes

__all__ = ["sample_sharded", "shard_seeds", "shard_sizes"]
