"""Benchmarks of the cooperation measures (figures in benchmarks/README.md).

    python -m benchmarks.cooperation shapley --workers 2 --repeats 3 --save demo_costs.json
    python -m benchmarks.cooperation ablation --start 1024 --count 512 --repeats 3
    python -m benchmarks.cooperation sampling --costs demo_costs.json --budget 600 --repeats 300
    python -m benchmarks.cooperation pool30 --workers 2 --samples 9000

* ``shapley``: exact fair shares of the 12-partner demo (all 4,096 coalitions), wall time per
  repeat, node counts, how many coalitions went to HiGHS's MIP or to the literal model;
  ``--save`` keeps the coalition costs for ``sampling``.
* ``ablation``: CPU time and nodes per coalition in one process with each part of the search
  switched on in turn (pool-rule caps, the last plan as first incumbent, pseudo-costs).
* ``sampling``: the sampling designs of sampled Shapley on the demo's exact game (no solve:
  the saved costs): for the same budget of coalition solves, the error against the exact
  values (root mean square over repeats, as % of c(P)), the mean reported standard error and
  how often the exact value lies within 3 reported standard errors.
* ``pool30``: sampled Shapley of the generated 30-partner pool (benchmarks/pool30.py):
  wall time and the largest standard error as % of c(P).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def _save(path: str, partners, costs) -> None:
    rows = [{"coalition": sorted(c), "cost": None if not np.isfinite(v) else float(v)}
            for c, v in costs.items()]
    with open(path, "w") as f:
        json.dump({"partners": list(partners), "costs": rows}, f)


def _load(path: str):
    with open(path) as f:
        raw = json.load(f)
    costs = {frozenset(r["coalition"]): (np.nan if r["cost"] is None else r["cost"]) for r in raw["costs"]}
    return raw["partners"], costs


def without_whole_units(data):
    """Every item's deliveries continuous (the demo's four whole-unit items included)."""
    return data.replace(items=data.items.assign(whole_units=False))


def without_security(data):
    """The demo without its supply-chain security and standards additions (the N-1 rule, whole
    units, Substitutes rows): the demo the exact-Shapley speed target was first set on."""
    return without_whole_units(data).replace(
        rules=data.rules[data.rules["rule"] != "n_minus_1"].reset_index(drop=True),
        substitutes=data.substitutes.iloc[0:0])


def shapley(ns) -> None:
    import procure
    from procure.analysis.cooperation import every_coalition
    from procure.analysis.many import Variant, solve_variants

    data = procure.datasets.load_demo()
    if ns.without_security:
        data = without_security(data)
    if ns.without_whole_units:
        data = without_whole_units(data)
    partners = list(data.partners["partner"])
    coalitions = [c for c in every_coalition(partners) if c]
    walls, cpus, loads = [], [], []
    for _ in range(ns.repeats):
        loads.append(os.getloadavg()[0])
        start = time.perf_counter()
        table = solve_variants(data, [Variant(label=c, members=c) for c in coalitions],
                               workers=ns.workers, mip_gap=ns.mip_gap,
                               engine_options=dict(lazy_n1=not ns.whole_n1_blocks))
        from procure.analysis.games import nucleolus, shapley_from_costs

        costs = {frozenset(): 0.0, **dict(zip(table["label"], table["cost"], strict=True))}
        shapley_from_costs(partners, costs)
        nucleolus(partners, costs)
        walls.append(time.perf_counter() - start)
        cpus.append(float(table["cpu_seconds"].sum()))
    paths = table["path"].value_counts().to_dict()
    statuses = table["status"].value_counts().to_dict()
    variant = ", ".join(n for n, on in (("without security", ns.without_security),
                                        ("without whole units", ns.without_whole_units),
                                        ("every N-1 block in the model", ns.whole_n1_blocks)) if on)
    print(f"exact Shapley + nucleolus of the demo{f' ({variant})' if variant else ''}, "
          f"{len(coalitions):,} coalitions, {ns.workers} worker(s), "
          f"gap {ns.mip_gap if ns.mip_gap is not None else 'default'}: median {statistics.median(walls):.1f} s "
          f"over {ns.repeats} (all: {', '.join(f'{w:.1f}' for w in walls)}; load average at the start "
          f"{', '.join(f'{v:.1f}' for v in loads)})")
    print(f"CPU seconds in the solves: median {statistics.median(cpus):.1f} (all: "
          f"{', '.join(f'{c:.1f}' for c in cpus)}), i.e. {statistics.median(cpus) / ns.workers:.1f} s of "
          f"solving per worker")
    print(f"statuses {statuses}; paths {paths}; nodes: median {table['nodes'].median():.0f}, "
          f"mean {table['nodes'].mean():.1f}, max {table['nodes'].max()}")
    by_size = table.assign(size=[len(c) for c in table["label"]]).groupby("size")["seconds"].median() * 1000
    print("median ms per solve by coalition size: " + ", ".join(f"{k}: {v:.0f}" for k, v in by_size.items()))
    if ns.save:
        _save(ns.save, partners, costs)
        print(f"coalition costs saved to {ns.save}")


def ablation(ns) -> None:
    """What each part of the search saves: CPU time and nodes per coalition in one process, on
    ``--count`` consecutive demo coalitions in Gray-code order from ``--start`` (as a worker
    of the exact game meets them), each configuration on the same coalitions in turn
    (``--repeats`` rounds; medians)."""
    import procure
    from procure.analysis.cooperation import every_coalition
    from procure.analysis.many import ManyEngine, Variant

    data = procure.datasets.load_demo()
    coalitions = [c for c in every_coalition(list(data.partners["partner"])) if c][ns.start:ns.start + ns.count]
    configs = {
        "fractional branching, no caps, no hints": dict(branching="fractional", hints=False, rule_caps=False),
        "+ rule caps on offers": dict(branching="fractional", hints=False, rule_caps=True),
        "+ last plan as first incumbent": dict(branching="fractional", hints=True, rule_caps=True),
        "+ pseudo-costs kept across coalitions (default)": dict(branching="pseudocost", hints=True,
                                                                rule_caps=True),
    }
    cpu = {k: [] for k in configs}
    nodes = {}
    for _ in range(ns.repeats):
        for name, options in configs.items():
            engine = ManyEngine(data, mip_gap=ns.mip_gap, **options)
            start = time.process_time()
            found = [engine.solve(Variant(label=c, members=c)) for c in coalitions]
            cpu[name].append((time.process_time() - start) / len(coalitions) * 1000)
            nodes[name] = np.mean([r.nodes for r in found])
    print(f"{len(coalitions)} consecutive demo coalitions from {ns.start}, one process, gap "
          f"{ns.mip_gap if ns.mip_gap is not None else 'default'}; medians of {ns.repeats}")
    base = statistics.median(cpu[next(iter(configs))])
    for name in configs:
        med = statistics.median(cpu[name])
        print(f"  {name:<50} {med:6.1f} ms CPU per coalition ({med / base:.2f}x), {nodes[name]:.1f} nodes")


def sampling(ns) -> None:
    from procure.analysis.cooperation import sampling_plan
    from procure.analysis.games import DESIGNS, shapley_from_costs, shapley_from_units

    partners, costs = _load(ns.costs)
    n = len(partners)
    exact = shapley_from_costs(partners, costs)["shapley"].to_numpy()
    grand = costs[frozenset(partners)]
    base = [frozenset([p]) for p in partners] + [frozenset(partners) - {p} for p in partners]
    print(f"{n} partners, c(P) = {grand:,.0f}; budget {ns.budget} coalition solves; {ns.repeats} repeats")
    print(f"{'design':<16}{'units':>7}{'orders':>8}{'solves':>8}{'RMS error % c(P)':>18}"
          f"{'mean s.e. % c(P)':>18}{'within 3 s.e.':>15}")
    for design in DESIGNS:
        errors, ses, inside, units_n, orders_n, solved = [], [], [], [], [], []
        for r in range(ns.repeats):
            units, needed = sampling_plan(partners, base, ns.budget, r, design)
            est = shapley_from_units(partners, units, costs, design=design)
            err = est["shapley"].to_numpy() - exact
            se = est["std_error"].to_numpy()
            errors.append(err)
            ses.append(se)
            inside.append(np.abs(err) <= 3 * se)
            units_n.append(len(units))
            orders_n.append(sum(len(u) for u in units))
            solved.append(len(needed) + 1)
        rms = np.sqrt(np.mean(np.square(errors))) / grand * 100
        print(f"{design:<16}{np.mean(units_n):>7.1f}{np.mean(orders_n):>8.0f}{np.mean(solved):>8.0f}"
              f"{rms:>18.4f}{np.mean(ses) / grand * 100:>18.4f}{np.mean(inside):>15.1%}")


def pool30(ns) -> None:
    from benchmarks.pool30 import pool30 as make_pool
    from procure.analysis.cooperation import fair_shares

    data = make_pool(ns.seed)
    if ns.without_whole_units:
        data = without_whole_units(data)
    walls, worst, loads = [], [], []
    for r in range(ns.repeats):
        loads.append(os.getloadavg()[0])
        start = time.perf_counter()
        fs = fair_shares(data, "shapley", workers=ns.workers, samples=ns.samples, seed=r,
                         design=ns.design, mip_gap=ns.mip_gap)
        walls.append(time.perf_counter() - start)
        worst.append(float(fs.table["shapley_se"].max() / fs.grand * 100))
    share = fs.table["shapley"] / fs.grand * 100
    print(f"sampled Shapley of the 30-partner pool, {ns.workers} worker(s), budget {ns.samples} solves "
          f"({fs.coalitions_solved} solved, {fs.sampling}): median {statistics.median(walls):.1f} s over "
          f"{ns.repeats} (all: {', '.join(f'{w:.1f}' for w in walls)}; load average at the start "
          f"{', '.join(f'{v:.1f}' for v in loads)})")
    print(f"largest standard error: {', '.join(f'{w:.4f}' for w in worst)} % of c(P) "
          f"(target < 0.05 %); shares {share.min():.2f}-{share.max():.2f} % of c(P), mean {share.mean():.2f} %")
    if fs.unproven_coalitions or fs.infeasible_coalitions:
        print(f"unproven {len(fs.unproven_coalitions)}, infeasible {len(fs.infeasible_coalitions)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cooperation")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("shapley")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--mip-gap", type=float, default=None)
    s.add_argument("--save", help="write the coalition costs to this JSON file")
    s.add_argument("--without-security", action="store_true",
                   help="drop the demo's N-1 rule, whole units and substitutes first")
    s.add_argument("--without-whole-units", action="store_true",
                   help="deliveries of the demo's whole-unit items continuous (its N-1 rule kept)")
    s.add_argument("--whole-n1-blocks", action="store_true",
                   help="search with every N-1 re-covery block in the model, unmerged (as before the "
                        "lazy merged blocks of procure.analysis.many.lazy)")
    a = sub.add_parser("ablation")
    a.add_argument("--start", type=int, default=1024)
    a.add_argument("--count", type=int, default=512)
    a.add_argument("--repeats", type=int, default=3)
    a.add_argument("--mip-gap", type=float, default=None)
    m = sub.add_parser("sampling")
    m.add_argument("--costs", required=True, help="coalition costs saved by `shapley --save`")
    m.add_argument("--budget", type=int, default=600)
    m.add_argument("--repeats", type=int, default=300)
    q = sub.add_parser("pool30")
    q.add_argument("--workers", type=int, default=2)
    q.add_argument("--samples", type=int, default=9000)
    q.add_argument("--design", default="poststratified")
    q.add_argument("--repeats", type=int, default=1)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--mip-gap", type=float, default=None)
    q.add_argument("--without-whole-units", action="store_true",
                   help="deliveries of the whole-unit items continuous (the N-1 rule kept)")
    ns = p.parse_args(argv)
    {"shapley": shapley, "ablation": ablation, "sampling": sampling, "pool30": pool30}[ns.cmd](ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
