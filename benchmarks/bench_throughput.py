"""Sampling throughput of every model streamed to Parquet (run by hand).

For each model (the copula, the VAE, the GAN with its default discriminator selection, the
GAN with ``selection_draws=1`` and the diffusion model), a child process loads the fitted
model, resets its peak-memory counter and streams ``--rows`` rows (``--diffusion-rows`` for
the diffusion model) to a Parquet file with :func:`tabgen.sample_to_file`. It reports:

* ``rows_per_s``: rows over wall-clock seconds;
* ``rows_per_cpu_s``: rows over the child's CPU seconds (all its threads): less sensitive to
  other processes on a shared machine than the wall clock;
* ``extra_peak_mib``: peak resident memory (``VmHWM``) minus the resident size after loading
  the model: the memory the sampling itself needs.

``BENCH_TORCH_THREADS=1`` runs the children with one torch thread: on a machine shared with
other processes, a thread pool spinning at its barriers inflates the CPU seconds.

Models are fitted briefly on Adult (``--epochs``, default 1: the speed of sampling does not
depend on training) with their default sizes, in a child process too, and cached in
``--models-dir`` (a model file of another tabgen version may not load: use one folder per
version).

    python -m benchmarks.bench_throughput --rows 3000000 --diffusion-rows 1000000 \\
        --models-dir /tmp/throughput/models --tag after

Writes ``benchmarks/results/throughput_<tag>.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, machine_info

#: Measured variants: name -> (model file, parameters set after loading).
VARIANTS = {
    "copula": ("copula", {}),
    "vae": ("vae", {}),
    "gan": ("gan", {}),
    "gan_draws1": ("gan", {"selection_draws": 1}),
    "diffusion": ("diffusion", {}),
}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _child(args: list[str]) -> dict:
    """Run ``bench_throughput.py _child ...``; the JSON of its last output line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_fit(name: str, path: str, epochs: int) -> dict:
    import tabgen

    cls = {
        "copula": tabgen.GaussianCopulaSynthesizer,
        "vae": tabgen.VAESynthesizer,
        "gan": tabgen.GANSynthesizer,
        "diffusion": tabgen.DiffusionSynthesizer,
    }[name]
    params = {"random_state": 0} if name == "copula" else {"random_state": 0, "epochs": epochs}
    t0 = time.perf_counter()
    cls(**params).fit(tabgen.datasets.load_adult()).save(path)
    return {"fit_s": round(time.perf_counter() - t0, 1)}


def child_generate(model_file: str, out: str, rows: int, batch_size: int, params: str) -> dict:
    import pyarrow.parquet as pq

    import tabgen

    threads = os.environ.get("BENCH_TORCH_THREADS")  # e.g. 1: no thread pool spinning
    if threads:
        __import__("torch").set_num_threads(int(threads))
    model = tabgen.load(model_file)
    if json.loads(params):
        model.set_params(**json.loads(params))
    try:  # reset VmHWM to the current resident size (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    base = _status_kib("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    tabgen.sample_to_file(model, out, rows, batch_size=batch_size, random_state=0)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _status_kib("VmHWM")
    return {
        "rows": rows,
        "rows_written": pq.ParquetFile(out).metadata.num_rows,
        "batch_size": batch_size,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "rows_per_s": round(rows / seconds),
        "rows_per_cpu_s": round(rows / cpu),
        "rss_after_load_mib": round(base / 1024, 1),
        "extra_peak_mib": round((peak - base) / 1024, 1),
        "file_mib": round(os.path.getsize(out) / 2**20, 1),
        "torch_threads": __import__("torch").get_num_threads(),
        "load_avg_end": [round(v, 2) for v in os.getloadavg()],
    }


def table(results: dict) -> str:
    lines = [
        "| model | rows | rows/s (wall) | rows per CPU-second | extra peak MiB | load avg at end |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rows']:,} | {r['rows_per_s']:,} | {r['rows_per_cpu_s']:,} | "
            f"{r['extra_peak_mib']} | {r['load_avg_end'][0]} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        what, *rest = argv[1:]
        if what == "fit":
            out = child_fit(rest[0], rest[1], int(rest[2]))
        else:
            out = child_generate(rest[0], rest[1], int(rest[2]), int(rest[3]), rest[4])
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--diffusion-rows", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=50_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--models-dir", default="/tmp/tabgen-throughput/models")
    ap.add_argument("--tag", default="run")
    args = ap.parse_args(argv)
    models_dir = Path(args.models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "command": "python -m benchmarks.bench_throughput " + " ".join(argv),
        "machine": machine_info(),
        "load_avg_start": [round(v, 2) for v in os.getloadavg()],
        "results": {},
    }
    for name in args.variants.split(","):
        model, params = VARIANTS[name]
        path = models_dir / f"{model}_e{args.epochs}.tabgen"
        if not path.is_file():
            print(f"fitting {model}: {_child(['fit', model, str(path), str(args.epochs)])}")
        rows = args.diffusion_rows if model == "diffusion" else args.rows
        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "rows.parquet")
            r = _child(
                ["generate", str(path), out, str(rows), str(args.batch_size), json.dumps(params)]
            )
        result["results"][name] = r
        print(name, r, flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"throughput_{args.tag}.json").write_text(json.dumps(result, indent=1))
    print(table(result["results"]))


if __name__ == "__main__":
    main()
