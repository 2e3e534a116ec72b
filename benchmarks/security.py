"""Benchmarks of supply-chain security and standards on the demo (figures in
benchmarks/README.md).

    python -m benchmarks.security whole --repeats 3 [--highs]
    python -m benchmarks.security stress --workers 2 --repeats 3
    python -m benchmarks.security disrupt --workers 2 --samples 500

* ``whole``: the demo solved by ``procure.solve`` (whole units through their relaxation,
  procure.engine.whole_units), and with ``--highs`` by HiGHS's own search on the same model
  (procure.engine.backends.solve_highs): wall time and cost of each.
* ``stress``: the stress test (every supplier and country, no diagnosis), wall time, and
  how many re-plans took each path of the many-solve engine.
* ``disrupt``: Monte Carlo disruption with the workbook's failure probabilities.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def _timed(fn, repeats: int):
    walls, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - start)
    return out, walls


def _walls(walls) -> str:
    return f"median {statistics.median(walls):.2f} s over {len(walls)} (all: {', '.join(f'{w:.2f}' for w in walls)})"


def whole(ns) -> None:
    import procure
    from procure.engine.backends import solve_highs

    data = procure.datasets.load_demo()
    result, walls = _timed(lambda: procure.solve(data), ns.repeats)
    print(f"procure.solve (whole units relaxation-first): {result.status.value}, "
          f"{result.total_cost:,.2f}, {result.model_size}; {_walls(walls)}")
    if ns.highs:
        model = procure.build_model(data)
        out, walls = _timed(lambda: solve_highs(model), ns.repeats)
        print(f"HiGHS's search alone: {out.status.value}, {out.objective:,.2f}; {_walls(walls)}")


def stress(ns) -> None:
    import procure
    from procure.analysis.security import stress_test

    data = procure.datasets.load_demo()
    st, walls = _timed(lambda: stress_test(data, countries=True, workers=ns.workers, diagnose=False),
                       ns.repeats)
    print(f"stress test of the demo ({len(st.table)} re-plans, {ns.workers} worker(s)): {_walls(walls)}")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in st.table["status"].value_counts().items()))


def disrupt(ns) -> None:
    import procure
    from procure.analysis.security import disrupt as run

    data = procure.datasets.load_demo()
    mc, walls = _timed(lambda: run(data, samples=ns.samples, seed=1, workers=ns.workers), ns.repeats)
    print(f"disruption of the demo, {ns.samples} draws ({mc.distinct} distinct sets), "
          f"{ns.workers} worker(s): {_walls(walls)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.security")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("whole")
    w.add_argument("--repeats", type=int, default=3)
    w.add_argument("--highs", action="store_true", help="also HiGHS's own search (about a minute)")
    s = sub.add_parser("stress")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--repeats", type=int, default=3)
    d = sub.add_parser("disrupt")
    d.add_argument("--workers", type=int, default=1)
    d.add_argument("--samples", type=int, default=500)
    d.add_argument("--repeats", type=int, default=1)
    ns = p.parse_args(argv)
    {"whole": whole, "stress": stress, "disrupt": disrupt}[ns.cmd](ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
