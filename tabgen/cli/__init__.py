"""The tabgen command line.

    tabgen demo                         fit on the bundled Adult data, sample, write a report
    tabgen fit DATA -m MODEL -o FILE    fit a model on a CSV/Parquet table
    tabgen sample FILE -n N -o OUT      sample rows (--condition col=value, --seed)
    tabgen info FILE [--json]           describe a saved model
    tabgen evaluate REAL SYNTH [-o R]   score a synthetic table against the real one
    tabgen rebalance DATA --target Y    add synthetic minority-class rows
    tabgen impute DATA -o OUT           fill missing cells
    tabgen anonymize DATA -o OUT        export a safeguarded synthetic copy and a privacy report
    tabgen ui [--port N]                start the local web app (the 'ui' extra)

One flag, one meaning: ``-n/--rows`` is always the number of rows written, ``-m/--model``
the synthesizer, ``--seed`` the seed (default 0), ``-o/--output`` the output;
``--verbose``/``--quiet`` switch the progress bars on/off (default: on when stderr is a
terminal). Every ``--help`` shows the defaults.

Exit status: 0 success; 1 the command failed (bad data, a failed fit, a refused output,
an internal error); 2 the command line is wrong (unknown option, bad option value, an
option naming a column the data lacks). A failure prints one ``tabgen: error: ...`` line;
``--debug`` adds the traceback.

Outputs: every command checks its output files before reading or fitting anything. An
existing file is replaced only with ``--overwrite``; an input is never overwritten; files
are written under a temporary name and renamed into place when complete.

The heavy modules (models, torch, metrics) are imported inside the commands, so that
``tabgen --help`` stays fast. Modules: :mod:`~tabgen.cli.parser` (the options),
:mod:`~tabgen.cli.commands` (fit, sample, info, evaluate, demo),
:mod:`~tabgen.cli.pipelines` (rebalance, impute, anonymize), :mod:`~tabgen.cli.common`.
"""

from __future__ import annotations

import sys

from tabgen.cli.commands import cmd_demo, cmd_evaluate, cmd_fit, cmd_info, cmd_sample
from tabgen.cli.common import MODEL_NAMES, CLIError, UsageError
from tabgen.cli.parser import build_parser
from tabgen.cli.pipelines import cmd_anonymize, cmd_impute, cmd_rebalance

#: Kept for callers of the former single module.
_MODEL_NAMES = MODEL_NAMES

__all__ = [
    "CLIError",
    "UsageError",
    "build_parser",
    "cmd_anonymize",
    "cmd_demo",
    "cmd_evaluate",
    "cmd_fit",
    "cmd_impute",
    "cmd_info",
    "cmd_rebalance",
    "cmd_sample",
    "main",
]


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
    try:
        func = args.func  # a name is looked up here, so that it can be replaced
        return (globals()[func] if isinstance(func, str) else func)(args)
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
