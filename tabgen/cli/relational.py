"""The commands on databases: ``fit-db``, ``sample-db`` and ``evaluate-db``.

    tabgen fit-db FOLDER [--metadata m.json] -o model.tabgen
    tabgen sample-db model.tabgen -o OUT_FOLDER [--scale 2] [--format csv|parquet]
    tabgen evaluate-db REAL_FOLDER SYNTH_FOLDER [--metadata m.json] [-o report.html]
    tabgen anonymize-db FOLDER -o OUT_FOLDER [--holdout 0.2] [--report report.html]

A database is a folder with one table file per table (CSV, compressed CSV or Parquet).
The metadata (:class:`tabgen.relational.Metadata` JSON) names each table's ``file``; without
a ``file`` entry the table is read from ``FOLDER/<table>.csv``, ``.csv.gz`` or ``.parquet``.
Without ``--metadata``, ``FOLDER/metadata.json`` is used, or else the keys are detected and
printed for confirmation (save them with ``--save-metadata``).
"""

from __future__ import annotations

import json
from pathlib import Path

from tabgen.cli.common import UsageError, holdout, note, positive_float, report_paths

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".tsv")
FORMATS = {"csv": ".csv", "csv.gz": ".csv.gz", "parquet": ".parquet"}


def _add_options(p, *, metadata: str | None, overwrite: str, seed: bool = True) -> None:
    """The options the database commands share: ``--metadata`` (with its default),
    ``--seed`` and ``--overwrite``."""
    if metadata is not None:
        p.add_argument(
            "--metadata",
            help=f"metadata JSON (tables, primary keys, relationships; default {metadata})",
        )
    if seed:
        p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--overwrite", action="store_true", help=overwrite)


def add_commands(command) -> None:
    """Register ``fit-db``, ``sample-db``, ``evaluate-db`` and ``anonymize-db``
    (``command``: the parser's factory)."""
    p = command("fit-db", "fit a model of a database (a folder of related tables) and save it")
    p.add_argument("folder", help="folder with one table file per table")
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.add_argument(
        "-m",
        "--model",
        default="copula",
        metavar="MODEL",
        help="single-table model of every table: copula, vae, diffusion (gan for root tables only)",
    )
    p.add_argument(
        "--drop-orphans",
        action="store_true",
        help="drop child rows whose foreign key has no parent (default: refuse them)",
    )
    p.add_argument(
        "--order",
        action="append",
        metavar="TABLE=COLUMN",
        help="generate TABLE as sequences ordered by COLUMN within its parent (repeatable)",
    )
    p.add_argument("--save-metadata", metavar="PATH", help="also write the metadata used")
    _add_options(
        p,
        metadata="FOLDER/metadata.json, else detected",
        overwrite="replace existing output files (an input is never replaced)",
    )
    p.set_defaults(func=cmd_fit_db)

    p = command("sample-db", "sample a database from a model written by 'tabgen fit-db'")
    p.add_argument("model_file", help="a model file written by 'tabgen fit-db'")
    p.add_argument("-o", "--output", required=True, help="output folder (one file per table)")
    p.add_argument(
        "--scale", type=positive_float, default=1.0, help="size relative to the training data"
    )
    p.add_argument("--format", choices=sorted(FORMATS), default="csv", help="table file format")
    _add_options(p, metadata=None, overwrite="replace existing table files in the output folder")
    p.set_defaults(func=cmd_sample_db)

    p = command(
        "evaluate-db",
        "score a synthetic database against the real one",
        "Score a synthetic database against the real one: key integrity, cardinality, "
        "parent-child trends, aggregate detection, per-table scores.",
    )
    p.add_argument("real", help="folder of the real tables")
    p.add_argument("synthetic", help="folder of the synthetic tables (<table>.csv or .parquet)")
    p.add_argument("-o", "--output", help="report: x.json, or x.html (and x.json beside it)")
    _add_options(
        p,
        metadata="REAL/metadata.json, else detected",
        overwrite="replace existing output files (an input is never replaced)",
        seed=False,
    )
    p.set_defaults(func=cmd_evaluate_db)

    p = command(
        "anonymize-db",
        "export a synthetic copy of a database with PII regenerated and a privacy report",
        "Export a synthetic copy of a database: a share of the root entities is held out "
        "with everything under them, PII columns of every table are kept from the model and "
        "regenerated (or dropped), and the copy is scored against the training part (the "
        "held-out part is the privacy yardstick). The fitted model is not saved.",
    )
    p.add_argument("folder", help="folder with one table file per table")
    p.add_argument("-o", "--output", required=True, help="output folder (one file per table)")
    p.add_argument("--root", help="table whose rows are the entities held out (default: a root)")
    p.add_argument("--holdout", type=holdout, default=0.2, help="share or rows of the root held")
    p.add_argument(
        "--pii", choices=("regenerate", "drop"), default="regenerate", help="what becomes of PII"
    )
    p.add_argument("-m", "--model", default="copula", metavar="MODEL", help="per-table model")
    p.add_argument(
        "--scale", type=positive_float, default=1.0, help="size relative to the training part"
    )
    p.add_argument("--format", choices=sorted(FORMATS), default="csv", help="table file format")
    p.add_argument("--report", help="report: x.json, or x.html (and x.json beside it)")
    _add_options(
        p,
        metadata="FOLDER/metadata.json, else detected",
        overwrite="replace existing output files (an input is never replaced)",
    )
    p.set_defaults(func=cmd_anonymize_db)


