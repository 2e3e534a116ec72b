"""``procure scenario run`` and ``procure scenario check``: what-if questions in TOML files."""

from __future__ import annotations

import sys
from pathlib import Path

from procure.cli.common import EXIT_NO_PLAN, EXIT_OK, check_out, print_json


def add_parsers(sub) -> None:
    s = sub.add_parser("scenario", help="run or check a scenario file (a base workbook and "
                                         "changes, in TOML)")
    ssub = s.add_subparsers(dest="scenario_command", required=True)

    r = ssub.add_parser("run", help="apply a scenario's changes, solve, report (and save)")
    r.set_defaults(handler=_run)
    r.add_argument("file", type=Path, help="the scenario file (.toml)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object: the one of 'procure solve --json' plus "
                        "\"scenario\"")
    r.add_argument("--out", type=Path, help="write a formatted results workbook (.xlsx)")
    r.add_argument("--save", action="store_true", help="keep the scenario and its results in "
                                                       "the store")
    r.add_argument("--replace", action="store_true",
                   help="with --save: save a new version of a name the store has (the old one "
                        "is kept as an earlier version)")
    r.add_argument("--author", default="", help="with --save: who saves it (free text)")
    add_store_argument(r)

    c = ssub.add_parser("check", help="check a scenario file and its base without solving")
    c.set_defaults(handler=_check)
    c.add_argument("file", type=Path, help="the scenario file (.toml)")
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_store_argument(parser) -> None:
    parser.add_argument("--store", metavar="URL",
                        help="the store: a SQLAlchemy URL (sqlite:///file.db, "
                             "postgresql://user@host/db); default $PROCURE_STORE, else a SQLite "
                             "file in your user data folder")


def _load(path: Path):
    from procure.analysis.scenario import Scenario

    scenario = Scenario.from_toml(path)
    return scenario, scenario.apply()


def _run(args) -> int:
    from procure.cli.plan import _print_human
    from procure.engine.solve import solve

    check_out(args.out)
    if args.replace and not args.save:
        raise ValueError("--replace only applies with --save")
    scenario, data = _load(args.file)
    store = None
    if args.save:  # open the store first: a bad --store fails before the solve
        from procure.store import open_store

        store = open_store(args.store)
    for w in data.warnings:
        print(f"warning: {w}", file=sys.stderr)
    result = solve(data, solver=scenario.solver.get("solver", "highs"))
    version = None
    if store is not None:
        try:
            version = store.save(scenario, result, author=args.author, replace=args.replace)
        finally:
            store.close()
    if args.out:
        result.to_excel(args.out)
    if args.json:
        summary = {"scenario": scenario.name, **result.summary()}
        if version is not None:
            summary["saved"] = {"store": store.url_text, "version": version}
        print_json(summary)
    else:
        print(f"scenario: {scenario.name}")
        for line in scenario.changes():
            print(f"  {line}")
        _print_human(result)
        if args.out:
            print(f"results written to {args.out}")
        if version is not None:
            print(f"saved as '{scenario.name}' version {version} in {store.url_text}")
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
