"""``results/throughput_p3.md`` and ``throughput_p4.md``: the third and fourth #30 passes
(sampling throughput) from the JSON of ``bench_throughput.py`` (before: main eb87a21, then
5de0bb2, running the same script; after: branch ``gspeed``) and of the Adult
selection-quality check (``bench_selection_quality.py``). Tables whose JSON is missing are
left out.

    python -m benchmarks.render_throughput && python benchmarks/make_results.py
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "throughput_p3.md"
#: The issue's targets (rows per second, two cores).
TARGETS = {"gan": 100_000, "vae": 200_000, "copula": 200_000}
NAMES = {
    "gan": "GAN, default selection (4 candidates)",
    "gan_draws1": "GAN, `selection_draws=1`",
    "vae": "VAE",
    "copula": "copula",
    "gan_jobs1": "GAN, default, `n_jobs=1`",
    "vae_jobs1": "VAE, `n_jobs=1`",
    "gan_jobs3": "GAN, default, `n_jobs=3`",
    "gan_repeat": "GAN, default selection, run again (`--tag p3_quiet_after_rep`)",
    "gan_run2": "GAN, default selection, run 2",
    "vae_run2": "VAE, run 2",
    "copula_run2": "copula, run 2",
    "diffusion": "diffusion model (1,000,000 rows)",
}


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _pct(before: float, after: float) -> str:
    return f"{100 * (after / before - 1):+.0f} %"


def _machine(m: dict) -> str:
    keys = ("cpu", "cores", "python", "numpy", "pandas", "torch")
    return ", ".join(f"{k} {m[k]}" for k in keys if k in m)


def quiet_table() -> list[str]:
    after = _load("throughput_p3_quiet_after.json")
    before = _load("throughput_p3_quiet_before.json")
    jobs1 = _load("throughput_p3_quiet_after_jobs1.json")
    if after is None:
        return ["The quiet-window run did not take place (no `throughput_p3_quiet_after.json`)."]
    lines = [
        "### Two cores, 3,000,000 rows to Parquet (the quiet window)",
        "",
        "Commands, one after the other in the window: `python "
        "benchmarks/bench_throughput.py --rows 3000000 --variants gan,gan_draws1,vae,copula "
        "--models-dir <dir> --tag p3_quiet_after` on the branch, the same script with "
        "`--tag p3_quiet_before` in an export of main eb87a21, then `--variants "
        "gan_jobs1,vae_jobs1,gan_jobs3` and `--variants gan --tag p3_quiet_after_rep` on the "
        "branch; torch's default threads (2), the "
        f"other engineers idle. Load average at the start: after {after['load_avg_start']}"
        + (f", before {before['load_avg_start']}" if before else "")
        + ".",
        "",
    ]
    extra = dict((jobs1 or {}).get("results", {}))
    rep = _load("throughput_p3_quiet_after_rep.json")
    if rep is not None:
        extra.update({f"{n}_repeat": r for n, r in rep["results"].items()})
    return lines + _quiet_body(after, before, extra)


def _quiet_body(
    after: dict, before: dict | None, extra: dict, name_slower: bool = True
) -> list[str]:
    """The two-core table (after against before, then the ``extra`` runs) and the verdicts
    (``name_slower``: the variants slower than before, else left to the caller)."""
    lines = [
        "| variant | rows/s before | after | change | target | extra peak MiB before | after "
        "| rows per CPU-s after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    b = (before or {}).get("results", {})
    for name, r in after["results"].items():
        old = b.get(name)
        target = TARGETS.get(name)
        rate = "not run" if old is None else f"{old['rows_per_s']:,}"
        change = "" if old is None else _pct(old["rows_per_s"], r["rows_per_s"])
        old_peak = "" if old is None else old["extra_peak_mib"]
        lines.append(
            f"| {NAMES.get(name, name)} | {rate} | {r['rows_per_s']:,} | {change} | "
            f"{'' if target is None else f'{target:,}'} | {old_peak} | "
            f"{r['extra_peak_mib']} | {r['rows_per_cpu_s']:,} |"
        )
    for name, r in extra.items():
        lines.append(
            f"| {NAMES.get(name, name)} |  | {r['rows_per_s']:,} |  |  |  | "
            f"{r['extra_peak_mib']} | {r['rows_per_cpu_s']:,} |"
        )
    verdicts = []
    for name, target in TARGETS.items():
        r = after["results"].get(name)
        if r is not None:
            met = "met" if r["rows_per_s"] >= target else "**missed**"
            verdicts.append(f"{NAMES[name]} {r['rows_per_s']:,} rows/s: target {met}")
    slower = [
        n for n, r in after["results"].items() if n in b and r["rows_per_s"] < b[n]["rows_per_s"]
    ]
    judged = ("Slower than before: " + ", ".join(slower) + ".") if slower else "No model slower."
    lines += [
        "",
        "Targets (two cores): "
        + "; ".join(verdicts)
        + ". "
        + (judged + " " if name_slower else "")
        + "Extra peak: resident memory over the loaded model's (the 1 GiB bound).",
    ]
    return lines


def _one_thread_section(tag: str, rows: list[str], how: str) -> list[str]:
    """The one-thread section of pass ``tag``: heading, commands (then ``how``), table."""
    return [
        "### One thread, CPU seconds (the busy machine)",
        "",
        "Commands: `BENCH_TORCH_THREADS=1 OMP_NUM_THREADS=1 nice -n 5 python "
        "benchmarks/bench_throughput.py --rows 200000 --variants gan,gan_draws1 --models-dir "
        f"<dir> --tag {tag}_<before|after>_1thread_gan_<run>` and `--rows 600000 --variants "
        f"vae,copula ... --tag {tag}_<before|after>_1thread_vc_<run>`, " + how,
        "",
        *ONE_THREAD_HEADER,
        *rows,
    ]


def one_thread_table() -> list[str]:
    rows = _one_thread_rows("p3")
    if not rows:
        return []
    return _one_thread_section(
        "p3",
        rows,
        "before (main eb87a21 "
        "export) and after (branch) alternating, two rounds (`a`, `b`). With one torch thread "
        "`sample_to_file` generates one batch at a time, so this compares the work per row. "
        "*sys s*: kernel CPU seconds (page faults above all).",
    )


#: Header of the one-thread tables.
ONE_THREAD_HEADER = [
    "| variant | run | rows | rows per CPU-s before | after | change | sys s before | after "
    "| extra peak MiB before | after | load avg |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def _one_thread_rows(prefix: str, runs=("a", "b")) -> list[str]:
    """Rows of the one-thread table of the runs ``<prefix>_<before|after>_1thread_*``."""
    rows = []
    for run in runs:
        for group in ("gan", "vc"):
            before = _load(f"throughput_{prefix}_before_1thread_{group}_{run}.json")
            after = _load(f"throughput_{prefix}_after_1thread_{group}_{run}.json")
            if before is None or after is None:
                continue
            for name, r in after["results"].items():
                old = before["results"].get(name)
                if old is None:
                    continue
                rows.append(
                    f"| {NAMES.get(name, name)} | {run} | {r['rows']:,} | "
                    f"{old['rows_per_cpu_s']:,} | {r['rows_per_cpu_s']:,} | "
                    f"{_pct(old['rows_per_cpu_s'], r['rows_per_cpu_s'])} | "
                    f"{old.get('sys_s', '')} | {r.get('sys_s', '')} | "
                    f"{old['extra_peak_mib']} | {r['extra_peak_mib']} | "
                    f"{after['load_avg_start'][0]} |"
                )
    return rows


def quality_table(name: str = "throughput_p3_quality.json") -> list[str]:
    res = _load(name)
    if res is None:
        return []
    lines = [
        "### Selection quality (Adult, the same generator)",
        "",
        res["command"],
        "",
        "| variant | seed | shape | trend | detection (LR) | detection (GB) |",
        "|---|---|---|---|---|---|",
    ]
    means: dict = {}
    for key, sc in sorted(res["runs"].items(), key=lambda kv: (kv[0][-1], kv[0])):
        variant, seed = key.rsplit("_s", 1)
        lines.append(
            f"| {variant} | {seed} | {sc['shape']:.3f} | {sc['trend']:.3f} | "
            f"{sc['detection_score_lr']:.3f} | {sc['detection_score_gb']:.3f} |"
        )
        means.setdefault(variant, []).append(sc)
    lines.append("")
    for variant, scs in means.items():
        gb = sum(s["detection_score_gb"] for s in scs) / len(scs)
        trend = sum(s["trend"] for s in scs) / len(scs)
        lines.append(
            f"Mean over the {len(scs)} seeds, `{variant}`: detection (GB) {gb:.4f}, "
            f"trend {trend:.3f}."
        )
    return lines


NOTES = """## Sampling throughput, third pass: batches on both cores, cheaper candidates (#30)

