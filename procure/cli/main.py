"""``procure`` on the command line.

Exit codes: 0 a plan was found (or the workbook is valid), 1 no plan
(infeasible, time limit without a plan, solver error), 2 bad input or usage.
Input problems are printed as a list, never as a traceback.

Each command group lives in its own module of this package with two functions:
``add_parsers(sub)`` adds its sub-commands (each sets ``handler``), and the handlers
take the parsed arguments and return the exit code. :data:`COMMAND_MODULES` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from procure.cli.common import EXIT_INPUT, problem_record
from procure.data.errors import InputError

#: modules whose ``add_parsers`` add sub-commands, in the order ``procure --help`` lists them
COMMAND_MODULES = (
    "procure.cli.plan",  # solve, validate, template, export
    "procure.cli.scenario",  # scenario run, scenario check
    "procure.cli.store",  # store list, show, compare, export, delete
    "procure.cli.cooperation",  # share, rule-cost, sweep
    "procure.cli.security",  # stress, disrupt, harmonise
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="procure", description="Cooperative defence procurement optimiser.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"status": "input_error",
                              "problems": [problem_record(p) for p in exc.problems]}))
        print(exc.report(), file=sys.stderr)
        return EXIT_INPUT
    except ValueError as exc:  # bad option values (unknown solver, ...)
        print(f"procure: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
