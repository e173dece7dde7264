"""The ``tabgen`` command line.

``tabgen demo``                      fit on the bundled Adult data, sample, write a report
``tabgen fit DATA -m MODEL -o FILE`` fit a model on a CSV/Parquet table
``tabgen sample FILE -n N -o OUT``   sample rows (``--condition col=value``, ``--seed``)
``tabgen info FILE``                 describe a saved model
``tabgen evaluate REAL SYNTH``       score a synthetic table against the real one
``tabgen rebalance DATA --target Y``  add synthetic minority-class rows
``tabgen impute DATA -o OUT``         fill missing cells
``tabgen anonymize DATA -o OUT``      export a safeguarded synthetic copy and a privacy report

Exit status: 0 success; 1 the command failed (bad data, a failed fit, a refused output,
an internal error); 2 the command line is wrong (unknown option, bad option value, an
option naming a column the data lacks). A failure prints one ``tabgen: error: ...`` line;
``--debug`` adds the traceback.

Outputs: every command checks its output files before reading or fitting anything. An
existing file is replaced only with ``--overwrite``; an input is never overwritten; files
are written under a temporary name and renamed into place when complete.

The heavy modules (models, torch, metrics) are imported inside the commands, so that
``tabgen --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

logger = logging.getLogger("tabgen")

#: Short names of the registered synthesizers, for the help text only (``--help`` imports
#: nothing of tabgen.synthesizers; a wrong name is reported by the registry, and a test checks
#: that this list matches it).
_MODEL_NAMES = ("copula", "diffusion", "gan", "vae")


class CLIError(Exception):
    """A failure reported as one line (exit status 1)."""


class UsageError(CLIError):
    """A wrong command line reported as one line (exit status 2)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key, value


def _model_class(name: str):
    from tabgen.synthesizers.registry import get_synthesizer

    try:
        return get_synthesizer(name)
    except ValueError as exc:
        raise UsageError(f"-m/--model: {exc}") from None


def _model_params(cls, args) -> dict:
    params = {"random_state": args.seed}
    if args.schema:
        params["schema"] = dict(args.schema)
    names = cls._get_param_names()
    from tabgen._cli_constraints import model_constraints

    if model_constraints(args) is not None:
        params["constraints"] = model_constraints(args)
    for name in ("epochs", "verbose", "device"):
        value = getattr(args, name, None)
        if value is not None and name in names:
            params[name] = value
    return params


def _check_schema_columns(args, data) -> None:
    """``--schema COL=KIND`` must name columns of the data."""
    unknown = [col for col, _ in args.schema or [] if col not in data.columns]
    if unknown:
        raise UsageError(
            f"--schema names column(s) {unknown} that are not in the data; "
            f"columns are {list(data.columns)}"
        )


def _read_input(path):
    """Read an input table (a folder is reported as a folder, not as missing)."""
    from tabgen.io import read_table

    return read_table(path)


def _check_table_output(args, *inputs) -> Path:
    from tabgen._output import check_output
    from tabgen.io import _format

    return check_output(args.output, overwrite=args.overwrite, inputs=inputs, check_format=_format)


def _report_paths(path, overwrite: bool, inputs) -> tuple[Path | None, Path]:
    """``(html, json)`` for a report name: ``x.html`` writes ``x.html`` and ``x.json``;
    ``x.json`` writes only the JSON. Both are checked before any work."""
    from tabgen._output import check_not_input, check_output

    path = check_not_input(path, inputs)
    suffix = path.suffix.lower()
    if suffix == ".json":
        html, json_path = None, path
    elif suffix in (".html", ".htm"):
        html, json_path = path, path.with_suffix(".json")
    else:
        raise ValueError(
            f"cannot write a report to {str(path)!r}: use a .html name (the JSON is written "
            "beside it) or a .json name (JSON only)"
        )
    for target in (html, json_path):
        if target is not None:
            check_output(target, overwrite=overwrite, inputs=inputs)
    return html, json_path


