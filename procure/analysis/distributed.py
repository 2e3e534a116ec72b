"""Sweeps beyond one machine: coalition games on a Dask cluster.

What travels (see docs/scaling.md):

* the validated data (a :class:`~procure.data.ProcureData`, a few MB even for large
  workbooks) is scattered to every worker once;
* each task is a list of coalitions (a few hundred bytes) plus the data's key;
* each worker builds its :class:`~procure.sharing.CoalitionEngine` once per data set and
  keeps it for every later task on that data (the model and the warm LP never travel);
* each task returns one small record per coalition: members, status, cost, seconds.

So the network carries the data once and then only coalitions and numbers, and a
worker's first task pays the model build while the rest only solve.

    >>> from dask.distributed import Client                      # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")                  # doctest: +SKIP
    >>> table = dask_coalition_costs(client, data, all_coalitions(partners))  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pandas as pd

from procure.analysis.sharing import Coalition, CoalitionCost, CoalitionEngine
from procure.data.tables import ProcureData

#: engines kept by each worker process, by data key (the newest few data sets)
_ENGINES: dict[str, CoalitionEngine] = {}
_KEEP = 4


def _engine(key: str, data: ProcureData, mip_gap, time_limit) -> CoalitionEngine:
    engine = _ENGINES.get(key)
    if engine is None:
        while len(_ENGINES) >= _KEEP:
            _ENGINES.pop(next(iter(_ENGINES)))
        # one HiGHS thread per task: the cluster's workers already use every core
        engine = CoalitionEngine(data, mip_gap=mip_gap, time_limit=time_limit, threads=1)
        _ENGINES[key] = engine
    return engine


def _run(key: str, data: ProcureData, coalitions: list[Coalition], mip_gap, time_limit) -> list[tuple]:
    engine = _engine(key, data, mip_gap, time_limit)
    return [_record(engine.solve(c)) for c in coalitions]


def _record(cost: CoalitionCost) -> tuple:
    return (cost.members, cost.status.value, cost.cost, cost.seconds)


def dask_coalition_costs(
    client,
    data: ProcureData,
    coalitions: Iterable[Iterable[str]],
    *,
    chunk: int = 64,
    mip_gap: float | None = None,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """:func:`procure.sharing.coalition_costs` on a Dask cluster: the same table, in the same order."""
    coalitions = [frozenset(c) for c in coalitions]
    mip_gap = data.solver_option("mip_gap", mip_gap)
    time_limit = data.solver_option("time_limit", time_limit)
    key = uuid.uuid4().hex
    shipped = client.scatter(data, broadcast=True)
    futures = [
        client.submit(_run, key, shipped, coalitions[k:k + chunk], mip_gap, time_limit, pure=False)
        for k in range(0, len(coalitions), chunk)
    ]
    rows = [row for part in client.gather(futures) for row in part]
    return pd.DataFrame({
        "coalition": [r[0] for r in rows],
        "size": [len(r[0]) for r in rows],
        "status": [r[1] for r in rows],
        "cost": [r[2] for r in rows],
        "seconds": [r[3] for r in rows],
    })