Branch `gspeed` against main eb87a21 (2026-12-05), the same model files before and after
(each model fitted 1 epoch on Adult by main's code, `random_state=0`; sampling speed does
not depend on training) and the same `bench_throughput.py` (copied into the export of main).
Machine: AMD EPYC (Zen 4, AVX-512 BF16), 2 cores; Python 3.11.7, torch 2.13.0+cpu, pandas
3.1.1, pyarrow. **Busy machine** for the one-thread tables (five engineers, load average 5
to 9): compare rows per CPU-second there, not wall clock; the two-core table was taken in a
quiet window reserved for it.

What changed:

- **Both cores** (`tabgen/_parallel.py`, `sample_to_file(n_jobs=None)`): batches of
  `sample_to_file` are generated by worker threads (torch's thread count, at most 4), each
  with one torch/BLAS thread, while the calling thread writes the finished batches in order;
  each batch keeps its own seed, so a file is bit-identical whatever the number of threads
  (and to main's for the copula, the VAE, the diffusion model and the GAN with
  `selection_draws=1`). `model.sample()` of the GAN also computes its candidate batches on
  worker threads, the random draws taken in order by the caller (bit-identical too).
- **Page faults**: while `sample_to_file` runs, glibc's malloc keeps freed memory for the
  next batch (mmap threshold 32 MiB, trim threshold raised; free memory returned with
  `malloc_trim` at the end). With glibc's dynamic defaults a quarter of the GAN's CPU time
  was the kernel zeroing pages (`sys` 1.35 s of 5.5 s for 200,000 rows, one thread).
- **Cheaper candidates** (the default selection only, where bfloat16 is native): each
  category / mode choice is drawn by inverting the softmax's cumulative distribution with one
  uniform number per block, instead of Gumbel noise (a uniform number and two logarithms per
  slot) and an arg-max; the output layer computes the one-hot slots grouped by block width
  (its columns permuted), so that no gather is needed. The law is the same; a fixed seed gives
  other rows (quality below: unchanged). bfloat16 look-up tables and the noise added in place
  (bit-identical).
- Parquet: writing is about 0.3 µs per row with any codec (snappy, the default, kept;
  none, lz4 and zstd within 15 %), so its settings were left alone.

**Result** (quiet window, two cores, 3,000,000 rows): the GAN with the default selection went
from 65,723 to 88,484 rows/s (92,208 in a second run), +35 to +40 %, at 527 to 593 MiB over
the model (290 before; the bound is 1 GiB): **the 100,000 rows/s target is missed by 8 to
12 %**. The VAE (202,414 -> 273,502) and the copula (496,447 -> 988,798) stay above 200,000;
no model is slower; `selection_draws=1` 150,776 -> 177,423. The VAE's extra peak grew from
544 to 800 MiB (two batches in flight). Where the GAN's time goes now: 51,000 rows per
CPU-second on the quiet machine (18.2 µs user and 1.4 µs system CPU per returned row), and
two cores give 1.7 to 1.9 times one. Per returned row (one thread, `cProfile`, busy
machine): generator products about 5.2 µs (bfloat16 at the processor's peak) and the
compensated `tanh` heads 1.7 µs, the row discriminator 4.2 µs and its features 2.8 µs, the
inverse-CDF draws 4.1 µs, the noise 1.2 µs, decoding and post-processing the kept rows 1.6
µs. The last 10 % needs fewer or cheaper candidates (a quality question this pass did not
open) or fused kernels for the draws and the features; two threads also cost system time
(the worker threads' malloc heaps deleted and faulted in again, CPython 3.11's frame-stack
chunks mapped and unmapped). glibc's `M_ARENA_MAX=1` cut the page faults by about a third
in busy-machine tests but not clearly the system time, and was left out (a process-wide,
permanent setting). `n_jobs=1` (the candidates' batches split over the two threads inside
each `sample` call instead) gave 81,292 rows/s; three threads on two cores 85,770.
"""


def render() -> str:
    parts = [NOTES.rstrip(), "", *quiet_table(), "", *one_thread_table(), "", *quality_table()]
    return "\n".join(parts).rstrip() + "\n"


# -- the fourth pass (results/throughput_p4.md) ------------------------------------------------
OUT_P4 = RESULTS / "throughput_p4.md"


def quiet_table_p4() -> list[str]:
    after = _load("throughput_p4_quiet_after.json")
    before = _load("throughput_p4_quiet_before.json")
    if after is None or before is None:
        return ["The quiet-window run did not take place (no `throughput_p4_quiet_*.json`)."]
    # the second runs: the GAN (`_rep`) and the VAE and the copula (`_vc2`), before and after
    runs = {"after": dict(after["results"]), "before": dict(before["results"])}
    for side in runs:
        for tag in ("rep", "vc2"):
            more = _load(f"throughput_p4_quiet_{side}_{tag}.json") or {"results": {}}
            runs[side].update({f"{n}_run2": r for n, r in more["results"].items()})
    starts = {
        tag: (_load(f"throughput_p4_quiet_{tag}.json") or {}).get("load_avg_start")
        for tag in ("after", "before", "after_rep", "before_rep", "before_vc2", "after_vc2")
    }
    means = []
    for name in ("gan", "gan_draws1", "vae", "copula"):
        pair = [
            [r[k]["rows_per_s"] for k in (name, f"{name}_run2") if k in r]
            for r in (runs["before"], runs["after"])
        ]
        if all(pair):
            b, a = (sum(v) / len(v) for v in pair)
            means.append(f"{NAMES[name]} {b:,.0f} -> {a:,.0f} ({_pct(b, a)})")
    return [
        "### Two cores, 3,000,000 rows to Parquet (the quiet window)",
        "",
        "Commands, one after the other in the window 08:40-08:48 UTC: `python "
        "benchmarks/bench_throughput.py --rows 3000000 --variants gan,gan_draws1,vae,copula "
        "--models-dir <dir> --tag p4_quiet_after` on the branch, the same with `--tag "
        "p4_quiet_before` in a worktree of main 5de0bb2 (the same script), then `--variants "
        "gan --tag p4_quiet_after_rep` (branch), `--variants copula,vae --tag "
        "p4_quiet_before_vc2` (main) and `--tag p4_quiet_after_vc2` (branch), `--variants gan "
        "--tag p4_quiet_before_rep` (main): the *run 2* rows. The model files of the third "
        "pass; torch's default threads (2), the other engineers idle. Load average at the "
        "start of each: " + ", ".join(f"{tag} {v[0]}" for tag, v in starts.items() if v) + ".",
        "",
        *_quiet_body({"results": runs["after"]}, {"results": runs["before"]}, {}, False),
        "",
        "Means of the runs (rows/s, before -> after): "
        + "; ".join(means)
        + ". For the copula and the VAE only the look-ahead changed (the same rows): "
        "their two runs of the same code differ by up to 20 %, so no model is slower beyond "
        "that noise.",
    ]


def one_thread_table_p4() -> list[str]:
    rows = _one_thread_rows("p4", runs=("a", "b", "c", "d"))
    if not rows:
        return []
    return _one_thread_section(
        "p4",
        rows,
        "before (main 5de0bb2 "
        "worktree) and after (branch) alternating: two rounds (`a`, `b`), then two more of "
        "the GAN alone (`c`, `d`). **Busy machine** (load average 3 to 4, three engineers): "
        "rows per CPU-second of the same code moved by up to 25 % between runs (the GAN "
        "default after: 46,159 to 60,093), so read the median of the rounds; the kernel "
        "time (*sys s*, page faults above all) and the extra peak memory are steadier.",
    )


def render_p4() -> str:
    parts = [
        NOTES_P4.rstrip(),
        "",
        *quiet_table_p4(),
        "",
        *one_thread_table_p4(),
        "",
        *quality_table("throughput_p4_quality.json"),
    ]
    return "\n".join(parts).rstrip() + "\n"


NOTES_P4 = """## Sampling throughput, fourth pass: candidates that stay in cache (#30)

Branch `gspeed` against main 5de0bb2 (2026-12-05), the same model files before and after
(each model fitted 1 epoch on Adult, `random_state=0`) and the same `bench_throughput.py`.
Machine: AMD EPYC (Zen 4, AVX-512 BF16), 2 cores; Python 3.11.7, torch 2.13.0+cpu.

Where the time went (fresh profiles of a 300,000-row stream: `py-spy record --idle`, two
threads, and `perf record` for the kernel): besides the candidates' own work, about a sixth
of the CPU time was memory, not arithmetic, and the two workers sometimes waited.

- **Candidates in batches of 4,096 rows** (`networks.CANDIDATE_ROWS`, was 16,384): a batch's
  intermediate products (generator layers, logits, discriminator activations; a few KB a
  row) then stay in the processor's cache. In-process A/B on one thread (the same process
  alternating the settings, 6 rounds of 100,000 rows, medians): 46,226 rows per CPU-second
  with 16,384-row batches and the former draws, 51,942 with 4,096 rows, 53,906 with the
  draws below too (2,048 to 6,144 rows: within noise of 4,096).
- **Inverse-CDF draws in fewer passes** (`candidates.sample_compact_cdf`): all logits
  converted, shifted by their row's largest and exponentiated in one pass each, instead of
  a copy, a maximum and an exponential per group of blocks; a block whose weights underflow
  after the row's shift (all its logits about 69 below the row's largest) is drawn again
  with its own shift, so the law is unchanged.
