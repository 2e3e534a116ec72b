"""Coalition games on a Dask cluster give the same table as the local engine."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")

import procure  # noqa: E402
from benchmarks.generate import generate  # noqa: E402
from procure.analysis.distributed import dask_coalition_costs  # noqa: E402
from procure.analysis.sharing import all_coalitions, coalition_costs  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def test_dask_matches_local_engine(client):
    tables = generate(partners=4, items=3, offers_per_item=3, periods=2, rule_density=1.0,
                      tiers=True, setup=True, seed=3)
    data = procure.validate_tables(tables)
    coalitions = all_coalitions(list(data.partners["partner"]))
    local = coalition_costs(data, coalitions, mip_gap=1e-9)
    remote = dask_coalition_costs(client, data, coalitions, chunk=5, mip_gap=1e-9)
    assert list(remote["coalition"]) == list(local["coalition"])
    assert list(remote["status"]) == list(local["status"])
    assert remote["cost"].to_numpy() == pytest.approx(local["cost"].to_numpy(), rel=1e-9, nan_ok=True)
