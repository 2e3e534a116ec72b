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


def test_fair_shares_and_rule_costs_on_dask_equal_the_local_pool(client):
    """The same numbers from a Dask LocalCluster (by its scheduler address, as --scheduler
    gives it) as from two local worker processes."""
    from procure.analysis.cooperation import fair_shares, rule_costs

    tables = generate(partners=3, items=2, offers_per_item=3, periods=2, rule_density=1.5,
                      tiers=True, setup=True, seed=8)
    data = procure.validate_tables(tables)
    address = client.scheduler.address
    local = fair_shares(data, workers=2, mip_gap=1e-9)
    remote = fair_shares(data, scheduler=address, mip_gap=1e-9)
    for column in ("standalone", "proportional", "shapley", "nucleolus", "value_brought"):
        assert remote.table[column].to_numpy() == pytest.approx(local.table[column].to_numpy(), rel=1e-9)
    for name in ("shapley", "proportional", "nucleolus"):
        mine, theirs = local.core[name], remote.core[name]
        assert (theirs.in_core, theirs.worst_coalition) == (mine.in_core, mine.worst_coalition)
        assert theirs.excess == pytest.approx(mine.excess, rel=1e-9, abs=1e-6)
    here = rule_costs(data, workers=2, mip_gap=1e-9)
    there = rule_costs(data, scheduler=client, mip_gap=1e-9)
    assert there.table["price"].to_numpy() == pytest.approx(here.table["price"].to_numpy(), rel=1e-9, abs=1e-6)
