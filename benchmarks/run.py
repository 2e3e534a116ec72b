"""Benchmark runner: where the time and memory go, as medians of several runs.

    python -m benchmarks.run pipeline --partners 30 --items 200 --offers-per-item 8 --periods 12 --pulp
    python -m benchmarks.run read --rows 200000
    python -m benchmarks.run demo --repeats 7
    python -m benchmarks.run gap --instances 4
    python -m benchmarks.run coalitions --workers 2
    python -m benchmarks.run dask --coalitions 512

Every pipeline repeat runs in a fresh process so that its peak memory (ru_maxrss, which
includes HiGHS's own allocations) belongs to that run alone. Timings are medians; ratios are
taken within one run of this script, since these machines are noisy. Results and the exact
commands are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- one pipeline run (in its own process) ------------------------------------------------

def one_pipeline(xlsx: str) -> dict:
    import procure
    from procure.engine.backends import new_highs, pass_model, read_highs
    from procure.engine.model import build_model
    from procure.engine.results import make_result

    t = {}
    start = time.perf_counter()
    raw = procure.read_tables(xlsx)
    t["read"] = time.perf_counter() - start
    start = time.perf_counter()
    data = procure.validate_tables(raw)
    t["validate"] = time.perf_counter() - start
    start = time.perf_counter()
    model = build_model(data)
    t["build"] = time.perf_counter() - start
    h = new_highs()
    start = time.perf_counter()
    pass_model(h, model)
    t["handover"] = time.perf_counter() - start
    start = time.perf_counter()
    h.run()
    t["highs"] = time.perf_counter() - start
    start = time.perf_counter()
    out = read_highs(h, model, t["highs"])
    result = make_result(data, model, out, t["build"])
    t["extract"] = time.perf_counter() - start
    from procure.engine.check import check_plan

    start = time.perf_counter()
    check = check_plan(data, result)
    t["check"] = time.perf_counter() - start
    t["check_ok"] = check.ok
    t["peak_mb"] = _peak_mb()
    t["status"] = result.status.value
    t["objective"] = result.total_cost
    t.update(model.summary())
    return t


def one_pulp(xlsx: str, time_limit: float | None) -> dict:
    """The straightforward PuLP baseline on the same workbook, solved by HiGHS through PuLP."""
    import procure
    from benchmarks import pulp_baseline

    raw = procure.read_tables(xlsx)
    tables = {name: frame.reset_index(drop=True) for name, frame in raw.items()}
    start = time.perf_counter()
    problem = pulp_baseline.build(tables)
    build = time.perf_counter() - start
    solver = pulp_baseline._solver("highs", time_limit, 1e-4)
    start = time.perf_counter()
    problem.solve(solver)
    solve = time.perf_counter() - start
    import pulp

    return {"pulp_build": build, "pulp_solve": solve, "pulp_objective": pulp.value(problem.objective),
            "pulp_peak_mb": _peak_mb()}


def _child(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", *args], capture_output=True,
                         text=True, cwd=ROOT, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def pipeline(ns) -> None:
    from benchmarks.generate import generate, write_xlsx

    tables = generate(partners=ns.partners, items=ns.items, offers_per_item=ns.offers_per_item,
                      periods=ns.periods, rule_density=ns.rule_density, tiers=ns.tiers,
                      setup=ns.setup, seed=ns.seed)
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = str(Path(tmp) / "instance.xlsx")
        write_xlsx(tables, xlsx)
        runs = [_child(["_one", xlsx]) for _ in range(ns.repeats)]
        pulp_runs = [_child(["_pulp", xlsx]) for _ in range(ns.pulp_repeats)] if ns.pulp else []
    r0 = runs[0]
    print(f"instance: {ns.partners} partners x {ns.items} items x {ns.offers_per_item} offers x "
          f"{ns.periods} periods, rule density {ns.rule_density}: {r0['variables']:,} variables, "
          f"{r0['binaries']:,} binaries, {r0['constraints']:,} rows, {r0['nonzeros']:,} nonzeros; "
          f"status {r0['status']}, cost {r0['objective']:.6g}; medians of {ns.repeats} runs")
    highs = _median(runs, "highs")
    print(f"{'stage':<28}{'median s':>12}{'/ HiGHS':>10}")
    for key in ("read", "validate", "build", "handover", "highs", "extract", "check"):
        m = _median(runs, key)
        print(f"{key:<28}{m:>12.3f}{m / highs:>10.1%}")
    ours = sum(_median(runs, k) for k in ("build", "handover", "extract"))
    print(f"{'build+handover+extract':<28}{ours:>12.3f}{ours / highs:>10.1%}")
    print(f"{'peak memory (MB)':<28}{_median(runs, 'peak_mb'):>12.0f}")
    if pulp_runs:
        pb, ps = _median(pulp_runs, "pulp_build"), _median(pulp_runs, "pulp_solve")
        print(f"{'PuLP baseline build':<28}{pb:>12.3f}{pb / highs:>10.1f}x")
        print(f"{'PuLP hand-over + solve':<28}{ps:>12.3f}{ps / highs:>10.1f}x")
        print(f"{'PuLP total':<28}{pb + ps:>12.3f}{(pb + ps) / highs:>10.1f}x")
        print(f"{'PuLP peak memory (MB)':<28}{_median(pulp_runs, 'pulp_peak_mb'):>12.0f}")
        print(f"same optimum: procure {r0['objective']:.10g}, PuLP {pulp_runs[0]['pulp_objective']:.10g}")


def read_speed(ns) -> None:
    """Cells per second reading a workbook whose Demand sheet has ``rows`` rows."""
    from benchmarks.generate import generate, write_xlsx

    # periods x partners x items = rows of Demand
    periods = 10
    partners = 20
    items = max(1, ns.rows // (periods * partners))
    tables = generate(partners=partners, items=items, offers_per_item=2, periods=periods, seed=1)
    import procure

    with tempfile.TemporaryDirectory() as tmp:
        xlsx = Path(tmp) / "read.xlsx"
        write_xlsx(tables, xlsx)
        cells = sum(len(f) * len(f.columns) for f in tables.values())
        demand_rows = len(tables["Demand"])
        times_raw, times_all = [], []
        for _ in range(ns.repeats):
            start = time.perf_counter()
            procure.read_tables(xlsx)
            times_raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            procure.read_workbook(xlsx)
            times_all.append(time.perf_counter() - start)
    raw, full = statistics.median(times_raw), statistics.median(times_all)
    print(f"workbook: {demand_rows:,} Demand rows, {cells:,} cells in all sheets; medians of {ns.repeats}")
    print(f"read (calamine, raw tables)   {raw:8.3f} s  {cells / raw:12,.0f} cells/s")
    print(f"read + validate               {full:8.3f} s  {cells / full:12,.0f} cells/s")


def demo(ns) -> None:
    import procure

    data = procure.datasets.load_demo()
    times, checks = [], []
    for _ in range(ns.repeats):
        start = time.perf_counter()
        result = procure.solve(data)
        times.append(time.perf_counter() - start)
        checks.append(result.check.seconds)
    print(f"demo solve in process (read excluded): median {statistics.median(times):.3f} s "
          f"over {ns.repeats} (min {min(times):.3f}, max {max(times):.3f}); {result.message}")
    print(f"run-time plan check: median {statistics.median(checks):.4f} s, "
          f"{statistics.median(c / t for c, t in zip(checks, times, strict=True)):.1%} of the solve")
    print(f"model: {result.model_size}")


def gap_cost(ns) -> None:
    """What the default MIP gap costs: each MIP instance solved at HiGHS's own default gap
    (1e-4, procure's default until issue 7) and at procure's DEFAULT_MIP_GAP, medians."""
    import procure
    from benchmarks.generate import generate
    from procure.engine.backends import DEFAULT_MIP_GAP

    instances = {"demo": procure.datasets.load_demo()}
    for seed in range(ns.instances):
        tables = generate(partners=ns.partners, items=ns.items, offers_per_item=4, periods=4,
                          rule_density=1.0, tiers=True, setup=True, min_orders=True, seed=seed)
        instances[f"generated seed {seed}"] = procure.validate_tables(tables)
    print(f"{'instance':<22}{'binaries':>9}{'1e-4 s':>9}{'default s':>11}{'ratio':>7}"
          f"{'cost excess at 1e-4':>21}  status at 1e-4 / default")
    ratios = []
    for name, data in instances.items():
        runs = {}
        for gap in (1e-4, DEFAULT_MIP_GAP):
            times = []
            for _ in range(ns.repeats):
                start = time.perf_counter()
                result = procure.solve(data, mip_gap=gap)
                times.append(time.perf_counter() - start)
            runs[gap] = (statistics.median(times), result)
        (t4, r4), (t0, r0) = runs[1e-4], runs[DEFAULT_MIP_GAP]
        ratios.append(t0 / t4)
        excess = r4.total_cost / r0.total_cost - 1
        print(f"{name:<22}{r0.model_size['binaries']:>9}{t4:>9.3f}{t0:>11.3f}{t0 / t4:>7.2f}"
              f"{excess:>21.2e}  {r4.status} / {r0.status}")
    print(f"median ratio default / 1e-4: {statistics.median(ratios):.2f} "
          f"(DEFAULT_MIP_GAP = {DEFAULT_MIP_GAP:g}; medians of {ns.repeats} solves)")


def coalitions(ns) -> None:
    import procure
    from procure.analysis.sharing import all_coalitions, coalition_costs

    data = procure.datasets.load_demo()
    subsets = all_coalitions(list(data.partners["partner"]))
    if ns.limit:
        subsets = subsets[: ns.limit]
    start = time.perf_counter()
    table = coalition_costs(data, subsets, workers=ns.workers)
    wall = time.perf_counter() - start
    print(f"{len(subsets):,} coalitions of the demo, {ns.workers} worker(s): {wall:.1f} s wall, "
          f"{wall / len(subsets) * 1000:.1f} ms per coalition; statuses {table['status'].value_counts().to_dict()}")
    by_size = table.groupby("size")["seconds"].median() * 1000
    print("median ms per solve by coalition size: " +
          ", ".join(f"{k}: {v:.0f}" for k, v in by_size.items()))


def dask_speedup(ns) -> None:
    import procure
    from procure.analysis.distributed import dask_coalition_costs
    from procure.analysis.sharing import all_coalitions

    data = procure.datasets.load_demo()
    subsets = all_coalitions(list(data.partners["partner"]))[: ns.coalitions]
    from dask.distributed import Client, LocalCluster

    walls = {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            start = time.perf_counter()
            dask_coalition_costs(client, data, subsets, chunk=ns.chunk)
            walls[n] = time.perf_counter() - start
    print(f"dask LocalCluster, {len(subsets)} coalitions: 1 worker {walls[1]:.1f} s, "
          f"2 workers {walls[2]:.1f} s, speed-up {walls[1] / walls[2]:.2f}x")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("pipeline")
    pp.add_argument("--partners", type=int, default=30)
    pp.add_argument("--items", type=int, default=200)
    pp.add_argument("--offers-per-item", type=int, default=8)
    pp.add_argument("--periods", type=int, default=12)
    pp.add_argument("--rule-density", type=float, default=0.0)
    pp.add_argument("--tiers", action="store_true")
    pp.add_argument("--setup", action="store_true")
    pp.add_argument("--seed", type=int, default=0)
    pp.add_argument("--repeats", type=int, default=3)
    pp.add_argument("--pulp", action="store_true", help="also time the PuLP baseline")
    pp.add_argument("--pulp-repeats", type=int, default=1)
    r = sub.add_parser("read")
    r.add_argument("--rows", type=int, default=200_000)
    r.add_argument("--repeats", type=int, default=3)
    d = sub.add_parser("demo")
    d.add_argument("--repeats", type=int, default=7)
    g = sub.add_parser("gap")
    g.add_argument("--instances", type=int, default=4)
    g.add_argument("--partners", type=int, default=6)
    g.add_argument("--items", type=int, default=12)
    g.add_argument("--repeats", type=int, default=3)
    c = sub.add_parser("coalitions")
    c.add_argument("--workers", type=int, default=2)
    c.add_argument("--limit", type=int, default=0)
    k = sub.add_parser("dask")
    k.add_argument("--coalitions", type=int, default=512)
    k.add_argument("--chunk", type=int, default=32)
    one = sub.add_parser("_one")
    one.add_argument("xlsx")
    pl = sub.add_parser("_pulp")
    pl.add_argument("xlsx")
    pl.add_argument("--time-limit", type=float, default=None)
    ns = p.parse_args(argv)
    if ns.cmd == "_one":
        print(json.dumps(one_pipeline(ns.xlsx)))
    elif ns.cmd == "_pulp":
        print(json.dumps(one_pulp(ns.xlsx, ns.time_limit)))
    else:
        {"pipeline": pipeline, "read": read_speed, "demo": demo, "gap": gap_cost,
         "coalitions": coalitions, "dask": dask_speedup}[ns.cmd](ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
