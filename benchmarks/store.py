"""The scenario store: how long a save, a load, a listing and a comparison take, and how many
bytes a saved scenario takes, on SQLite and PostgreSQL.

    python -m benchmarks.store --repeats 7                       # SQLite in a temporary folder
    python -m benchmarks.store --url postgresql://postgres@127.0.0.1:55433/bench --repeats 7
    python -m benchmarks.store --partners 20 --items 60 --repeats 3   # a generated instance

Every figure is a median over ``--repeats``; the result of one solve is saved again and again
(the point is the store, not the solver). The database given by ``--url`` is emptied first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

import procure
from procure.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _scenario(ns) -> procure.Scenario:
    if ns.partners:
        from benchmarks.generate import generate

        tables = generate(partners=ns.partners, items=ns.items, seed=0)
        data = procure.validate_tables(tables)
        return procure.Scenario(base=data, name="generated")
    return procure.Scenario.from_toml(ROOT / "models" / "korean-plants-halved.toml")


def run(ns) -> None:
    folder = tempfile.mkdtemp(prefix="procure-bench-")
    url = ns.url or f"sqlite:///{folder}/store.sqlite"
    store = open_store(url)
    with store.engine.begin() as conn:  # an empty store
        for table in ("result_tables", "analysis_tables", "analyses", "scenarios",
                      "workbooks"):
            conn.execute(text(f"DELETE FROM {table}"))
    scenario = _scenario(ns)
    title = scenario.name
    t_apply, data = _timed(scenario.apply, ns.repeats)
    start = time.perf_counter()
    result = procure.solve(data)
    t_solve = time.perf_counter() - start
    rows = sum(len(t) for t in result.tables().values())
    scenario.base_bytes  # noqa: B018 -- the workbook once, outside the timings

    counter = iter(range(10**9))

    def save():
        scenario.name = f"s{next(counter)}"
        return store.save(scenario, result)

    t_save, _ = _timed(save, ns.repeats)
    t_load, stored = _timed(lambda: store.load("s0"), ns.repeats)
    t_list, _ = _timed(store.list, ns.repeats)
    names = [f"s{k}" for k in range(1, min(5, ns.repeats))]
    t_compare, _ = _timed(lambda: store.compare("s0", names), ns.repeats)
    with store.engine.connect() as conn:
        table_bytes = conn.execute(text("SELECT sum(length(content)) FROM result_tables")
                                   ).scalar() / ns.repeats
        workbook_bytes = conn.execute(text("SELECT sum(length(content)) FROM workbooks")
                                      ).scalar()
    store.close()
    print(f"store: {store.url_text}")
    print(f"scenario: {title!r} on {data.summary()}, {rows:,} result rows")
    print("| step | median s |\n|---|---:|")
    for label, value in (("apply the changes (and validate again)", t_apply),
                         ("solve (once, for reference)", t_solve), ("save", t_save),
                         ("load (every table, the workbook)", t_load), ("list", t_list),
                         (f"compare {len(names) + 1} scenarios", t_compare)):
        print(f"| {label} | {value:.3f} |")
    print(f"result tables per saved scenario: {table_bytes / 1024:,.0f} KiB (Parquet); "
          f"base workbook once: {workbook_bytes / 1024:,.0f} KiB")
    assert stored.total_cost == result.total_cost


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.store")
    p.add_argument("--url", help="the store (default: SQLite in a temporary folder)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--partners", type=int, default=0, help="a generated instance instead "
                                                             "of the demo")
    p.add_argument("--items", type=int, default=40)
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
