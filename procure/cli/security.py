"""``procure stress``, ``disrupt`` and ``harmonise``: supply-chain security and standards."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from procure.cli.common import EXIT_INPUT, EXIT_NO_PLAN, EXIT_OK, check_out, report


def add_parsers(sub) -> None:
    s = sub.add_parser("stress", help="re-plan without each supplier (and country): what each loss costs")
    s.set_defaults(handler=_stress)
    s.add_argument("workbook", type=Path)
    s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    s.add_argument("--countries", action="store_true", help="also without every supplier of each country")
    s.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    s.add_argument("--no-diagnose", action="store_true",
                   help="do not diagnose the re-plans that have no plan (faster)")
    s.add_argument("--plot", type=Path, help="write the stress chart as an .html file")
    _solver_options(s)

    d = sub.add_parser("disrupt", help="Monte Carlo: suppliers fail at random; the distribution of cost and unmet demand")
    d.set_defaults(handler=_disrupt)
    d.add_argument("workbook", type=Path)
    d.add_argument("--probability", type=float,
                   help="each supplier's chance to fail (default: Suppliers.failure_probability)")
    d.add_argument("--samples", type=int, default=500, help="random draws (default 500)")
    d.add_argument("--seed", type=int, default=1, help="random seed (default 1): same seed, same numbers")
    d.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    d.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    d.add_argument("--plot", type=Path, help="write the cost histogram as an .html file")
    _solver_options(d)

    h = sub.add_parser("harmonise", help="the value of each Substitutes row (which standard to harmonise first)")
    h.set_defaults(handler=_harmonise)
    h.add_argument("workbook", type=Path)
    h.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    h.add_argument("--candidates", action="store_true",
                   help="also value the rows a planner might add, ranked by saving")
    h.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    h.add_argument("--plot", type=Path, help="write the chart as an .html file")
    _solver_options(h)


def _solver_options(p) -> None:
    p.add_argument("--time-limit", type=float, help="seconds per solve (default: Settings sheet)")
    p.add_argument("--mip-gap", type=float, help="relative gap (default: Settings sheet)")


@contextmanager
def _progress(label: str, quiet: bool):
    """A tqdm bar on stderr (none for --json runs that are piped, or quiet ones)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="solve", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _read(args):
    from procure.data.io import read_workbook
    from procure.engine.solve import check_solver_options

    check_out(getattr(args, "plot", None), ".html")
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    check_solver_options(time_limit=args.time_limit, mip_gap=args.mip_gap, source="command line")
    data = read_workbook(args.workbook)
    for w in data.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return data


def _money(value, currency: str) -> str:
    return "no plan" if value is None or value != value else f"{value:,.0f} {currency}"


def _stress(args) -> int:
    from procure.analysis.security import stress_test

    data = _read(args)
    with _progress("stress test", args.json) as progress:
        st = stress_test(data, countries=args.countries, workers=args.workers, progress=progress,
                         time_limit=args.time_limit, mip_gap=args.mip_gap,
                         diagnose=not args.no_diagnose)
    from procure.charts.security import stress_bars

    def human() -> None:
        cur = st.currency
        print(f"plan: {st.base['status']}, total cost {_money(st.base['total_cost'], cur)}")
        for kind in ("supplier", "country"):
            rows = st.table[st.table["kind"] == kind]
            if rows.empty:
                continue
            print(f"\nWithout each {kind} (worst first):")
            for r in rows.itertuples(index=False):
                if r.status in ("optimal", "feasible"):
                    short = f", {r.shortfall_units:,.6g} units unmet" if r.shortfall_units > 0 else ""
                    print(f"  {r.lost:<10} +{r.delta:>18,.0f} {cur} ({r.delta_share:+.2%}){short}"
                          + ("" if r.status == "optimal" else f" [{r.status}]"))
                else:
                    print(f"  {r.lost:<10} {r.status}" + (f": {r.diagnosis}" if r.diagnosis else ""))

    report(args, lambda: stress_bars(st.table, currency=st.currency), st.to_dict, human)
    return EXIT_OK if st.base["status"] in ("optimal", "feasible") else EXIT_NO_PLAN


def _disrupt(args) -> int:
    from procure.analysis.security import disrupt, failure_probabilities

    data = _read(args)
    if args.samples < 1:
        raise ValueError("--samples must be at least 1")
    try:
        failure_probabilities(data, args.probability)
    except ValueError as exc:
        print(f"procure: {exc}", file=sys.stderr)
        return EXIT_INPUT
    with _progress("disruption draws", args.json) as progress:
        mc = disrupt(data, probability=args.probability, samples=args.samples, seed=args.seed,
                     workers=args.workers, progress=progress, time_limit=args.time_limit,
                     mip_gap=args.mip_gap)
    from procure.charts.security import disruption_histogram

    def human() -> None:
        cur = mc.currency
        pool = mc.table.set_index("who").loc["pool"]
        print(f"{len(mc.samples)} draws (seed {mc.seed}), {mc.distinct} distinct sets of failures solved")
        print(f"plan without failures: {_money(mc.base['total_cost'], cur)}")
        print(f"total cost over the draws with a plan: mean {_money(pool['mean_cost'], cur)} "
              f"(+/- {pool['std_error']:,.0f}), 5 % {_money(pool['p5'], cur)}, median "
              f"{_money(pool['p50'], cur)}, 95 % {_money(pool['p95'], cur)}")
        print(f"probability that some demand goes unmet: {pool['p_unmet']:.1%} "
              f"(no plan at all: {pool['p_no_plan']:.1%})")
        print("\nPer partner: mean cost, 95 % cost, mean units unmet, probability of a shortfall")
        for r in mc.table[mc.table["who"] != "pool"].itertuples(index=False):
            print(f"  {r.who:<8} {_money(r.mean_cost, cur):>24} {_money(r.p95, cur):>24} "
                  f"{r.mean_shortfall:>12,.4g} {r.p_unmet:>7.1%}")

    report(args, lambda: disruption_histogram(mc.samples, currency=mc.currency, base=mc.base["total_cost"]),
           mc.to_dict, human)
    return EXIT_OK


def _harmonise(args) -> int:
    from procure.analysis.harmonise import harmonise

    data = _read(args)
    with _progress("harmonisation", args.json) as progress:
        h = harmonise(data, candidates=args.candidates, workers=args.workers, progress=progress,
                      time_limit=args.time_limit, mip_gap=args.mip_gap)
    from procure.charts.security import harmonise_bars

    def human() -> None:
        cur = h.currency
        print(f"plan with every Substitutes row: {_money(h.base['total_cost'], cur)}")
        rows = h.table[h.table["kind"] == "row"]
        if rows.empty:
            print("the workbook has no Substitutes row")
        else:
            print("\nWhat each Substitutes row saves the pool (cost without it minus with all):")
            for r in rows.itertuples(index=False):
                who = r.partner or "every partner"
                print(f"  {r.row_id:<16} {who}: {r.substitute} for {r.item}: {_money(r.value, cur)}")
            print(f"  all rows together: {_money(h.all, cur)}")
        cand = h.table[h.table["kind"] == "candidate"]
        if args.candidates:
            if cand.empty:
                print("\nno candidate: no partner demands an item without accepting its variants")
            else:
                print("\nRows a planner might add, by saving:")
                for r in cand.itertuples(index=False):
                    print(f"  {r.partner}: {r.substitute} for {r.item}: {_money(r.value, cur)}")

    report(args, lambda: harmonise_bars(h.table, currency=h.currency), h.to_dict, human)
    return EXIT_OK if h.base["status"] in ("optimal", "feasible") else EXIT_NO_PLAN
