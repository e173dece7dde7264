"""The ``ui`` command: start the local web app (:mod:`tabgen.ui`, the ``ui`` extra)."""

from __future__ import annotations

import argparse

from tabgen.cli.common import CLIError, positive_float


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in 0-65535, got {value}")
    return value


def add_ui_command(command) -> None:
    """Register ``tabgen ui`` (``command`` is the parser's sub-command factory)."""
    p = command(
        "ui",
        "start the local web app (upload, choose a job, watch it, download)",
        "Start tabgen's local web app: upload a table, choose a job (synthesize, rebalance, "
        "impute, anonymize), watch it run, download the data, the report and the model. "
        "Needs the 'ui' extra: pip install 'tabgen[ui]'.",
    )
    p.add_argument("--port", type=port_number, default=8765, help="port (0: any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; any other than 127.0.0.1/localhost needs a token",
    )
    p.add_argument(
        "--token",
        help="token every request must carry (generated and printed when the host is not "
        "local and none is given)",
    )
    p.add_argument(
        "--no-browser", action="store_true", help="do not open the browser on the address"
    )
    p.add_argument(
        "--max-upload-mb", type=positive_float, default=200.0, help="largest upload accepted"
    )
    p.set_defaults(func=cmd_ui)


def cmd_ui(args) -> int:
    from tabgen.ui.server import missing_extra

    problem = missing_extra()
    if problem:
        raise CLIError(problem)
    from tabgen.ui.server import serve

    return serve(
        host=args.host,
        port=args.port,
        token=args.token,
        open_browser=not args.no_browser,
        max_upload_mb=args.max_upload_mb,
        debug=bool(getattr(args, "debug", False)),
    )
