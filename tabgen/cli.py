"""The ``tabgen`` command line.

``tabgen demo``                      fit on the bundled Adult data, sample, write a report
``tabgen fit DATA -m MODEL -o FILE`` fit a model on a CSV/Parquet table
``tabgen sample FILE -n N -o OUT``   sample rows (``--condition col=value``, ``--seed``)
``tabgen info FILE``                 describe a saved model
``tabgen evaluate REAL SYNTH``       score a synthetic table against the real one
``tabgen rebalance DATA --target Y``  add synthetic minority-class rows
``tabgen impute DATA -o OUT``         fill missing cells
``tabgen anonymize DATA -o OUT``      export a safeguarded synthetic copy and a privacy report

Bad input gets a one-line ``tabgen: error: ...`` message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

logger = logging.getLogger("tabgen")


class CLIError(Exception):
    """A user error reported as one line."""


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


def _model_params(cls, args) -> dict:
    params = {"random_state": args.seed}
    if args.schema:
        params["schema"] = dict(args.schema)
    names = cls._get_param_names()
    for name in ("epochs", "verbose", "device"):
        value = getattr(args, name, None)
        if value is not None and name in names:
            params[name] = value
    return params


def _coerce_condition(model, column: str, text: str):
    """Turn a command-line string into the column's value (category or number)."""
    if column not in model.columns_:
        raise CLIError(f"unknown column {column!r} in --condition; columns are {model.columns_}")
    spec = model.schema_[column]
    if spec.kind == "categorical":
        cats = model.encoder_.encoders_[column].categories_
        matches = [c for c in cats if str(c) == text]
        if not matches:
            shown = ", ".join(repr(str(c)) for c in cats[:15])
            raise CLIError(f"unknown category {text!r} for column {column!r}; known: {shown}")
        return matches[0]
    if spec.kind in ("numerical", "integer"):
        try:
            return float(text)
        except ValueError:
            raise CLIError(f"--condition {column}={text}: {column!r} needs a number") from None
    raise CLIError(f"cannot condition on column {column!r} of kind {spec.kind!r}")


# -- commands ---------------------------------------------------------------------------------
def cmd_fit(args) -> int:
    import tabgen

    cls = tabgen.get_synthesizer(args.model)
    data = tabgen.read_table(args.data)
    model = cls(**_model_params(cls, args))
    start = time.perf_counter()
    model.fit(data)
    model.save(args.output)
    print(
        f"fitted {args.model} on {len(data)} rows x {data.shape[1]} columns in "
        f"{time.perf_counter() - start:.1f} s -> {args.output}"
    )
    return 0


def cmd_sample(args) -> int:
    import tabgen

    model = tabgen.load(args.model_file)
    conditions = {c: _coerce_condition(model, c, v) for c, v in (args.condition or [])}
    tabgen.sample_to_file(
        model,
        args.output,
        args.n,
        batch_size=args.batch_size,
        conditions=conditions or None,
        random_state=args.seed,
    )
    print(f"wrote {args.n} rows to {args.output}")
    return 0


def cmd_info(args) -> int:
    from tabgen.persistence import read_header

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
    import tabgen

    real = tabgen.read_table(args.real)
    synth = tabgen.read_table(args.synthetic)
    holdout = tabgen.read_table(args.holdout) if args.holdout else None
    report = tabgen.evaluate(real, synth, holdout=holdout, target=args.target)
    out = Path(args.output)
    report.to_html(out)
    report.to_json(out.with_suffix(".json"))
    _print_scores(report.scores)
    print(f"report -> {out} and {out.with_suffix('.json')}")
    return 0


def cmd_rebalance(args) -> int:
    import tabgen
    from tabgen.pipelines import SyntheticOverSampler

    data = tabgen.read_table(args.data)
    if args.target not in data.columns:
        raise CLIError(f"unknown target column {args.target!r}; columns are {list(data.columns)}")
    strategy = _parse_strategy(args.strategy)
    if args.model == "diffusion" and not getattr(args, "verbose", False):
        print(
            f"fitting the diffusion model on {len(data)} rows: minutes on a CPU "
            "(--verbose shows progress; -m copula takes seconds)",
            file=sys.stderr,
        )
    cls = tabgen.get_synthesizer(args.model)
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
    tabgen.write_table(out, args.output)
    counts = ", ".join(f"{k!s}: {v}" for k, v in y_res.value_counts().items())
    print(f"added {int(sampler.synthetic_mask_.sum())} synthetic rows ({counts}) -> {args.output}")
    return 0


def _parse_strategy(text: str):
    try:
        return float(text)
    except ValueError:
        pass
    if "=" in text:
        out = {}
        for part in text.split(","):
            key, value = _key_value(part)
            out[key] = int(value)
        return out
    return text


def cmd_impute(args) -> int:
    import tabgen
    from tabgen.pipelines import SyntheticImputer

    data = tabgen.read_table(args.data)
    cls = tabgen.get_synthesizer(args.model)
    imputer = SyntheticImputer(
        synthesizer=cls(**_model_params(cls, args)), n_draws=args.draws, random_state=args.seed
    )
    filled = imputer.fit_transform(data)
    tabgen.write_table(filled, args.output)
    print(
        f"filled {int(data.isna().sum().sum() - filled.isna().sum().sum())} cells -> {args.output}"
    )
    return 0


