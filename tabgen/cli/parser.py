"""The argument parser of the ``tabgen`` command (imports no model code)."""

from __future__ import annotations

import argparse

from tabgen.cli.common import (
    INPAINTING_MODELS,
    MODEL_NAMES,
    PRESETS,
    holdout,
    key_value,
    param,
    positive_float,
    positive_int,
)

DESCRIPTION = "tabgen: fit, sample, evaluate and use synthetic tabular data."
EPILOG = (
    "exit status: 0 success, 1 the command failed, 2 bad command line. "
    "Run 'tabgen COMMAND --help' for the options of a command."
)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none (``None``) or it is a
    switch that is off."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _models(names) -> str:
    return ", ".join(names)


def _add_model(p, default: str | None, names=MODEL_NAMES, extra: str = "") -> None:
    p.add_argument(
        "-m",
        "--model",
        default=default,
        metavar="MODEL",
        help=f"synthesizer: {_models(names)}{extra}",
    )


def _add_preset(p, command: str, default: str | None, names=MODEL_NAMES, extra: str = "") -> None:
    """``--preset`` (a named choice of model, see ``docs/pipelines.md``) and ``-m``, which
    exclude each other; without ``-m`` the preset's model is used."""
    choices = PRESETS[command]
    group = p.add_mutually_exclusive_group()
    shown = ", ".join(f"{k} = {v or 'per-column predictors'}" for k, v in choices.items())
    group.add_argument(
        "--preset",
        default=default,
        choices=list(choices),
        help=f"named model choice: {shown}{extra}",
    )
    _add_model(group, None, names, " (instead of --preset)")


def _add_schema(p) -> None:
    p.add_argument(
        "--schema",
        type=key_value,
        action="append",
        metavar="COL=KIND",
        help="set a column kind, e.g. --schema PAY_0=categorical (repeatable; wins over "
        "--schema-file)",
    )
    p.add_argument(
        "--schema-file",
        metavar="PATH",
        help="JSON file of column kinds: {column: kind}, or a saved Schema",
    )


def _add_model_options(p) -> None:
    """``--overwrite``, then the options of a command that fits a model."""
    _add_overwrite(p)
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--epochs", type=positive_int, help="training epochs (neural models)")
    p.add_argument(
        "--max-time", type=positive_float, metavar="SECONDS", help="training time budget"
    )
    p.add_argument("--device", help="torch device of the neural models: auto, cpu, cuda, cuda:1")
    p.add_argument(
        "--param",
        type=param,
        action="append",
        metavar="NAME=VALUE",
        help="any constructor parameter of the model, the value read as JSON "
        "(e.g. --param batch_size=256 --param generator_dim=[256,256]; repeatable)",
    )
    _add_schema(p)