def _write_report(report, html, json_path, overwrite: bool) -> str:
    if html is not None:
        report.to_html(html, overwrite=overwrite)
    report.to_json(json_path, overwrite=overwrite)
    return f"{html} and {json_path}" if html is not None else str(json_path)


def _parse_conditions(pairs) -> dict:
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


def _coerce_condition(model, column: str, text: str):
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


# -- commands ---------------------------------------------------------------------------------
def cmd_fit(args) -> int:
    from tabgen._output import check_output

    cls = _model_class(args.model)
    check_output(args.output, overwrite=args.overwrite, inputs=[args.data])
    data = _read_input(args.data)
    _check_schema_columns(args, data)
    model = cls(**_model_params(cls, args))
    start = time.perf_counter()
    model.fit(data)
    model.save(args.output, overwrite=args.overwrite)
    print(
        f"fitted {args.model} on {len(data)} rows x {data.shape[1]} columns in "
        f"{time.perf_counter() - start:.1f} s -> {args.output}"
    )
    return 0


def cmd_sample(args) -> int:
    from tabgen.io import sample_to_file
    from tabgen.persistence import load

    pairs = _parse_conditions(args.condition)
    _check_table_output(args, args.model_file)
    model = load(args.model_file)
    conditions = {c: _coerce_condition(model, c, v) for c, v in pairs.items()}
    sample_to_file(
        model,
        args.output,
        args.n,
        batch_size=args.batch_size,
        conditions=conditions or None,
        random_state=args.seed,
        overwrite=args.overwrite,
    )
    print(f"wrote {args.n} rows to {args.output}")
    return 0


def cmd_info(args) -> int:
    from tabgen.persistence import load, read_header

    load(args.model_file)  # every check of a load, so that an altered file is refused
    header, _ = read_header(args.model_file)
    schema = header["encoder"]["schema"]["columns"]
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
    html, json_path = _report_paths(args.output, args.overwrite, inputs)
    real = _read_input(args.real)
    synth = _read_input(args.synthetic)
    holdout = _read_input(args.holdout) if args.holdout else None
    if args.target is not None and args.target not in real.columns:
        raise UsageError(
            f"unknown --target column {args.target!r}; columns are {list(real.columns)}"
        )
    report = evaluate(real, synth, holdout=holdout, target=args.target)
    written = _write_report(report, html, json_path, args.overwrite)
    _print_scores(report.scores)
    print(f"report -> {written}")
    return 0


def cmd_rebalance(args) -> int:
    from tabgen.io import write_table
    from tabgen.pipelines import SyntheticOverSampler

    cls = _model_class(args.model)
    strategy = _parse_strategy(args.strategy)
    _check_table_output(args, args.data)
    data = _read_input(args.data)
    if args.target not in data.columns:
        raise UsageError(
            f"unknown --target column {args.target!r}; columns are {list(data.columns)}"
        )
    _check_schema_columns(args, data)
    if args.model == "diffusion" and not getattr(args, "verbose", False):
        print(
            f"fitting the diffusion model on {len(data)} rows: minutes on a CPU "
            "(--verbose shows progress; -m copula takes seconds)",
            file=sys.stderr,
        )
    sampler = SyntheticOverSampler(
        synthesizer=cls(**_model_params(cls, args)),
        sampling_strategy=strategy,
        selection=None if args.selection == "none" else args.selection,
        random_state=args.seed,
    )
    X_res, y_res = sampler.fit_resample(data.drop(columns=[args.target]), data[args.target])
    out = X_res.assign(**{args.target: y_res.to_numpy()})[list(data.columns)]
    if args.mark_synthetic:
        out["is_synthetic"] = sampler.synthetic_mask_
    write_table(out, args.output, overwrite=args.overwrite)
    counts = ", ".join(f"{k!s}: {v}" for k, v in y_res.value_counts().items())
    print(f"added {int(sampler.synthetic_mask_.sum())} synthetic rows ({counts}) -> {args.output}")
    return 0