def cmd_anonymize(args) -> int:
    import tabgen
    from tabgen.pipelines import Anonymizer

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise CLIError(f"{str(out)!r} exists; pass --overwrite to replace it")
    report_path = Path(args.report) if args.report else None
    if report_path is not None and report_path.exists() and not args.overwrite:
        raise CLIError(f"{str(report_path)!r} exists; pass --overwrite to replace it")
    data = tabgen.read_table(args.data)
    model = args.model or ("copula" if args.epsilon is not None else "vae")
    cls = tabgen.get_synthesizer(model)
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
    keep = min(n, len(anonymizer.train_)) if report_path is not None else 0
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
    if report_path is not None:
        print(f"measuring privacy risk on {keep} exported rows against the holdout ...")
        report = anonymizer.report(result[1])
        report.to_html(report_path)
        report.to_json(report_path.with_suffix(".json"))
        _print_scores(report.scores)
        print(f"report -> {report_path} and {report_path.with_suffix('.json')}")
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


def cmd_demo(args) -> int:
    import tabgen

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    train = tabgen.datasets.load_adult("train")
    test = tabgen.datasets.load_adult("test")
    if args.rows:
        train = train.sample(min(args.rows, len(train)), random_state=0).reset_index(drop=True)
        test = test.sample(min(args.rows, len(test)), random_state=0).reset_index(drop=True)
    cls = tabgen.get_synthesizer(args.model)
    model = cls(**_model_params(cls, args))
    print(f"fitting {args.model} on UCI Adult ({len(train)} rows x {train.shape[1]} columns) ...")
    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(len(train), random_state=args.seed)
    sample_s = time.perf_counter() - t0
    tabgen.write_table(synth, out / "synthetic.csv")
    model.save(out / "model.tabgen")
    summary = {
        "model": args.model,
        "rows_real": len(train),
        "rows_synthetic": len(synth),
        "fit_seconds": round(fit_s, 3),
        "sample_seconds": round(sample_s, 3),
    }
    print("scoring the synthetic table against real rows (holdout: Adult test split) ...")
    report = tabgen.evaluate(train, synth, holdout=test, target="income")
    report.to_html(out / "report.html")
    report.to_json(out / "report.json")
    summary["scores"] = report.scores
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"fit {fit_s:.1f} s, sampled {len(synth)} rows in {sample_s:.2f} s")
    _print_scores(summary["scores"])
    written = ("synthetic.csv", "model.tabgen", "summary.json", "report.html", "report.json")
    print("wrote " + ", ".join(str(out / name) for name in written))
    return 0


# -- parser -----------------------------------------------------------------------------------
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


def build_parser() -> argparse.ArgumentParser:
    from tabgen import SYNTHESIZERS, __version__

    models = sorted(SYNTHESIZERS)
    parser = argparse.ArgumentParser(prog="tabgen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tabgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="fit on the bundled Adult data, sample, write a report")
    p.add_argument("-o", "--output", default="tabgen-demo", help="output folder")
    p.add_argument("-m", "--model", default="copula", choices=models)
    p.add_argument("--rows", type=_positive_int, help="train on a random subset of this size")
    _add_model_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("fit", help="fit a model on a CSV/Parquet table")
    p.add_argument("data", help="training table (.csv, .csv.gz, .parquet)")
    p.add_argument("-m", "--model", default="copula", choices=models)
    p.add_argument("-o", "--output", required=True, help="model file to write")
    _add_model_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("sample", help="sample rows from a saved model")
    p.add_argument("model_file")
    p.add_argument("-n", type=_positive_int, required=True, help="number of rows")
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument(
        "--condition", type=_key_value, action="append", metavar="COL=VALUE", help="fix a column"
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=50_000)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("rebalance", help="add synthetic minority-class rows")
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
        choices=models,
        help="synthesizer (default: diffusion, the best on the rebalancing benchmark; minutes "
        "on a CPU; copula: seconds)",
    )
    p.add_argument(
        "--selection",
        default="density-ratio",
        choices=["density-ratio", "none"],
        help="keep the synthetic rows that a discriminator finds most like the real class "
        "(default), or keep every draw",
    )
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--mark-synthetic", action="store_true", help="add an is_synthetic column")
    _add_model_options(p)
    p.set_defaults(func=cmd_rebalance)

    p = sub.add_parser("impute", help="fill missing cells")
    p.add_argument("data")
    p.add_argument("-m", "--model", default="copula", choices=models)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--draws", type=_positive_int, default=10, help="draws per point estimate")
    _add_model_options(p)
    p.set_defaults(func=cmd_impute)

    p = sub.add_parser("anonymize", help="export a safeguarded synthetic copy + privacy report")
    p.add_argument("data", help="sensitive table (.csv, .csv.gz, .parquet)")
    p.add_argument("-o", "--output", required=True, help="synthetic table to write")
    p.add_argument("--report", help="privacy report (HTML; JSON written beside it)")
    p.add_argument("-m", "--model", choices=models, help="default: vae, or copula with --epsilon")
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
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_model_options(p)
    p.set_defaults(func=cmd_anonymize)

    p = sub.add_parser("info", help="describe a saved model")
    p.add_argument("model_file")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("evaluate", help="score a synthetic table against real data")
    p.add_argument("real")
    p.add_argument("synthetic")
    p.add_argument("--holdout", help="real rows not used for training (privacy, utility)")
    p.add_argument("--target", help="target column for the utility score")
    p.add_argument("-o", "--output", default="report.html", help="HTML report (JSON beside it)")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "verbose", False):
        from tabgen.synthesizers.base import enable_verbose_logging

        enable_verbose_logging()
    try:
        return args.func(args)
    except (CLIError, ValueError, TypeError, KeyError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, KeyError):
            msg = f"missing key {msg}"
        print(f"tabgen: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tabgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