def _table_file(folder: Path, table: str, entry: dict) -> Path:
    name = entry.get("file")
    if name:
        path = folder / str(name)
        if path.resolve().parent != folder.resolve():
            raise ValueError(
                f"table {table!r}: file {name!r} is outside the folder {str(folder)!r}"
            )
        if not path.is_file():
            raise FileNotFoundError(f"table {table!r}: file {str(path)!r} does not exist")
        return path
    for suffix in SUFFIXES:
        path = folder / f"{table}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"table {table!r}: no file {table}.csv, .csv.gz or .parquet in {str(folder)!r}"
    )


def _discover(folder: Path) -> dict:
    files = {}
    for path in sorted(folder.iterdir()):
        for suffix in SUFFIXES:
            if path.is_file() and path.name.endswith(suffix):
                files[path.name[: -len(suffix)]] = path
    if not files:
        raise FileNotFoundError(f"no table files (.csv, .csv.gz, .parquet) in {str(folder)!r}")
    return files


def read_database(folder, metadata=None):
    """``(tables, metadata, paths)`` of a database folder (see the module docstring)."""
    from tabgen.io import read_table
    from tabgen.relational import Metadata

    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} is not a folder of table files")
    if metadata is None and (folder / "metadata.json").is_file():
        metadata = folder / "metadata.json"
    if metadata is not None:
        meta = Metadata.load(metadata)
        paths = {t: _table_file(folder, t, meta.to_dict()["tables"][t]) for t in meta.tables}
        return {t: read_table(p) for t, p in paths.items()}, meta, paths
    paths = _discover(folder)
    tables = {t: read_table(p) for t, p in paths.items()}
    return tables, Metadata.detect(tables, verbose=False), paths


def cmd_fit_db(args) -> int:
    from tabgen._output import check_output
    from tabgen.cli.common import fit_and_save, model_class
    from tabgen.relational import RelationalSynthesizer

    model_class(args.model)  # a wrong name is a usage error
    check_output(args.output, overwrite=args.overwrite, parents=True)
    if args.save_metadata:
        check_output(args.save_metadata, overwrite=args.overwrite, inputs=[args.metadata])
    tables, meta, paths = read_database(args.folder, args.metadata)
    if args.metadata is None and not (Path(args.folder) / "metadata.json").is_file():
        note(
            args, "detected metadata (check it; save it with --save-metadata):\n" + meta.describe()
        )
    for pair in args.order or []:
        table, sep, column = pair.partition("=")
        if not sep or table not in meta.tables:
            raise UsageError(f"--order {pair}: expected TABLE=COLUMN with TABLE in {meta.tables}")
        meta.set_order(table, column)
    check_output(args.output, overwrite=args.overwrite, inputs=list(paths.values()))
    synth = RelationalSynthesizer(
        meta, model=args.model, drop_orphans=args.drop_orphans, random_state=args.seed
    )
    rows = ", ".join(f"{t} {len(df)}" for t, df in tables.items())
    fit_and_save(synth, tables, args, f"{len(tables)} tables ({rows} rows)")
    if args.save_metadata:
        meta.save(args.save_metadata, overwrite=args.overwrite)
    return 0


def cmd_sample_db(args) -> int:
    from tabgen.io import write_table
    from tabgen.persistence import load
    from tabgen.relational import RelationalSynthesizer

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"the output {str(out)!r} is a file; give a folder")
    synth = load(args.model_file)
    if not isinstance(synth, RelationalSynthesizer):
        raise ValueError(
            f"{args.model_file!r} holds a single-table model; use 'tabgen sample' for it"
        )
    targets = _table_targets(out, synth.metadata_.tables, args, [args.model_file])
    rows = []
    for table, frame in synth.iter_sample(scale=args.scale, random_state=args.seed):
        write_table(frame, targets[table], overwrite=args.overwrite)  # one table at a time
        rows.append(f"{table} {len(frame)}")
    print(f"wrote {len(rows)} tables ({', '.join(rows)} rows) to {out}")
    return 0


