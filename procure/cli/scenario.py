"""``procure scenario run`` and ``procure scenario check``: what-if questions in TOML files."""

from __future__ import annotations

import sys
from pathlib import Path

from procure.cli.common import EXIT_NO_PLAN, EXIT_OK, check_out, print_json


def add_parsers(sub) -> None:
    s = sub.add_parser("scenario", help="run or check a scenario file (a base workbook and "
                                         "changes, in TOML)")
    ssub = s.add_subparsers(dest="scenario_command", required=True)

    r = ssub.add_parser("run", help="apply a scenario's changes, solve and report")
    r.set_defaults(handler=_run)
    r.add_argument("file", type=Path, help="the scenario file (.toml)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object: the one of 'procure solve --json' plus "
                        "\"scenario\"")
    r.add_argument("--out", type=Path, help="write a formatted results workbook (.xlsx)")

    c = ssub.add_parser("check", help="check a scenario file and its base without solving")
    c.set_defaults(handler=_check)
    c.add_argument("file", type=Path, help="the scenario file (.toml)")
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _load(path: Path):
    from procure.analysis.scenario import Scenario

    scenario = Scenario.from_toml(path)
    return scenario, scenario.apply()


def _run(args) -> int:
    from procure.cli.plan import _print_human
    from procure.engine.solve import solve

    check_out(args.out)
    scenario, data = _load(args.file)
    for w in data.warnings:
        print(f"warning: {w}", file=sys.stderr)
    result = solve(data, solver=scenario.solver.get("solver", "highs"))
    if args.out:
        result.to_excel(args.out)
    if args.json:
        summary = {"scenario": scenario.name, **result.summary()}
        print_json(summary)
    else:
        print(f"scenario: {scenario.name}")
        for line in scenario.changes():
            print(f"  {line}")
        _print_human(result)
        if args.out:
            print(f"results written to {args.out}")
    return EXIT_OK if result.has_plan else EXIT_NO_PLAN


def _check(args) -> int:
    scenario, data = _load(args.file)
    if args.json:
        print_json({"status": "valid", "scenario": scenario.name, "changes": scenario.changes(),
                    "summary": data.summary(), "warnings": list(data.warnings)})
        return EXIT_OK
    counts = ", ".join(f"{v} {k}" for k, v in data.summary().items())
    print(f"{args.file}: valid scenario '{scenario.name}' ({counts} after the changes)")
    for line in scenario.changes() or ["no changes: the base as it is"]:
        print(f"  {line}")
    for w in data.warnings:
        print(f"warning: {w}")
    return EXIT_OK
