"""``procure share``, ``procure rule-cost`` and ``procure sweep``: what cooperation is worth,
what each rule costs, and how the cost moves along a parameter (docs/cooperation.md).

Each solves many variants of one workbook on the many-solve engine (``--workers``, or a Dask
cluster with ``--scheduler``); a progress bar shows on stderr when it is a terminal, and
``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from procure.cli.common import (
    EXIT_NO_PLAN,
    EXIT_OK,
    check_out,
    parse_range,
    progress_bar,
    report,
)


def _many_options(p, *, time_limit_help: str = "seconds per solve (default: Settings sheet, else none)") -> None:
    p.add_argument("workbook", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786): solve on that cluster")
    p.add_argument("--time-limit", type=float, help=time_limit_help)
    p.add_argument("--mip-gap", type=float, help="relative gap of every solve (default: Settings sheet, "
                                                 "else the engine's default)")


def add_parsers(sub) -> None:
    s = sub.add_parser("share", help="fair shares: Shapley, nucleolus, proportional, and the core check")
    s.set_defaults(handler=_share)
    _many_options(s)
    s.add_argument("--method", default="all", choices=("all", "shapley", "nucleolus", "proportional"),
                   help="the split whose savings are reported (default all: every split, savings on Shapley)")
    s.add_argument("--samples", type=int, help="a budget of coalition solves for a sampled Shapley "
                                               "estimate (default: exact up to 12 partners, else 4000)")
    s.add_argument("--seed", type=int, default=0, help="random seed of the sampled estimate")
    s.add_argument("--design", default=None, choices=("plain", "antithetic", "stratified", "poststratified"),
                   help="how random orders are drawn for a sampled estimate (default poststratified)")
    s.add_argument("--out", type=Path, help="results workbook (.xlsx) with a FairShares sheet")
    s.add_argument("--plot", type=Path, help="fair shares per partner as a plotly HTML chart")

    r = sub.add_parser("rule-cost", help="the price of every rule: the cost of sovereignty")
    r.set_defaults(handler=_rule_cost)
    _many_options(r)
    r.add_argument("--out", type=Path, help="results workbook (.xlsx) with a RuleCost sheet")
    r.add_argument("--plot", type=Path, help="rule prices as a plotly HTML chart")

    w = sub.add_parser("sweep", help="the pool's and each partner's cost along a rule's share or "
                                     "quantity, or a supplier's capacity")
    w.set_defaults(handler=_sweep)
    _many_options(w)
    w.add_argument("--rule", help="the rule to sweep: its id (Rules!7), name or label")
    w.add_argument("--share", help="START:STOP:STEP of the rule's share (0.5:0.9:0.05)")
    w.add_argument("--quantity", help="START:STOP:STEP of the rule's quantity")
    w.add_argument("--capacity", metavar="SUPPLIER", help="the supplier whose capacity to scale")
    w.add_argument("--factor", help="START:STOP:STEP of the capacity factor (0:1:0.1)")
    w.add_argument("--plot", type=Path, help="the cost curve as a plotly HTML chart")


def _read(args):
    from procure.data.io import read_workbook
    from procure.engine.solve import check_solver_options

    check_solver_options(time_limit=args.time_limit, mip_gap=args.mip_gap, source="command line")
    for path, suffix in ((getattr(args, "out", None), ".xlsx"), (getattr(args, "plot", None), ".html")):
        check_out(path, suffix)
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    data = read_workbook(args.workbook)
    for w in data.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return data


def _options(args) -> dict:
    return dict(workers=args.workers, scheduler=args.scheduler, time_limit=args.time_limit,
                mip_gap=args.mip_gap)


def _money(value, width: int = 18) -> str:
    if value is None or not np.isfinite(value):
        return f"{'-':>{width}}"
    return f"{value:>{width},.0f}"


# -- share ------------------------------------------------------------------------------------

def _share(args) -> int:
    from procure.analysis.cooperation import DEFAULT_DESIGN, fair_shares

    data = _read(args)
    with progress_bar("coalitions") as progress:
        fs = fair_shares(data, args.method, samples=args.samples, seed=args.seed, progress=progress,
                         design=args.design or DEFAULT_DESIGN, **_options(args))
    if args.out:
        from procure.engine.solve import solve

        solve(data, time_limit=args.time_limit, mip_gap=args.mip_gap).to_excel(
            args.out, extra={"FairShares": fs.table})
    from procure.charts.cooperation import fair_share_bars

    report(args, lambda: fair_share_bars(fs.table, fs.currency), fs.to_dict, lambda: _print_shares(fs),
           files=(args.out,))
    return EXIT_OK if np.isfinite(fs.grand) else EXIT_NO_PLAN


def _largest(values: np.ndarray) -> float:
    """The largest value, NaN when there is none (an infeasible game has no shares)."""
    values = values[~np.isnan(values)]
    return float(values.max()) if len(values) else float("nan")


def _print_shares(fs) -> None:
    cur = fs.currency
    how = "every coalition solved" if fs.exact else f"sampled, {fs.sampling['orders']:,} orders" \
        if fs.sampling else "stand-alone costs only"
    print(f"Fair shares of the pool's cost {_money(fs.grand, 0)} {cur} ({len(fs.table)} partners, "
          f"{fs.coalitions_solved:,} coalitions solved: {how})")
    sampled = not fs.exact and fs.sampling is not None
    head = ["alone", "proportional", "Shapley" + (" (+- s.e.)" if sampled else ""), "nucleolus",
            f"saves ({fs.chosen})", "brings"]
    # a sampled share with its standard error needs a wider column than a sum of money
    widths = [22, 22, 34 if sampled else 22, 22, 22, 22]
    print(f"  {'partner':<10}" + "".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for row in fs.table.itertuples(index=False):
        shap = _money(row.shapley, widths[2])
        if sampled and np.isfinite(row.shapley):
            shap = f"{row.shapley:,.0f} +- {row.shapley_se:,.0f}".rjust(widths[2])
        print(f"  {row.partner:<10}{_money(row.standalone, 22)}{_money(row.proportional, 22)}{shap}"
              f"{_money(row.nucleolus, 22)}{_money(row.savings, 22)}{_money(row.value_brought, 22)}")
    print(fs.core_sentence())
    if fs.null_partners:
        print(fs.null_sentence())
    if fs.least_core_value is not None and np.isfinite(fs.least_core_value):
        state = "not empty" if fs.core_nonempty else "empty"
        print(f"Least-core value {fs.least_core_value:,.0f} {cur}: the core is {state}.")
    if fs.unproven_coalitions:
        worst = _largest(fs.table["shapley_gap"].to_numpy(dtype=float))
        if np.isnan(worst):  # no shares to bound
            moved = ""
        elif np.isinf(worst):
            moved = "; with no bound on some of them, the Shapley shares have none either"
        else:
            moved = (f"; a Shapley share may be up to {_money(worst, 0).strip()} {cur} from its "
                     "value on exact costs")
        print(f"warning: {len(fs.unproven_coalitions)} coalition cost(s) were not proven optimal "
              f"(a time limit or the gap asked): the shares rest on them{moved}")


# -- rule cost --------------------------------------------------------------------------------

def _rule_cost(args) -> int:
    from procure.analysis.cooperation import rule_costs

    data = _read(args)
    with progress_bar("rules") as progress:
        rc = rule_costs(data, progress=progress, **_options(args))
    if args.out:
        rc.result.to_excel(args.out, extra={"RuleCost": rc.sheet()})
    from procure.charts.cooperation import rule_price_bars

    report(args, lambda: rule_price_bars(rc.table, rc.currency), rc.to_dict, lambda: _print_rule_costs(rc),
           files=(args.out,))
    return EXIT_OK if np.isfinite(rc.base) else EXIT_NO_PLAN


def _print_rule_costs(rc) -> None:
    from procure.analysis.games import default_tolerance

    cur = rc.currency
    if not np.isfinite(rc.base):
        print("The pool has no feasible plan with every rule: each rule's line says what the pool "
              "would cost without it.")
    else:
        print(f"The cost of sovereignty: what each rule costs the pool ({_money(rc.base, 0)} {cur} "
              "with every rule), dearest first")
    print(f"  {'rule':<10} {'price':>18} {'% of pool':>10}  {'pays most':<24} name")
    tolerance = default_tolerance(rc.base) if np.isfinite(rc.base) else np.inf
    for row in rc.table.itertuples(index=False):
        mine = rc.partners[rc.partners["rule_id"] == row.rule_id].dropna(subset=["delta"])
        top = ""
        # a rule priced at 0 (within the gap) may still move costs between partners when the
        # pool has several optimal plans: name a payer only for a rule that costs something
        if len(mine) and np.isfinite(row.price) and row.price > tolerance:
            k = mine["delta"].idxmax()
            top = f"{mine.at[k, 'partner']} {mine.at[k, 'delta']:,.0f}"
        pct = f"{row.price_pct:.2%}" if np.isfinite(row.price_pct) else "-"
        price = _money(row.price) if row.status in ("optimal", "feasible") else f"{row.status:>18}"
        print(f"  {row.rule_id:<10} {price} {pct:>10}  {top:<24} {row.name}")


# -- sweep ------------------------------------------------------------------------------------

def _sweep(args) -> int:
    from procure.analysis.sweep import sweep

    data = _read(args)
    ranges = {}
    for name in ("share", "quantity", "factor"):
        text = getattr(args, name)
        if text is not None:
            ranges[name] = parse_range(text, f"--{name}")
    with progress_bar("sweep") as progress:
        sw = sweep(data, rule=args.rule, capacity=args.capacity, progress=progress, **ranges,
                   **_options(args))
    for w in sw.warnings:
        print(f"warning: {w}", file=sys.stderr)
    from procure.charts.cooperation import sweep_curve

    report(args, lambda: sweep_curve(sw.table, sw.partners, sw.currency, sw.parameter), sw.to_dict,
           lambda: _print_sweep(sw))
    return EXIT_OK if np.isfinite(sw.table["cost"].to_numpy(dtype=float)).any() else EXIT_NO_PLAN


def _print_sweep(sw) -> None:
    cur = sw.currency
    print(f"The pool's cost along the {sw.parameter}:")
    partners = list(dict.fromkeys(sw.partners["partner"]))
    wide = sw.partners.pivot(index="value", columns="partner", values="cost").reindex(columns=partners)
    print(f"  {'value':>10} {'status':<12} {'pool (' + cur + ')':>18}" + "".join(f"{p:>14}" for p in partners))
    for row in sw.table.itertuples(index=False):
        costs = "".join(_money(wide.at[row.value, p], 14) for p in partners) if row.value in wide.index else ""
        print(f"  {row.value:>10g} {row.status:<12} {_money(row.cost)}{costs}")
    if sw.infeasible:
        print("no plan at: " + ", ".join(f"{v:g}" for v in sw.infeasible))