def _parse_strategy(text: str):
    """``--strategy``: a float ratio, counts ``CLASS=N,...``, or an imbalanced-learn name."""
    try:
        return float(text)
    except ValueError:
        pass
    if "=" not in text:
        return text
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise UsageError(f"--strategy: expected CLASS=COUNT, got {part!r} in {text!r}")
        key, value = part.split("=", 1)
        try:
            count = int(value)
        except ValueError:
            raise UsageError(
                f"--strategy: the count for class {key!r} must be an integer, got {value!r}"
            ) from None
        if count < 0:
            raise UsageError(f"--strategy: the count for class {key!r} is negative ({count})")
        if key in out:
            raise UsageError(f"--strategy: class {key!r} given twice")
        out[key] = count
    return out


def cmd_impute(args) -> int:
    from tabgen.io import write_table
    from tabgen.pipelines import SyntheticImputer

    cls = _model_class(args.model)
    _check_table_output(args, args.data)
    data = _read_input(args.data)
    _check_schema_columns(args, data)
    imputer = SyntheticImputer(
        synthesizer=cls(**_model_params(cls, args)), n_draws=args.draws, random_state=args.seed
    )
    filled = imputer.fit_transform(data)
    write_table(filled, args.output, overwrite=args.overwrite)
    print(
        f"filled {int(data.isna().sum().sum() - filled.isna().sum().sum())} cells -> {args.output}"
    )
    return 0


def cmd_anonymize(args) -> int:
    from tabgen.pipelines import Anonymizer

    model = args.model or ("copula" if args.epsilon is not None else "vae")
    cls = _model_class(model)
    out = _check_table_output(args, args.data)
    html = json_path = None
    if args.report:
        html, json_path = _report_paths(args.report, args.overwrite, [args.data])
        if out in (html, json_path):
            raise ValueError(f"-o and --report name the same file {str(out)!r}")
    data = _read_input(args.data)
    if args.target is not None and args.target not in data.columns:
        raise UsageError(
            f"unknown --target column {args.target!r}; columns are {list(data.columns)}"
        )
    _check_schema_columns(args, data)
    anonymizer = Anonymizer(
        cls(**_model_params(cls, args)),
        holdout=args.holdout,
        target=args.target,
        pii=args.pii,
        pii_columns=_split_columns(args.pii_columns),
        keep_columns=_split_columns(args.keep_columns),
        rare_threshold=args.rare_threshold,
        epsilon=args.epsilon,
        delta=args.delta,
        random_state=args.seed,
    )
    t0 = time.perf_counter()
    anonymizer.fit(data)
    print(
        f"fitted {model} on {len(anonymizer.train_)} rows "
        f"({len(anonymizer.holdout_)} held out) in {time.perf_counter() - t0:.1f} s"
    )
    n = args.rows or len(data)
    keep = min(n, len(anonymizer.train_)) if json_path is not None else 0
    result = anonymizer.export(
        out, n, batch_size=args.batch_size, overwrite=args.overwrite, keep_rows=keep
    )
    guards = anonymizer.safeguards()
    pii = ", ".join(f"{c} ({t})" for c, t in guards["pii_columns"].items()) or "none"
    print(f"wrote {n} synthetic rows -> {out}")
    print(f"  PII/key columns {args.pii}d: {pii}")
    print(f"  rare categories merged: {sum(guards['rare_categories_merged'].values())}")
    print(f"  near-copies replaced: {guards['rows_replaced']}")
    if guards["differential_privacy"]:
        dp = guards["differential_privacy"]
        print(f"  differential privacy: epsilon {dp['epsilon']:.3g}, delta {dp['delta']:.3g}")
    if json_path is not None:
        print(f"measuring privacy risk on {keep} exported rows against the holdout ...")
        report = anonymizer.report(result[1])
        written = _write_report(report, html, json_path, args.overwrite)
        _print_scores(report.scores)
        print(f"report -> {written}")
    print("the fitted model was not saved (it has seen the real rows)")
    return 0


def _split_columns(text):
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _holdout(text: str):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share or a row count, got {text!r}") from None
    return int(value) if value >= 1 and value.is_integer() else value