def _add_overwrite(p) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (an input is never replaced)",
    )


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the traceback of a failure",
    )
    loud = common.add_mutually_exclusive_group()
    loud.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show progress bars (default: when stderr is a terminal)",
    )
    loud.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no notes on stderr"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tabgen`` command (imports no model code)."""
    from tabgen._cli_constraints import add_commands, add_evaluate_option, add_fit_option
    from tabgen._version import __version__
    from tabgen.cli.common import read_input

    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="tabgen", description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"tabgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of a failure")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help, description=None):  # runs tabgen.cli.cmd_<name>
        p = sub.add_parser(
            name,
            help=help,
            description=description or help[0].upper() + help[1:] + ".",
            parents=[common],
            formatter_class=HelpFormatter,
        )
        p.set_defaults(func=f"cmd_{name}")
        return p

    p = command("demo", "fit on the bundled Adult data, sample, write a report")
    p.add_argument("-o", "--output", default="tabgen-demo", help="output folder")
    _add_model(p, "copula")
    p.add_argument("--train-rows", type=positive_int, help="train on a random subset of this size")
    p.add_argument(
        "-n", "--rows", type=positive_int, help="synthetic rows (default: as many as trained on)"
    )
    _add_model_options(p)

    p = command("fit", "fit a model on a CSV/Parquet table and save it")
    p.add_argument("data", help="training table (.csv, .csv.gz, .parquet)")
    _add_model(p, "copula")
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.add_argument(
        "--epsilon",
        type=positive_float,
        help="fit with differential privacy at this epsilon (models with a DP mode)",
    )
    p.add_argument("--delta", type=positive_float, help="DP delta (default: the model's)")
    _add_model_options(p)
    add_fit_option(p)

    p = command("sample", "sample rows from a saved model")
    p.add_argument("model_file", help="a model file written by 'tabgen fit'")
    p.add_argument("-n", "--rows", type=positive_int, required=True, help="rows to write")
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument(
        "--condition",
        type=key_value,
        action="append",
        metavar="COL=VALUE",
        help="fix a column (repeatable, once per column)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--batch-size", type=positive_int, default=50_000, help="rows per batch")
    _add_overwrite(p)

    p = command("rebalance", "add synthetic minority-class rows")
    p.add_argument("data", help="training table (.csv, .csv.gz, .parquet)")
    p.add_argument("--target", required=True, help="class column")
    p.add_argument(
        "--strategy",
        default="auto",
        help="imbalanced-learn sampling_strategy: auto, minority, not majority, all, a float "
        "ratio, or counts like 'yes=5000,maybe=3000'",
    )
    _add_preset(
        p,
        "rebalance",
        "best",
        extra=" (diffusion is the best on the rebalancing benchmark but takes minutes on a "
        "CPU; copula takes seconds)",
    )
    p.add_argument(
        "--selection",
        default="density-ratio",
        choices=["density-ratio", "none"],
        help="keep the synthetic rows that a discriminator finds most like the real class, "
        "or keep every draw",
    )
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument("--mark-synthetic", action="store_true", help="add an is_synthetic column")
    _add_model_options(p)

    p = command("impute", "fill missing cells")
    p.add_argument("data", help="table with missing cells (.csv, .csv.gz, .parquet)")
    _add_preset(
        p,
        "impute",
        "chained",
        INPAINTING_MODELS,
        " (-m takes the models that can fill any missing cells)",
    )
    p.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument(
        "--draws", type=positive_int, help="draws per point estimate (with -m; default 10)"
    )
    _add_model_options(p)

    p = command("anonymize", "export a safeguarded synthetic copy and a privacy report")
    p.add_argument("data", help="sensitive table (.csv, .csv.gz, .parquet)")
    p.add_argument("-o", "--output", required=True, help="synthetic table to write")
    p.add_argument(
        "--report", help="privacy report: x.html (and x.json beside it) or x.json (JSON only)"
    )
    _add_preset(p, "anonymize", None, extra=" (default: best, or fast with --epsilon)")
    p.add_argument(
        "-n", "--rows", type=positive_int, help="rows to export (default: as many as the input)"
    )
    p.add_argument("--epsilon", type=float, help="train with differential privacy at this epsilon")
    p.add_argument("--delta", type=float, help="DP delta (default min(1e-5, 1/(n sqrt n)))")
    p.add_argument("--holdout", type=holdout, default=0.2, help="share or rows held out")
    p.add_argument("--target", help="target column for the utility scores")
    p.add_argument(
        "--pii",
        choices=("regenerate", "drop"),
        default="regenerate",
        help="what becomes of PII columns",
    )
    p.add_argument("--pii-columns", help="extra PII columns, comma-separated")
    p.add_argument("--keep-columns", help="detected PII columns to learn anyway")
    p.add_argument("--rare-threshold", type=int, default=5, help="merge categories rarer than this")
    p.add_argument("--batch-size", type=positive_int, default=50_000, help="rows per batch")
    _add_model_options(p)

    p = command("info", "describe a saved model")
    p.add_argument("model_file", help="a model file written by 'tabgen fit'")
    p.add_argument("--json", action="store_true", help="print the description as JSON")

    p = command(
        "evaluate",
        "score a synthetic table against real data",
        "Score a synthetic table against real data: print the scores, and write a report with -o.",
    )
    p.add_argument("real", help="the real training table")
    p.add_argument("synthetic", help="the synthetic table")
    p.add_argument("--holdout", help="real rows not used for training (privacy, utility)")
    p.add_argument("--target", help="target column for the utility score")
    p.add_argument(
        "-o",
        "--output",
        help="report: x.html (and x.json beside it) or x.json (JSON only); "
        "without it only the scores are printed",
    )
    _add_schema(p)
    _add_overwrite(p)
    add_evaluate_option(p)
    add_commands(command, read_input)
    from tabgen.cli.ui import add_ui_command  # tabgen ui: the local web app

    add_ui_command(command)
    from tabgen.cli.relational import add_commands as add_database_commands

    add_database_commands(command)
    return parser
