"""``procure solve``, ``validate``, ``template`` and ``export``: one workbook, one plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from procure.cli.common import EXIT_NO_PLAN, EXIT_OK, check_out
from procure.data.jsonable import json_ready


def add_parsers(sub) -> None:
    s = sub.add_parser("solve", help="solve a workbook and report the plan")
    s.set_defaults(handler=_solve)
    s.add_argument("workbook", type=Path)
    s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    s.add_argument("--out", type=Path, help="write a formatted results workbook (.xlsx)")
    s.add_argument("--time-limit", type=_option_type("time_limit"),
                   help="seconds, > 0 (default: Settings sheet, else none)")
    s.add_argument("--mip-gap", type=_option_type("mip_gap"),
                   help="relative gap in [0, 1), 0.01 = 1 %% (default: Settings sheet, else "
                        "1e-6: a plan proven optimal)")
    s.add_argument("--solver", default="highs", help="highs (default), cbc, or a PuLP solver name")
    s.add_argument("--verbose", action="store_true", help="show the solver's log on stderr")
    s.add_argument("--savings", action="store_true",
                   help="also solve each partner alone and report what pooling saves it")

    v = sub.add_parser("validate", help="check a workbook against the contract")
    v.set_defaults(handler=_validate)
    v.add_argument("workbook", type=Path)
    v.add_argument("--json", action="store_true")

    t = sub.add_parser("template", help="write a blank workbook with help")
    t.set_defaults(handler=_template)
    t.add_argument("out", type=Path)

    e = sub.add_parser("export", help="write the model as .lp or .mps (through PuLP)")
    e.set_defaults(handler=_export)
    e.add_argument("workbook", type=Path)
    group = e.add_mutually_exclusive_group(required=True)
    group.add_argument("--lp", type=Path)
    group.add_argument("--mps", type=Path)


def _option_type(name: str):
    """An argparse type for ``--time-limit`` / ``--mip-gap``: the range check of
    :func:`procure.engine.solve.check_solver_options`, so a value out of range is a usage
    error (exit 2) with the same message and fix as in ``procure.solve``."""
    import argparse

    from procure.data.errors import InputError
    from procure.engine.solve import check_solver_options

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = text
        try:
            check_solver_options(**{name: value}, source="command line")
        except InputError as exc:
            (problem,) = exc.problems
            raise argparse.ArgumentTypeError(f"{text}: {problem.message}; {problem.fix}") from None
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def _solve(args) -> int:
    from procure.data.io import read_workbook
    from procure.engine.solve import solve

    check_out(args.out)
    data = read_workbook(args.workbook)
    for w in data.warnings:
        print(f"warning: {w}", file=sys.stderr)
    result = solve(data, time_limit=args.time_limit, mip_gap=args.mip_gap, solver=args.solver,
                   verbose=args.verbose)
    saved = None
    if args.savings and result.has_plan:
        from procure.analysis.sharing import savings

        saved = savings(data, result, time_limit=args.time_limit, mip_gap=args.mip_gap)
    if args.out:
        result.to_excel(args.out, extra=None if saved is None else {"Savings": saved})
    if args.json:
        summary = result.summary()
        if saved is not None:
            summary["savings"] = saved.to_dict(orient="records")
        print(json.dumps(json_ready(summary)))
    else:
        _print_human(result, data.items)
        if saved is not None:
            _print_savings(saved, result.currency)
        if args.out:
            print(f"results written to {args.out}")
    return EXIT_OK if result.has_plan else EXIT_NO_PLAN


def _print_human(result, items=None) -> None:
    print(result.message)
    if result.diagnosis is not None:
        print(result.diagnosis)
    if result.check is not None and not result.check.ok:
        print(result.check)
    if not result.has_plan:
        return
    cur = result.currency
    for part in ("purchase", "setup", "transport", "shortfall"):
        print(f"  {part:<10} {getattr(result, part):>20,.2f} {cur}")
    print(f"  {'total':<10} {result.total_cost:>20,.2f} {cur}")
    costs = result.partner_costs
    if len(costs):
        print("\nCost per partner (proportional sharing):")
        for row in costs.itertuples(index=False):
            print(f"  {row.partner:<12} {row.total:>20,.2f} {cur}")
    binding = result.rules[result.rules["binds"] & (result.rules["rule"] != "ban")] if len(result.rules) else []
    if len(binding):
        print("\nBinding rules:")
        for label in dict.fromkeys(binding["name"]):
            print(f"  {label}")
    _print_marginal_costs(result, items)


def _print_marginal_costs(result, items, limit: int = 10) -> None:
    """The largest demand marginal costs, saying what the duals are (LP or fixed-MIP)."""
    from procure.engine.results import marginal_sentences

    lines = marginal_sentences(result, limit, items)
    if not lines:
        return
    label = {"lp": "LP duals", "fixed_mip": "fixed-MIP duals, given the contracts chosen"}[
        result.duals_basis]
    print(f"\nMarginal costs ({label}); the {len(lines)} largest, all in the DemandDuals sheet "
          "of --out:")
    for line in lines:
        print(f"  {line}")


def _print_savings(saved, currency: str) -> None:
    print(f"\nWhat pooling saves each partner (alone vs its proportional share), {currency}:")
    for row in saved.itertuples(index=False):
        alone = "infeasible alone" if row.status != "optimal" else f"{row.standalone_cost:>20,.2f}"
        pct = "" if row.saving_pct != row.saving_pct else f" ({row.saving_pct:.1%})"
        print(f"  {row.partner:<12} alone {alone}  pooled {row.pooled_cost:>20,.2f}  "
              f"saves {row.saving:>18,.2f}{pct}")
    total = saved["saving"].sum()
    print(f"  {'total':<12} saves {total:,.2f} {currency}" + (" (pooling costs more: reported, not hidden)"
                                                          if total < 0 else ""))


def _validate(args) -> int:
    from procure.data.io import read_workbook

    data = read_workbook(args.workbook)
    if args.json:
        print(json.dumps({"status": "valid", "summary": data.summary(), "warnings": list(data.warnings)}))
    else:
        counts = ", ".join(f"{v} {k}" for k, v in data.summary().items())
        print(f"{args.workbook}: valid ({counts})")
        for w in data.warnings:
            print(f"warning: {w}")
    return EXIT_OK


def _template(args) -> int:
    from procure.data.template import write_template

    check_out(args.out)
    write_template(args.out)
    print(f"blank template written to {args.out}")
    return EXIT_OK


def _export(args) -> int:
    from procure.data.io import read_workbook
    from procure.engine.model import build_model
    from procure.engine.pulp_door import write_lp, write_mps

    target = args.lp or args.mps
    data = read_workbook(args.workbook)
    model = build_model(data)
    (write_lp if args.lp else write_mps)(model, target)
    print(f"model written to {target} ({model.num_cols} variables, {model.num_rows} constraints)")
    return EXIT_OK
