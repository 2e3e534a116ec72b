"""``procure store list|show|compare|export|delete``: the saved scenarios."""

from __future__ import annotations

from pathlib import Path

from procure.cli.common import EXIT_OK, check_out, print_json
from procure.cli.scenario import add_store_argument


def add_parsers(sub) -> None:
    s = sub.add_parser("store", help="saved scenarios: list, show, compare, export, delete")
    ssub = s.add_subparsers(dest="store_command", required=True)

    ls = ssub.add_parser("list", help="the saved scenarios (newest version of each)")
    ls.set_defaults(handler=_list)
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    add_store_argument(ls)

    sh = ssub.add_parser("show", help="one saved scenario: summary, changes, definition")
    sh.set_defaults(handler=_show)
    sh.add_argument("name")
    sh.add_argument("--version", type=int, help="an earlier version (default: the newest)")
    sh.add_argument("--json", action="store_true", help="print one JSON object")
    add_store_argument(sh)

    c = ssub.add_parser("compare", help="compare saved scenarios with a baseline")
    c.set_defaults(handler=_compare)
    c.add_argument("baseline")
    c.add_argument("names", nargs="+", metavar="NAME")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--out", type=Path, help="write the comparison workbook (.xlsx)")
    add_store_argument(c)

    e = ssub.add_parser("export", help="write a saved scenario's results workbook")
    e.set_defaults(handler=_export)
    e.add_argument("name")
    e.add_argument("--out", type=Path, required=True, help="the results workbook (.xlsx)")
    e.add_argument("--version", type=int, help="an earlier version (default: the newest)")
    add_store_argument(e)

    d = ssub.add_parser("delete", help="delete a saved scenario (every version, or one)")
    d.set_defaults(handler=_delete)
    d.add_argument("name")
    d.add_argument("--version", type=int, help="delete only this version")
    add_store_argument(d)


def _open(args):
    from procure.store import open_store

    return open_store(args.store)


def _money(v, currency: str) -> str:
    return "no plan" if v is None or v != v else f"{v:,.2f} {currency}"


def _list(args) -> int:
    with _open(args) as store:
        table = store.list()
        if args.json:
            records = [{**r, "saved_at": r["saved_at"].isoformat()}
                       for r in table.to_dict(orient="records")]
            print_json({"store": store.url_text, "scenarios": records})
            return EXIT_OK
        if table.empty:
            print(f"no scenarios in {store.url_text} (save one with "
                  "'procure scenario run FILE --save')")
            return EXIT_OK
        print(f"{len(table)} scenario(s) in {store.url_text}:")
        width = min(max(len(n) for n in table["name"]), 48)
        for r in table.itertuples(index=False):
            who = f" by {r.author}" if r.author else ""
            print(f"  {r.name:<{width}}  v{r.version:<3} {r.status:<10} "
                  f"{_money(r.total_cost, r.currency):>26}  {r.saved_at:%Y-%m-%d %H:%M}{who}")
    return EXIT_OK


def _show(args) -> int:
    with _open(args) as store:
        stored = store.load(args.name, args.version)
    if args.json:
        print_json({"name": stored.name, "version": stored.version,
                    "versions": stored.versions, "saved_at": stored.saved_at.isoformat(),
                    "author": stored.author, "description": stored.description,
                    "base_sha256": stored.sha256, "summary": stored.summary,
                    "stats": stored.stats, "warnings": stored.warnings,
                    "tables": {n: len(t) for n, t in stored.tables.items()},
                    "definition": stored.definition})
        return EXIT_OK
    print(f"{stored.name}  (version {stored.version} of {len(stored.versions)}, saved "
          f"{stored.saved_at:%Y-%m-%d %H:%M:%S %Z}" + (f" by {stored.author}" if stored.author
                                                       else "") + ")")
    if stored.description:
        print(f"  {stored.description}")
    print(f"  {stored.summary.get('message', stored.status)}")
    print(f"  base workbook sha256 {stored.sha256}")
    stats = stored.stats
    print(f"  solver {stats.get('solver')}, build {stats.get('build_seconds')} s, solve "
          f"{stats.get('solve_seconds')} s, gap {stats.get('mip_gap')}")
    print("  tables: " + ", ".join(f"{n} ({len(t)} rows)" for n, t in stored.tables.items()))
    print("\ndefinition:")
    for line in stored.definition.splitlines():
        print(f"  {line}")
    return EXIT_OK


def _compare(args) -> int:
    check_out(args.out)
    with _open(args) as store:
        comparison = store.compare(args.baseline, args.names)
    if args.out:
        comparison.to_excel(args.out)
    if args.json:
        print_json(comparison.to_dict())
        return EXIT_OK
    cur = comparison.currency
    table = comparison.scenarios
    width = min(max(len(n) for n in table["scenario"]), 48)
    print(f"against the baseline '{comparison.baseline}' ({cur}):")
    for r in table.itertuples(index=False):
        if r.total_cost != r.total_cost:
            print(f"  {r.scenario:<{width}}  {r.status}: {r.infeasibility}")
            continue
        change = "" if r.scenario == comparison.baseline else (
            f"  {r.delta:+,.2f} ({r.delta_pct:+.2f} %)" if r.delta == r.delta else "")
        print(f"  {r.scenario:<{width}}  {r.total_cost:>22,.2f}{change}  "
              f"[{r.suppliers_used} suppliers, {r.binding_rules} binding rules"
              + (f", unmet {r.unmet_demand:,.0f}" if r.unmet_demand else "") + "]")
    if args.out:
        print(f"comparison written to {args.out}")
    return EXIT_OK


def _export(args) -> int:
    check_out(args.out)
    with _open(args) as store:
        stored = store.load(args.name, args.version)
    stored.to_excel(args.out)
    print(f"results of '{stored.name}' version {stored.version} written to {args.out}")
    return EXIT_OK


def _delete(args) -> int:
    with _open(args) as store:
        n = store.delete(args.name, args.version)
    what = f"version {args.version} of" if args.version is not None else (
        f"{n} version{'s' if n != 1 else ''} of")
    print(f"deleted {what} '{args.name}'")
    return EXIT_OK
