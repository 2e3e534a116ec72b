"""The store under concurrency and crashes, on SQLite and PostgreSQL.

* Two processes open a new store and save different scenarios at the same moment, 50 times
  (a barrier lines them up before every save): nothing is lost, every save loads back whole.
* Two processes save new versions of one name at the same moment: every version is kept,
  numbered without gaps or duplicates.
* A process SIGKILLed in the middle of a save (after its scenario row, while it writes the
  result tables) leaves the store readable, the earlier scenarios intact, no trace of the
  half-done save, and the store writable at once.

The saving processes are forked from the test with a solved result in memory: the point is
the store, so nothing is solved in them (and they never touch the solver).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pandas as pd
import pytest
from sqlalchemy import create_engine, event, text

from procure import Scenario
from procure.store import open_store

try:
    from tests.tiny import tiny
except ImportError:  # tests/ is not a package
    from tiny import tiny

ROUNDS = 50
FORK = multiprocessing.get_context("fork")


def case() -> tuple[Scenario, object]:
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10, capacity=30),
                        dict(supplier="B", item="x", unit_price=12)],
                demand=[("P", "x", 1, 20), ("Q", "x", 1, 15)])
    scenario = Scenario(base=data, name="seed")
    result = scenario.solve()
    scenario.base_bytes  # noqa: B018 -- written once here, shared with the forked savers
    return scenario, result


def _saver(url, prefix, rounds, barrier, scenario, result, replace, report) -> None:
    try:
        barrier.wait(timeout=120)
        store = open_store(url)  # both open a new store at once: migrated once
        versions = []
        for k in range(rounds):
            scenario.name = "shared" if replace else f"{prefix}-{k}"
            barrier.wait(timeout=120)
            versions.append(store.save(scenario, result, author=prefix, replace=replace))
        store.close()
        report.put((prefix, "ok", versions))
    except BaseException as exc:  # noqa: BLE001 -- reported to the test
        report.put((prefix, "error", repr(exc)))


def _race(url: str, rounds: int, replace: bool) -> dict:
    scenario, result = case()
    barrier = FORK.Barrier(2)
    report = FORK.Queue()
    procs = [FORK.Process(target=_saver, args=(url, p, rounds, barrier, scenario, result,
                                               replace, report)) for p in ("A", "B")]
    for p in procs:
        p.start()
    outcomes = {}
    for _ in procs:
        prefix, status, detail = report.get(timeout=300)
        outcomes[prefix] = (status, detail)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for prefix, (status, detail) in outcomes.items():
        assert status == "ok", f"{prefix}: {detail}"
    return {"scenario": scenario, "result": result,
            "versions": {p: d for p, (_, d) in outcomes.items()}}


def test_two_processes_saving_at_once_lose_nothing(store_url):
    race = _race(store_url, ROUNDS, replace=False)
    store = open_store(store_url)
    listed = store.list()
    assert sorted(listed["name"]) == sorted(f"{p}-{k}" for p in "AB" for k in range(ROUNDS))
    assert set(listed["version"]) == {1}
    cost = race["result"].total_cost
    assert listed["total_cost"].tolist() == [pytest.approx(cost)] * (2 * ROUNDS)
    for name in ("A-0", f"B-{ROUNDS - 1}", f"A-{ROUNDS // 2}"):
        stored = store.load(name)
        assert stored.author == name[0]
        pd.testing.assert_frame_equal(stored.tables["Allocation"],
                                      race["result"].allocation, check_dtype=False)
    engine = create_engine(store.engine.url)
    with engine.connect() as conn:  # one workbook for all of them
        assert conn.execute(text("SELECT count(*) FROM workbooks")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM result_tables")).scalar() == \
            2 * ROUNDS * len(race["result"].tables())
    engine.dispose()
    store.close()


def test_two_processes_adding_versions_of_one_name(store_url):
    """replace=True from both at once: versions 1..20, each exactly once."""
    race = _race(store_url, 10, replace=True)
    versions = race["versions"]["A"] + race["versions"]["B"]
    assert sorted(versions) == list(range(1, 21))
    store = open_store(store_url)
    table = store.versions("shared")
    assert table["version"].tolist() == list(range(1, 21))
    assert sorted(table["author"]) == ["A"] * 10 + ["B"] * 10
    store.close()


def _killed_saver(url, scenario, result, pipe) -> None:
    store = open_store(url)

    @event.listens_for(store.engine, "before_cursor_execute")
    def _pause(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO RESULT_TABLES"):
            pipe.send("inside the save")
            time.sleep(600)  # until SIGKILL

    store.save(scenario, result)
    pipe.send("finished")  # never reached


def test_a_process_killed_in_the_middle_of_a_save(store_url):
    scenario, result = case()
    store = open_store(store_url)
    for k in range(3):
        scenario.name = f"earlier-{k}"
        store.save(scenario, result)
    before = {n: store.load(n) for n in store.list()["name"]}
    store.close()

    scenario.name = "killed"
    parent, child = FORK.Pipe()
    proc = FORK.Process(target=_killed_saver, args=(store_url, scenario, result, child))
    proc.start()
    assert parent.poll(60), "the saving process never reached the result tables"
    assert parent.recv() == "inside the save"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL

    store = open_store(store_url)
    listed = store.list()
    assert sorted(listed["name"]) == sorted(before)  # no trace of the half-done save
    for name, old in before.items():
        now = store.load(name)
        assert now.summary == old.summary and now.definition == old.definition
        for table, frame in old.tables.items():
            pd.testing.assert_frame_equal(now.tables[table], frame)
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    start = time.perf_counter()
    assert store.save(scenario, result) == 1  # writable at once: no lock left behind
    assert time.perf_counter() - start < 30
    assert store.load("killed").total_cost == pytest.approx(result.total_cost)
    store.close()
