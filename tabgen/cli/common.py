"""What the commands share: errors, argument types, model parameters, reports, progress."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tabgen._validation import parse_param

#: Short names of the registered synthesizers, for the help text (written out so that
#: ``--help`` imports nothing of the models; a test keeps it equal to the registry, which
#: reports a wrong name).
MODEL_NAMES = ("copula", "diffusion", "gan", "vae")
#: The models that can fill any set of missing cells (``capabilities.inpainting``; a test
#: keeps this list equal to the capabilities, which the parser cannot import).
INPAINTING_MODELS = ("copula", "diffusion", "vae")
#: ``--preset`` of the pipeline commands -> ``{preset: model}`` (``None``: no synthesizer),
#: written out for the help text like :data:`MODEL_NAMES`; a test keeps it equal to the
#: pipelines' own presets.
PRESETS = {
    "rebalance": {"fast": "copula", "best": "diffusion"},
    "anonymize": {"fast": "copula", "best": "vae"},
    "impute": {"chained": None, "fast": "copula", "diffusion": "diffusion"},
}


class CLIError(Exception):
    """A failure reported as one line (exit status 1)."""


class UsageError(CLIError):
    """A wrong command line reported as one line (exit status 2)."""


# -- argument types ---------------------------------------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key, value


param = parse_param  # ``--param NAME=VALUE``


def holdout(text: str):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share or a row count, got {text!r}") from None
    return int(value) if value >= 1 and value.is_integer() else value


def split_columns(text):
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


# -- progress ---------------------------------------------------------------------------------
def show_progress(args) -> bool:
    """Progress bars on stderr: ``--verbose`` on, ``--quiet`` off, otherwise on when stderr
    is a terminal."""
    if getattr(args, "quiet", False):
        return False
    if getattr(args, "verbose", False):
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def note(args, text: str) -> None:
    """A note for a person on stderr (not with ``--quiet``)."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


# -- models -----------------------------------------------------------------------------------
def model_class(name: str):
    from tabgen.synthesizers.registry import get_synthesizer

    try:
        return get_synthesizer(name)
    except ValueError as exc:
        raise UsageError(f"-m/--model: {exc}") from None


def schema_option(args) -> dict | None:
    """``--schema-file`` then ``--schema COL=KIND`` (which wins) as ``{column: kind}``."""
    out: dict = {}
    path = getattr(args, "schema_file", None)
    if path:
        from tabgen._validation import schema_kinds

        try:
            out.update(schema_kinds(path, what="--schema-file"))
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from None
    out.update(dict(getattr(args, "schema", None) or []))
    return out or None


def model_params(cls, args, name: str = "", skip=()) -> dict:
    """The constructor arguments of ``cls`` that the command line gives (not those in
    ``skip``, which the command passes elsewhere)."""
    names = cls._get_param_names()
    params: dict = {"random_state": args.seed}
    schema = schema_option(args)
    if schema:
        params["schema"] = schema
    given = {
        "epochs": getattr(args, "epochs", None),
        "device": getattr(args, "device", None),
        "max_time": getattr(args, "max_time", None),
        "epsilon": getattr(args, "epsilon", None),
        "delta": getattr(args, "delta", None),
    }
    for key, value in given.items():
        if value is None or key in skip:
            continue
        if key not in names:
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag}: the {name or cls.__name__} model has no {key} parameter")
        params[key] = value
    from tabgen._cli_constraints import model_constraints

    rules = model_constraints(args)
    if rules is not None:
        params["constraints"] = rules
    if "verbose" in names:
        params["verbose"] = show_progress(args)
    for key, value in getattr(args, "param", None) or []:
        if key not in names:
            raise UsageError(
                f"--param {key}: {cls.__name__} has no parameter {key!r}; "
                f"parameters are {sorted(names)}"
            )
        params[key] = value
    return params


def model_spec(args, name: str | None = None, skip=()) -> tuple[type, dict]:
    """The model class that ``-m`` (or ``name``) names and its constructor arguments from
    the command line (see :func:`model_params`)."""
    name = args.model if name is None else name
    cls = model_class(name)
    return cls, model_params(cls, args, name, skip=skip)


def check_schema_columns(args, data) -> None:
    """``--schema COL=KIND`` and ``--schema-file`` must name columns of the data."""
    unknown = [col for col in schema_option(args) or {} if col not in data.columns]
    if unknown:
        raise UsageError(
            f"--schema names column(s) {unknown} that are not in the data; "
            f"columns are {list(data.columns)}"
        )


# -- files ------------------------------------------------------------------------------------
def read_input(path):
    """Read an input table (a folder is reported as a folder, not as missing)."""
    from tabgen.io import read_table

    return read_table(path)


def read_data(args, path, *, target: bool = False):
    """Read the input table ``path`` and check the columns the options name: those of
    ``--schema`` / ``--schema-file`` and, with ``target``, the ``--target`` column."""
    data = read_input(path)
    if target and args.target is not None and args.target not in data.columns:
        raise UsageError(
            f"unknown --target column {args.target!r}; columns are {list(data.columns)}"
        )
    check_schema_columns(args, data)
    return data


def fit_and_save(model, data, args, what: str) -> None:
    """Fit ``model`` on ``data``, save it to ``args.output`` (``args.overwrite``) and print
    what was fitted (``what``: the data's size) and how long it took."""
    start = time.perf_counter()
    model.fit(data)
    model.save(args.output, overwrite=args.overwrite)
    print(f"fitted {args.model} on {what} in {time.perf_counter() - start:.1f} s -> {args.output}")


def check_table_output(args, *inputs) -> Path:
    from tabgen._output import check_output
    from tabgen.io import table_format

    return check_output(
        args.output, overwrite=args.overwrite, inputs=inputs, check_format=table_format
    )


def report_paths(path, overwrite: bool, inputs) -> tuple[Path | None, Path]:
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


def write_report(report, html, json_path, overwrite: bool) -> str:
    if html is not None:
        report.to_html(html, overwrite=overwrite)
    report.to_json(json_path, overwrite=overwrite)
    return f"{html} and {json_path}" if html is not None else str(json_path)


def show_report(report, html, json_path, overwrite: bool) -> None:
    """Print the report's scores, then write it (when a path was given) and say where."""
    written = None if json_path is None else write_report(report, html, json_path, overwrite)
    print_scores(report.scores)
    for group, line in report.verdict.items():
        print(f"{group}: {line}")
    if written is not None:
        print(f"report -> {written}")


def print_scores(scores: dict) -> None:
    for key, value in scores.items():
        if isinstance(value, float):
            print(f"  {key:<24} {value:.4f}")
