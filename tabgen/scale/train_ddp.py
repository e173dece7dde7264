"""Data-parallel fit launched by ``torchrun``: every process reads the table, trains its
slice of each batch, and rank 0 writes the model.

    torchrun --nproc_per_node=2 -m tabgen.scale.train_ddp train.parquet -m vae \\
        -o model.tabgen --epochs 100 --batch-size 1000 --seed 0

Models: ``-m diffusion``, ``-m gan`` and ``-m vae`` (those whose ``fit`` trains data-parallel
through :class:`tabgen.nn.trainer.Trainer`). The result equals a single-process fit with the
same ``--seed`` and ``--batch-size`` (the global batch, split over the processes) up to float
rounding: every process draws the randomness of the whole batch and keeps its rows, and the
gradients are averaged.

Where it runs:

* **CPU processes** (one machine): ``torchrun --nproc_per_node=N``; the process group uses
  ``gloo``. Set ``OMP_NUM_THREADS`` so that N processes do not oversubscribe the cores.
* **Several GPUs** (one machine): ``torchrun --nproc_per_node=<GPUs>``; with CUDA present
  (and ``device`` ``"auto"`` or ``"cuda"``) the group uses ``nccl`` and process ``LOCAL_RANK``
  trains on GPU ``LOCAL_RANK``.
* **Several machines**: the same command on every machine with torchrun's ``--nnodes``,
  ``--node_rank`` and ``--master_addr``/``--master_port`` (or ``--rdzv-endpoint``); every
  machine must read the same table (the processes check the shape and checksum of their
  training matrix and refuse to train otherwise) and rank 0 writes the output file.

``--batch-size`` must be a multiple of the number of processes (for the GAN, of ``pac``
times it); ``max_time`` and ``epsilon`` are refused in data-parallel training.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from tabgen._validation import parse_param


def build_parser() -> argparse.ArgumentParser:
    first = __doc__.split("\n\n", 1)[0]  # the first paragraph, whole
    p = argparse.ArgumentParser(
        prog="python -m tabgen.scale.train_ddp",
        description=" ".join(first.replace("``", "").split()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "data", help="training table: .csv/.csv.gz (read into memory) or a Parquet file or "
        "folder (streamed off disk, see fit)",
    )  # fmt: skip
    p.add_argument("-m", "--model", default="vae", help="a model that trains data-parallel")
    p.add_argument("-o", "--output", required=True, help="model file (written by rank 0)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--batch-size", type=int, help="global batch (all processes together)")
    p.add_argument(
        "--param", type=parse_param, action="append", default=[], metavar="NAME=VALUE",
        help="another constructor parameter (JSON value), e.g. --param hidden=128",
    )  # fmt: skip
    p.add_argument("--verbose", action="store_true", help="show a progress bar (rank 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    return p


def main(argv=None) -> int:
    import torch
    import torch.distributed as dist

    import tabgen

    args = build_parser().parse_args(argv)
    cls = tabgen.get_synthesizer(args.model)
    if not cls.capabilities.data_parallel:
        raise SystemExit(
            f"model {args.model!r} does not train data-parallel (use 'diffusion', 'gan' or 'vae')"
        )
    params = {"random_state": args.seed, **dict(args.param)}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    if args.verbose:
        params["verbose"] = True
    try:  # before any training: an existing file, a missing folder, the input itself
        from tabgen._output import check_output

        check_output(args.output, overwrite=args.overwrite, inputs=[args.data], parents=True)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"train_ddp: error: {exc}") from None
    use_cuda = torch.cuda.is_available() and params.get("device", "auto") in ("auto", "cuda")
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        params["device"] = "cuda"
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    try:
        data = args.data
        if not (Path(data).is_dir() or str(data).lower().endswith((".parquet", ".pq"))):
            data = tabgen.read_table(data)  # CSV: in memory; Parquet: streamed by fit
        start = time.perf_counter()
        model = cls(**params).fit(data)
        if dist.get_rank() == 0:
            model.save(args.output, overwrite=args.overwrite)
            print(
                f"fitted {args.model} on {model.n_rows_} rows with {dist.get_world_size()} "
                f"processes in {time.perf_counter() - start:.1f} s -> {args.output}"
            )
        # free the fitted model and any DistributedDataParallel wrapper left in a reference
        # cycle (it holds the process group) now, not during interpreter exit: a gloo group
        # torn down at exit can abort a rank ("terminate called without an active exception")
        del model
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