def _print_scores(scores: dict) -> None:
    for key, value in scores.items():
        if isinstance(value, float):
            print(f"  {key:<24} {value:.4f}")


_DEMO_FILES = ("synthetic.csv", "model.tabgen", "summary.json", "report.html", "report.json")


def cmd_demo(args) -> int:
    import json

    from tabgen import datasets
    from tabgen._output import check_output, write_text
    from tabgen.io import write_table
    from tabgen.metrics import evaluate

    cls = _model_class(args.model)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"the demo writes a folder; {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    for name in _DEMO_FILES:
        check_output(out / name, overwrite=args.overwrite)
    train = datasets.load_adult("train")
    test = datasets.load_adult("test")
    if args.rows:
        train = train.sample(min(args.rows, len(train)), random_state=0).reset_index(drop=True)
        test = test.sample(min(args.rows, len(test)), random_state=0).reset_index(drop=True)
    model = cls(**_model_params(cls, args))
    print(f"fitting {args.model} on UCI Adult ({len(train)} rows x {train.shape[1]} columns) ...")
    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(len(train), random_state=args.seed)
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
    print("scoring the synthetic table against real rows (holdout: Adult test split) ...")
    report = evaluate(train, synth, holdout=test, target="income")
    _write_report(report, out / "report.html", out / "report.json", args.overwrite)
    summary["scores"] = report.scores
    check_output(out / "summary.json", overwrite=args.overwrite)
    write_text(out / "summary.json", json.dumps(summary, indent=2, default=str))
    print(f"fit {fit_s:.1f} s, sampled {len(synth)} rows in {sample_s:.2f} s")
    _print_scores(summary["scores"])
    print("wrote " + ", ".join(str(out / name) for name in _DEMO_FILES))
    return 0


# -- parser -----------------------------------------------------------------------------------
_MODEL_HELP = f"synthesizer: {', '.join(_MODEL_NAMES)}"


def _add_model_options(p) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--epochs", type=_positive_int, help="training epochs (neural models)")
    p.add_argument(
        "--schema",
        type=_key_value,
        action="append",
        metavar="COL=KIND",
        help="override a column kind, e.g. --schema PAY_0=categorical (repeatable)",
    )
    p.add_argument("--verbose", action="store_true", help="show training progress")


