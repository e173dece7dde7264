"""The commands on models and tables: ``fit``, ``sample``, ``info``, ``evaluate``, ``demo``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tabgen.cli.common import (
    UsageError,
    check_table_output,
    fit_and_save,
    model_spec,
    note,
    print_scores,
    read_data,
    read_input,
    report_paths,
    schema_option,
    show_progress,
    show_report,
    write_report,
)


def parse_conditions(pairs) -> dict:
    """``--condition`` pairs as a dict; a column given twice is a usage error."""
    out: dict = {}
    for column, value in pairs or []:
        if column in out:
            raise UsageError(
                f"--condition given twice for column {column!r} ({out[column]!r} and "
                f"{value!r}); give each column once"
            )
        out[column] = value
    return out


def coerce_condition(model, column: str, text: str):
    """Turn a command-line string into the column's value (category or number)."""
    if column not in model.columns_:
        raise UsageError(f"unknown column {column!r} in --condition; columns are {model.columns_}")
    spec = model.schema_[column]
    if spec.kind == "categorical":
        cats = model.encoder_.encoders_[column].categories_
        matches = [c for c in cats if str(c) == text]
        if not matches:
            shown = ", ".join(repr(str(c)) for c in cats[:15])
            raise UsageError(f"unknown category {text!r} for column {column!r}; known: {shown}")
        return matches[0]
    if spec.kind in ("numerical", "integer"):
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"--condition {column}={text}: {column!r} needs a number") from None
    raise UsageError(f"cannot condition on column {column!r} of kind {spec.kind!r}")


def cmd_fit(args) -> int:
    from tabgen._output import check_output

    cls, params = model_spec(args)
    check_output(args.output, overwrite=args.overwrite, inputs=[args.data])
    data = read_data(args, args.data)
    fit_and_save(cls(**params), data, args, f"{len(data)} rows x {data.shape[1]} columns")
    return 0


def cmd_sample(args) -> int:
    from tabgen.io import sample_to_file
    from tabgen.persistence import load

    pairs = parse_conditions(args.condition)
    check_table_output(args, args.model_file)
    model = load(args.model_file)
    conditions = {c: coerce_condition(model, c, v) for c, v in pairs.items()}
    sample_to_file(
        model,
        args.output,
        args.rows,
        batch_size=args.batch_size,
        conditions=conditions or None,
        random_state=args.seed,
        overwrite=args.overwrite,
        verbose=show_progress(args),
    )
    print(f"wrote {args.rows} rows to {args.output}")
    return 0


def cmd_info(args) -> int:
    from tabgen.persistence import load, read_header

    load(args.model_file)  # every check of a load, so that an altered file is refused
    header, _ = read_header(args.model_file)
    if header.get("container") == "relational":
        from tabgen.cli.relational import describe_container

        describe_container(header, args.json)
        return 0
    schema = header["encoder"]["schema"]["columns"]
    if args.json:
        info = {
            "class": header["class"],
            "tabgen_version": header["tabgen_version"],
            "n_rows": header["fitted"]["n_rows"],
            "params": header["params"],
            "columns": [
                {k: col[k] for k in ("name", "kind", "dtype", "nullable")} for col in schema
            ],
        }
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"model      {header['class']} (tabgen {header['tabgen_version']})")
    print(f"trained on {header['fitted']['n_rows']} rows, {len(schema)} columns")
    params = ", ".join(f"{k}={v!r}" for k, v in header["params"].items())
    print(f"params     {params}")
    print("columns:")
    for col in schema:
        nullable = " (has missing)" if col["nullable"] else ""
        print(f"  {col['name']!s:<30} {col['kind']:<12} {col['dtype']}{nullable}")
    return 0


def cmd_evaluate(args) -> int:
    from tabgen.metrics import evaluate

    inputs = [args.real, args.synthetic, args.holdout]
    html = json_path = None
    if args.output is not None:
        html, json_path = report_paths(args.output, args.overwrite, inputs)
    schema = schema_option(args)
    real = read_data(args, args.real, target=True)
    synth = read_input(args.synthetic)
    holdout = read_input(args.holdout) if args.holdout else None
    note(args, f"scoring {len(synth)} synthetic rows against {len(real)} real rows ...")
    from tabgen._cli_constraints import model_constraints

    rules = model_constraints(args)
    report = evaluate(
        real, synth, holdout=holdout, target=args.target, schema=schema, constraints=rules
    )
    show_report(report, html, json_path, args.overwrite)
    return 0


DEMO_FILES = ("synthetic.csv", "model.tabgen", "summary.json", "report.html", "report.json")


def cmd_demo(args) -> int:
    from tabgen import datasets
    from tabgen._output import check_output, write_text
    from tabgen.io import write_table
    from tabgen.metrics import evaluate

    cls, params = model_spec(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"the demo writes a folder; {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        check_output(out / name, overwrite=args.overwrite)
    train = datasets.load_adult("train")
    test = datasets.load_adult("test")
    if args.train_rows:
        n = args.train_rows
        train = train.sample(min(n, len(train)), random_state=0).reset_index(drop=True)
        test = test.sample(min(n, len(test)), random_state=0).reset_index(drop=True)
    model = cls(**params)
    note(args, f"fitting {args.model} on UCI Adult ({len(train)} rows x {train.shape[1]} columns)")
    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(args.rows or len(train), random_state=args.seed)
    sample_s = time.perf_counter() - t0
    write_table(synth, out / "synthetic.csv", overwrite=args.overwrite)
    model.save(out / "model.tabgen", overwrite=args.overwrite)
    summary = {
        "model": args.model,
        "rows_real": len(train),
        "rows_synthetic": len(synth),
        "fit_seconds": round(fit_s, 3),
        "sample_seconds": round(sample_s, 3),
    }
    note(args, "scoring the synthetic table against real rows (holdout: Adult test split)")
    report = evaluate(train, synth, holdout=test, target="income")
    write_report(report, out / "report.html", out / "report.json", args.overwrite)
    summary["scores"] = report.scores
    check_output(out / "summary.json", overwrite=args.overwrite)
    write_text(out / "summary.json", json.dumps(summary, indent=2, default=str))
    print(f"fit {fit_s:.1f} s, sampled {len(synth)} rows in {sample_s:.2f} s")
    print_scores(summary["scores"])
    print("wrote " + ", ".join(str(out / name) for name in DEMO_FILES))
    return 0
