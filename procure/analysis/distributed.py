"""Sweeps beyond one machine: coalition games on a Dask cluster.

Every many-solve function takes ``scheduler=`` (a Dask scheduler address or a
``distributed.Client``) and then runs on that cluster (:mod:`procure.analysis.many.run`).
What travels (see docs/scaling.md):

* the validated data (a :class:`~procure.data.ProcureData`, a few MB even for large
  workbooks) is scattered to every worker once;
* each task is a list of variants (a few hundred bytes) plus the data's key;
* each worker builds its :class:`~procure.analysis.many.ManyEngine` once per data set and
  keeps it for every later task on that data (the model and the warm LP never travel);
* each task returns one small record per variant: label, status, cost, gap, seconds.

    >>> from dask.distributed import Client                      # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")                  # doctest: +SKIP
    >>> table = dask_coalition_costs(client, data, all_coalitions(partners))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from procure.analysis.sharing import coalition_costs
from procure.data.tables import ProcureData


def dask_coalition_costs(
    client,
    data: ProcureData,
    coalitions: Iterable[Iterable[str]],
    *,
    chunk: int = 64,
    mip_gap: float | None = None,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """:func:`procure.analysis.sharing.coalition_costs` on a Dask cluster: the same table, in
    the same order."""
    return coalition_costs(data, coalitions, scheduler=client, chunk=chunk, mip_gap=mip_gap,
                           time_limit=time_limit)
