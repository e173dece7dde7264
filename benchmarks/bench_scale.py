"""Scaling measurements (run by hand): streamed generation, sharded sampling, large inputs.

Every measurement runs in a child process so that its peak memory (``VmHWM``) is its own;
"extra" memory is the peak minus the resident size after loading the model (imports and
the model itself excluded). Results go to ``benchmarks/results/scale_<what>.json`` with the
command and the machine.

    # rows/s and peak memory of sample_to_file (10M rows; 1M for diffusion)
    python benchmarks/bench_scale.py generate --rows 10000000 --diffusion-rows 1000000

    # sharded sampling on a Dask LocalCluster: 1 worker against 2 workers
    python benchmarks/bench_scale.py sharded --rows 2000000 --models vae,gan

    # fit the VAE from a Parquet file of 10M rows streamed off disk (made by the copula
    # unless --data is given): encoding throughput, training rows/s, peak memory
    python benchmarks/bench_scale.py fit-large --rows 10000000 --max-time 120

Models are fitted briefly on Adult (``--epochs``, default 1: the speed of sampling does not
depend on training) with their default network sizes and sampler steps, and cached in
``--models-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, machine_info

MODELS = ("copula", "vae", "gan", "diffusion")


# -- memory ----------------------------------------------------------------------------------
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Reset ``VmHWM`` to the current resident size (Linux >= 4.0), best effort."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


# -- models ----------------------------------------------------------------------------------
def fitted_models(models, models_dir: Path, epochs: int) -> dict:
    """Fit (or reuse) one model of each name on Adult; ``{name: path of the saved model}``."""
    import tabgen

    models_dir.mkdir(parents=True, exist_ok=True)
    paths, df = {}, None
    for name in models:
        path = models_dir / f"{name}_e{epochs}.tabgen"
        if not path.is_file():
            if df is None:
                df = tabgen.datasets.load_adult()
            params = {"random_state": 0}
            if name != "copula":
                params["epochs"] = epochs
            cls = {
                "copula": tabgen.GaussianCopulaSynthesizer,
                "vae": tabgen.VAESynthesizer,
                "gan": tabgen.GANSynthesizer,
                "diffusion": tabgen.DiffusionSynthesizer,
            }[name]
            t0 = time.perf_counter()
            cls(**params).fit(df).save(path)
            print(f"fitted {name} in {time.perf_counter() - t0:.1f}s -> {path}", flush=True)
        paths[name] = path
    return paths


def _child(args: list[str]) -> dict:
    """Run ``bench_scale.py _child ...`` and return the JSON of its last output line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_generate(model_file: str, out: str, rows: int, batch_size: int) -> dict:
    import pyarrow.parquet as pq

    import tabgen

    threads = os.environ.get("BENCH_TORCH_THREADS")
    if threads:
        __import__("torch").set_num_threads(int(threads))
    model = tabgen.load(model_file)
    _reset_peak()
    base = _status_kib("VmRSS")
    t0 = time.perf_counter()
    tabgen.sample_to_file(model, out, rows, batch_size=batch_size, random_state=0)
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM")
    written = pq.ParquetFile(out).metadata.num_rows
    return {
        "rows": rows,
        "rows_written": written,
        "batch_size": batch_size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "rss_after_load_mib": _mib(base),
        "peak_rss_mib": _mib(peak),
        "extra_peak_mib": _mib(peak - base),
        "file_mib": round(os.path.getsize(out) / 2**20, 1),
        "torch_threads": __import__("torch").get_num_threads(),
        "load_avg_end": os.getloadavg(),
    }


def child_sharded(model_file: str, out: str, rows: int, workers: int, batch_size: int) -> dict:
    from dask.distributed import Client, LocalCluster

    from tabgen.scale import sample_sharded
    from tabgen.scale.sharded import _load_cached

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        # one-time costs before the clock: worker start, imports, loading the model
        client.run(lambda path: _load_cached(path) and None, model_file)
        t0 = time.perf_counter()
        parts = sample_sharded(
            model_file,
            out,
            rows,
            n_shards=workers,
            client=client,
            batch_size=batch_size,
            random_state=0,
        )
        seconds = time.perf_counter() - t0
    return {
        "rows": rows,
        "workers": workers,
        "shards": len(parts),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "load_avg_end": os.getloadavg(),
    }


