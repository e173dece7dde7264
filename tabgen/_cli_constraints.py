"""The ``tabgen constraints`` command and the ``--constraints`` option of ``tabgen fit``."""

from __future__ import annotations

import sys


def add_commands(command, read_input) -> None:
    """Register ``constraints`` with ``command(name, help)`` (the CLI's sub-parser factory);
    ``read_input(path)`` reads a table as the other commands do."""
    p = command("constraints", "propose the rules a table obeys (JSON for fit --constraints)")
    p.add_argument("data", help="table (.csv, .csv.gz, .parquet)")
    p.add_argument("-o", "--output", help="rules file to write (default: print)")
    p.add_argument(
        "--max-rows", type=int, default=100_000, help="rows examined (a uniform subset beyond)"
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (an input is never replaced)",
    )
    p.set_defaults(func=cmd_constraints, read_input=read_input)


def add_fit_option(p) -> None:
    p.add_argument(
        "--constraints",
        metavar="RULES.json",
        help="rules every sampled row obeys (e.g. written by `tabgen constraints`)",
    )


def add_evaluate_option(p) -> None:
    p.add_argument(
        "--constraints",
        metavar="RULES.json",
        help="rules the rows should obey: their violations are counted in each table",
    )


def model_constraints(args) -> list | None:
    """The rules named by ``--constraints`` (``None`` without it)."""
    path = getattr(args, "constraints", None)
    if not path:
        return None
    from tabgen.constraints.files import read_rules

    return read_rules(path)


def cmd_constraints(args) -> int:
    from tabgen._output import check_output
    from tabgen.constraints import discover
    from tabgen.constraints.files import rules_to_json

    if args.output:
        check_output(args.output, overwrite=args.overwrite, inputs=[args.data])
    data = args.read_input(args.data)
    rules = discover(data, max_rows=args.max_rows)
    print(
        "note: the rules are read off the data (not differentially private); a fit with "
        "--epsilon refuses them unless their 'support' is deleted to declare them public",
        file=sys.stderr,
    )
    text = rules_to_json(rules)
    if args.output:
        from tabgen._output import write_text

        write_text(args.output, text + "\n")
        print(f"found {len(rules)} rule(s) -> {args.output}")
    else:
        print(text)
    return 0