def cmd_evaluate_db(args) -> int:
    from tabgen.cli.common import print_scores, write_report
    from tabgen.io import read_table
    from tabgen.metrics import evaluate_database

    html = json_path = None
    if args.output is not None:
        html, json_path = report_paths(args.output, args.overwrite, [args.metadata])
    real, meta, _ = read_database(args.real, args.metadata)
    folder = Path(args.synthetic)
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} is not a folder of table files")
    synth = {t: read_table(_table_file(folder, t, {})) for t in meta.tables}
    note(args, "scoring the synthetic database ...")
    report = evaluate_database(real, synth, meta, n_jobs=1)  # one thread: fastest on a busy machine
    print_scores(report.scores)
    if json_path is not None:
        print(f"report -> {write_report(report, html, json_path, args.overwrite)}")
    return 0


def _table_targets(folder: Path, tables, args, inputs) -> dict:
    """``{table: output file}`` in ``folder``, each checked before any work."""
    from tabgen._output import check_output

    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"the output {str(folder)!r} is a file; give a folder")
    targets = {t: folder / f"{t}{FORMATS[args.format]}" for t in tables}
    for path in targets.values():
        check_output(path, overwrite=args.overwrite, inputs=inputs, parents=True)
    return targets


def cmd_anonymize_db(args) -> int:
    from tabgen.cli.common import model_class, show_report
    from tabgen.io import write_table
    from tabgen.relational import DatabaseAnonymizer

    model_class(args.model)  # a wrong name is a usage error
    tables, meta, paths = read_database(args.folder, args.metadata)
    inputs = [*paths.values(), *([args.metadata] if args.metadata else [])]
    html = json_path = None
    if args.report:  # checked first: a refused report leaves no output folder behind
        html, json_path = report_paths(args.report, args.overwrite, inputs)
    targets = _table_targets(Path(args.output), meta.tables, args, inputs)
    reports = {Path(p).resolve() for p in (html, json_path) if p is not None}
    if reports & {p.resolve() for p in targets.values()}:
        raise ValueError(f"--report {args.report!r} is also a table output")
    anonymizer = DatabaseAnonymizer(
        meta,
        root=args.root,
        holdout=args.holdout,
        model=args.model,
        pii=args.pii,
        random_state=args.seed,
    ).fit(tables)
    note(args, "sampling and scoring the synthetic database ...")
    fake = anonymizer.export(
        scale=args.scale, random_state=args.seed, n_jobs=1, detection_metrics=bool(args.report)
    )
    for table, path in targets.items():
        write_table(fake[table], path, overwrite=args.overwrite)
    guards = anonymizer.safeguards()
    rows = ", ".join(f"{t} {len(df)}" for t, df in fake.items())
    print(f"wrote {len(fake)} tables ({rows} rows) to {args.output}")
    held = ", ".join(f"{t} {n}" for t, n in guards["held_out_rows"].items())
    print(f"  held out by {guards['root']!r} entity: {held} rows")
    pii = "; ".join(
        f"{t}: " + ", ".join(f"{c} ({k})" for c, k in cols.items())
        for t, cols in guards["pii_columns"].items()
        if cols
    )
    print(f"  PII columns {args.pii}d: {pii or 'none'}")
    copies = ", ".join(f"{t} {n}" for t, n in guards["exact_copies"].items()) or "none checked"
    print(f"  exported rows equal to a training row: {copies}")
    if json_path is not None:
        show_report(anonymizer.report_, html, json_path, args.overwrite)
    print("the fitted model was not saved (it has seen the real rows)")
    return 0


def describe_container(header: dict, as_json: bool) -> None:
    """``tabgen info`` of a relational model file."""
    tables = header["state"]["tables"]
    info = {
        "class": header["class"],
        "tabgen_version": header["tabgen_version"],
        "metadata": header["metadata"],
        "tables": {
            t: {
                "n_rows": tables[t]["n_rows"],
                "model": (header["models"][t] or {}).get("header", {}).get("class"),
            }
            for t in tables
        },
    }
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    print(f"model      {header['class']} (tabgen {header['tabgen_version']})")
    for t, entry in info["tables"].items():
        print(f"  table {t:<24} {entry['n_rows']:>9} rows  model {entry['model']}")
    for rel in header["metadata"]["relationships"]:
        print(
            f"  {rel['child_table']}.{rel['child_foreign_key']} -> "
            f"{rel['parent_table']}.{rel['parent_primary_key']}"
        )