def _add_overwrite(p) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (an input is never replaced)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tabgen`` command (imports no model code)."""
    from tabgen._cli_constraints import add_commands, add_fit_option
    from tabgen._version import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the traceback of a failure",
    )
    parser = argparse.ArgumentParser(
        prog="tabgen",
        description=__doc__.splitlines()[0],
        epilog="exit status: 0 success, 1 the command failed, 2 bad command line",
    )
    parser.add_argument("--version", action="version", version=f"tabgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of a failure")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, help):
        return sub.add_parser(name, help=help, parents=[common])

    p = command("demo", "fit on the bundled Adult data, sample, write a report")
    p.add_argument("-o", "--output", default="tabgen-demo", help="output folder")
    p.add_argument("-m", "--model", default="copula", help=_MODEL_HELP + " (default copula)")
    p.add_argument("--rows", type=_positive_int, help="train on a random subset of this size")
    _add_overwrite(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_demo)

    p = command("fit", "fit a model on a CSV/Parquet table")
    p.add_argument("data", help="training table (.csv, .csv.gz, .parquet)")
    p.add_argument("-m", "--model", default="copula", help=_MODEL_HELP + " (default copula)")
    p.add_argument("-o", "--output", required=True, help="model file to write")
    _add_overwrite(p)
    _add_model_options(p)
    add_fit_option(p)
    p.set_defaults(func=cmd_fit)

    p = command("sample", "sample rows from a saved model")
    p.add_argument("model_file")
    p.add_argument("-n", type=_positive_int, required=True, help="number of rows")
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument(
        "--condition",
        type=_key_value,
        action="append",
        metavar="COL=VALUE",
        help="fix a column (repeatable, once per column)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=50_000)
    _add_overwrite(p)
    p.set_defaults(func=cmd_sample)

    p = command("rebalance", "add synthetic minority-class rows")
    p.add_argument("data")
    p.add_argument("--target", required=True, help="class column")
    p.add_argument(
        "--strategy",
        default="auto",
        help="imbalanced-learn sampling_strategy: auto, minority, not majority, all, a float "
        "ratio, or counts like 'yes=5000,maybe=3000'",
    )
    p.add_argument(
        "-m",
        "--model",
        default="diffusion",
        help=_MODEL_HELP + " (default: diffusion, the best on the rebalancing benchmark; "
        "minutes on a CPU; copula: seconds)",
    )
    p.add_argument(
        "--selection",
        default="density-ratio",
        choices=["density-ratio", "none"],
        help="keep the synthetic rows that a discriminator finds most like the real class "
        "(default), or keep every draw",
    )
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument("--mark-synthetic", action="store_true", help="add an is_synthetic column")
    _add_overwrite(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_rebalance)

    p = command("impute", "fill missing cells")
    p.add_argument("data")
    p.add_argument("-m", "--model", default="copula", help=_MODEL_HELP + " (default copula)")
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument("--draws", type=_positive_int, default=10, help="draws per point estimate")
    _add_overwrite(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_impute)

    p = command("anonymize", "export a safeguarded synthetic copy + privacy report")
    p.add_argument("data", help="sensitive table (.csv, .csv.gz, .parquet)")
    p.add_argument("-o", "--output", required=True, help="synthetic table to write")
    p.add_argument(
        "--report", help="privacy report: x.html (and x.json beside it) or x.json (JSON only)"
    )
    p.add_argument("-m", "--model", help=_MODEL_HELP + " (default: vae, or copula with --epsilon)")
    p.add_argument("-n", "--rows", type=_positive_int, help="rows to export (default: as input)")
    p.add_argument("--epsilon", type=float, help="train with differential privacy at this epsilon")
    p.add_argument("--delta", type=float, help="DP delta (default min(1e-5, 1/(n sqrt n)))")
    p.add_argument("--holdout", type=_holdout, default=0.2, help="share or rows held out")
    p.add_argument("--target", help="target column for the utility scores")
    p.add_argument("--pii", choices=("regenerate", "drop"), default="regenerate")
    p.add_argument("--pii-columns", help="extra PII columns, comma-separated")
    p.add_argument("--keep-columns", help="detected PII columns to learn anyway")
    p.add_argument("--rare-threshold", type=int, default=5)
    p.add_argument("--batch-size", type=_positive_int, default=50_000)
    _add_overwrite(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_anonymize)

    p = command("info", "describe a saved model")
    p.add_argument("model_file")
    p.set_defaults(func=cmd_info)

    p = command("evaluate", "score a synthetic table against real data")
    p.add_argument("real")
    p.add_argument("synthetic")
    p.add_argument("--holdout", help="real rows not used for training (privacy, utility)")
    p.add_argument("--target", help="target column for the utility score")
    p.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="report: x.html (and x.json beside it; default report.html) or x.json (JSON only)",
    )
    _add_overwrite(p)
    p.set_defaults(func=cmd_evaluate)
    add_commands(command, _read_input)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return f"missing key {text}"
    return text or type(exc).__name__


def main(argv=None) -> int:
    """Run the ``tabgen`` command; return its exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # a bad command line exits with status 2 here
    debug = bool(getattr(args, "debug", False))
    if getattr(args, "verbose", False):
        from tabgen.synthesizers.base import enable_verbose_logging

        enable_verbose_logging()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("tabgen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, UsageError):
            status, msg = 2, _one_line(exc)
        elif isinstance(exc, (CLIError, ValueError, TypeError, KeyError, OSError)):
            status, msg = 1, _one_line(exc)  # ModelFileError is a ValueError
        else:
            status = 1
            msg = f"internal error: {type(exc).__name__}: {_one_line(exc)}"
            if not debug:
                msg += " (run again with --debug for the traceback)"
        if debug:
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__)
        print(f"tabgen: error: {msg}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