class _AnonPeak:
    """Peak anonymous resident memory (``RssAnon``: heap, tensors; not the page cache of a
    memory-mapped file), sampled every 0.1 s in a thread."""

    def __enter__(self):
        import threading

        self.peak = _status_kib("RssAnon")
        self._stop = threading.Event()

        def run():
            while not self._stop.wait(0.1):
                self.peak = max(self.peak, _status_kib("RssAnon"))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kib("RssAnon"))


def child_fit_large(data: str, max_time: float, batch_size: int) -> dict:
    import pyarrow.parquet as pq

    import tabgen
    from tabgen.synthesizers.vae import estimator

    threads = os.environ.get("BENCH_TORCH_THREADS")
    if threads:
        __import__("torch").set_num_threads(int(threads))
    n = pq.ParquetFile(data).metadata.num_rows if Path(data).is_file() else None
    model = tabgen.VAESynthesizer(
        epochs=1, batch_size=batch_size, max_time=max_time, random_state=0
    )
    phases = {}
    real_fit, real_train = model._fit, estimator.train

    def timed_fit(Z, rng):
        phases["prepare_s"] = time.perf_counter() - t0  # sample, category counts, encoding
        phases["anon_prepare"] = anon.peak
        phases["encoded_gib"] = Z.nbytes / 2**30
        phases["memmap"] = type(Z).__name__
        return real_fit(Z, rng)

    def timed_train(*args, **kwargs):
        log, decoder = real_train(*args, **kwargs)
        phases["train_s"], phases["train_steps"] = log.seconds, log.n_steps
        return log, decoder

    model._fit = timed_fit
    estimator.train = timed_train
    _reset_peak()
    base = _status_kib("VmRSS")
    base_anon = _status_kib("RssAnon")
    with _AnonPeak() as anon:
        t0 = time.perf_counter()
        model.fit(data)
        seconds = time.perf_counter() - t0
    rows = model.n_rows_
    trained_rows = phases["train_steps"] * batch_size
    return {
        "rows": rows if n is None else n,
        "model": f"vae (default sizes), epochs=1, max_time={max_time}, batch_size={batch_size}",
        "fit_seconds": round(seconds, 1),
        "prepare_seconds": round(phases["prepare_s"], 1),
        "prepare_rows_per_s": round(rows / phases["prepare_s"]),
        "encoded_matrix_gib": round(phases["encoded_gib"], 2),
        "encoded_matrix_type": phases["memmap"],
        "train_seconds": round(phases["train_s"], 1),
        "train_steps": phases["train_steps"],
        "train_rows_per_s": round(trained_rows / phases["train_s"]),
        "rss_before_fit_mib": _mib(base),
        "peak_rss_mib": _mib(_status_kib("VmHWM")),
        "extra_peak_rss_mib": _mib(_status_kib("VmHWM") - base),
        "extra_peak_anon_mib": _mib(anon.peak - base_anon),
        "extra_peak_anon_prepare_mib": _mib(phases["anon_prepare"] - base_anon),
        "torch_threads": __import__("torch").get_num_threads(),
        "note": "VmHWM counts the page cache of the memory-mapped encoded matrix; RssAnon "
        "(heap) does not",
        "load_avg_end": os.getloadavg(),
    }


# -- commands --------------------------------------------------------------------------------
def cmd_generate(opts) -> dict:
    if opts.threads:
        os.environ["BENCH_TORCH_THREADS"] = str(opts.threads)
    paths = fitted_models(opts.models, Path(opts.models_dir), opts.epochs)
    results = {}
    with tempfile.TemporaryDirectory(dir=opts.tmp) as tmp:
        for name, path in paths.items():
            rows = opts.diffusion_rows if name == "diffusion" else opts.rows
            out = Path(tmp) / f"{name}.parquet"
            res = _child(["generate", str(path), str(out), str(rows), str(opts.batch_size)])
            if name == "diffusion" and rows < opts.rows:
                res["extrapolated_seconds_for_rows"] = {
                    str(opts.rows): round(res["seconds"] * opts.rows / rows)
                }
            results[name] = res
            print(name, json.dumps(res), flush=True)
            if opts.keep and name == "copula":
                keep = Path(opts.keep)
                keep.parent.mkdir(parents=True, exist_ok=True)
                out.replace(keep)
    return results