- **No page faults for the candidate matrix** (`networks.RowBlocks`): the float32
  candidates of a pass were one array of about 47 MiB, above glibc's mmap threshold, mapped
  and faulted in (zeroed by the kernel) for every batch; `perf` showed the kernel's
  `clear_page_erms` at 9 to 12 % of the samples. They are now kept in blocks of at most
  8 MiB reused from the heap, and a pass selects about 12 MiB of candidates (13,312 rows of
  Adult; `estimator._selection_rows`), so a worker's memory stays in its malloc heap.
- **No worker waits for the writer** (`_parallel.ordered_map`): two jobs per worker are
  submitted ahead of the batch being written (was one), so a worker that finishes while the
  calling thread encodes Parquet finds the next batch queued (before: the second worker
  waited on the queue for up to 15 % of a 300,000-row stream, end of the stream included).
  Two passes of 12 MiB instead of one of 47 MiB also cut the kernel time of the two-thread
  stream (in-process, 300,000 rows, 4 rounds: 0.45 to 0.93 s of system time -> 0.25 to
  0.38 s; 50,452 -> 51,674 rows per CPU-second).

**Result** (quiet window, two cores, 3,000,000 rows, two runs each): the GAN with the
default selection streams **107,066 and 109,437 rows/s: the 100,000 target is met**, against
98,028 and 100,782 for main 5de0bb2 in the same window (+9 %; the third pass measured main's
code at 88,484 and 92,208 in its own window), at 316 to 321 MiB over the model (526 to 544
before). Per CPU-second 59,067 and 59,911 rows (53,191 and 53,196 before, +12 %); the two
cores were busy 1.81 times the wall clock (1.84 before), so the gain is less work per row,
not more overlap. `selection_draws=1`, the VAE and the copula (for them only the look-ahead
changed; the same rows): the same speeds within the runs' noise (VAE 244,838 / 247,149,
copula 965,401 / 961,766: both above 200,000).

The draws of the default selection change (other batch boundaries; the same law): the Adult
quality check below gives the same detection and trend as main. `selection_draws=1`, the
float32 selection path, the VAE, the copula and the diffusion model give bit-identical rows.
Tried and left out (no gain in interleaved in-process measurements): the discriminator's
first layer as a sum of weight columns at the one-hot slots (`embedding_bag`), the
generator's three noise products merged into one, Box-Muller noise (torch's `randn` is
already within 25 % of drawing the uniform numbers), numpy's generators, `gc.freeze()`
(the collector took 8 ms of a 600,000-row stream) and `MALLOC_ARENA_MAX=1`. Left for later:
`py-spy --gil` shows a sampling thread holding the GIL for about a fifth of its time, a
quarter of that in the decoding of the kept rows' text columns (`to_series`: an object
array to pandas' Arrow strings), which the other worker then waits for; the Parquet
settings are unchanged (the third pass measured them).
"""


if __name__ == "__main__":
    OUT.write_text(render())
    OUT_P4.write_text(render_p4())
    print(f"wrote {OUT.name} and {OUT_P4.name}")