def cmd_sharded(opts) -> dict:
    paths = fitted_models(opts.models, Path(opts.models_dir), opts.epochs)
    results = {}
    with tempfile.TemporaryDirectory(dir=opts.tmp) as tmp:
        for name, path in paths.items():
            per = {}
            for rep in range(opts.repeats):  # interleaved; the best run of each is kept
                for workers in (1, 2):
                    out = Path(tmp) / f"{name}_{workers}_{rep}"
                    args = [str(path), str(out), str(opts.rows), str(workers)]
                    res = _child(["sharded", *args, str(opts.batch_size)])
                    res["rows_per_s_all_runs"] = [res["rows_per_s"]]
                    key = f"workers_{workers}"
                    if key in per:
                        res["rows_per_s_all_runs"] = per[key]["rows_per_s_all_runs"] + [
                            res["rows_per_s"]
                        ]
                        if per[key]["rows_per_s"] >= res["rows_per_s"]:
                            per[key]["rows_per_s_all_runs"] = res["rows_per_s_all_runs"]
                            res = per[key]
                    per[key] = res
                    shutil.rmtree(out, ignore_errors=True)
                    print(name, workers, json.dumps(res), flush=True)
            per["speedup"] = round(
                per["workers_2"]["rows_per_s"] / per["workers_1"]["rows_per_s"], 2
            )
            results[name] = per
    return results


def cmd_fit_large(opts) -> dict:
    if opts.threads:
        os.environ["BENCH_TORCH_THREADS"] = str(opts.threads)
    data = Path(opts.data) if opts.data else None
    with tempfile.TemporaryDirectory(dir=opts.tmp) as tmp:
        if data is None:  # make the table: the copula fitted on Adult, streamed to Parquet
            paths = fitted_models(["copula"], Path(opts.models_dir), opts.epochs)
            data = Path(tmp) / "copula.parquet"
            _child(["generate", str(paths["copula"]), str(data), str(opts.rows), "200000"])
        res = _child(["fit_large", str(data), str(opts.max_time), str(opts.train_batch_size)])
    print(json.dumps(res), flush=True)
    return {"vae": res}


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_child":
        what, *rest = argv[1:]
        if what == "generate":
            res = child_generate(rest[0], rest[1], int(rest[2]), int(rest[3]))
        elif what == "fit_large":
            res = child_fit_large(rest[0], float(rest[1]), int(rest[2]))
        elif what == "sharded":
            res = child_sharded(rest[0], rest[1], int(rest[2]), int(rest[3]), int(rest[4]))
        else:
            raise SystemExit(f"unknown child command {what!r}")
        print(json.dumps(res))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["generate", "sharded", "fit-large"])
    parser.add_argument(
        "--models", default=None, help="comma-separated subset of " + ",".join(MODELS)
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--diffusion-rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--models-dir", default=str(Path(tempfile.gettempdir()) / "tabgen_scale"))
    parser.add_argument("--tmp", default=None, help="folder for the temporary output files")
    parser.add_argument("--keep", default=None, help="generate: keep the copula's file here")
    parser.add_argument("--data", default=None, help="fit-large: a Parquet file or folder")
    parser.add_argument("--max-time", type=float, default=120.0, help="fit-large: training s")
    parser.add_argument("--train-batch-size", type=int, default=500, help="fit-large")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="sharded: runs, best kept")
    parser.add_argument("--tag", default=None, help="suffix of the results file")
    opts = parser.parse_args(argv)
    default = "vae,gan" if opts.command == "sharded" else ",".join(MODELS)
    opts.models = [m for m in (opts.models or default).split(",") if m]
    unknown = set(opts.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}")
    t0 = time.perf_counter()
    commands = {"generate": cmd_generate, "sharded": cmd_sharded, "fit-large": cmd_fit_large}
    results = commands[opts.command](opts)
    payload = {
        "command": "python benchmarks/bench_scale.py " + " ".join(argv),
        "machine": machine_info(),
        "load_avg_start_of_write": os.getloadavg(),
        "wall_s": round(time.perf_counter() - t0, 1),
        "results": results,
    }
    name = "scale_" + opts.command.replace("-", "_") + (f"_{opts.tag}" if opts.tag else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
