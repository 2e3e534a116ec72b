"""Two published optima, encoded as SPEC workbooks and read through ``procure.read_workbook``
(see /work/shared/reference/published-cases.md), solved with HiGHS and with CBC (via PuLP).

* GAMS TRNSPORT (Dantzig 1963): a pure LP, optimum 153.675; demand duals 0.225 / 0.153 /
  0.126.  The allocation is not unique, so only the cost and the duals are compared.
* GAMS BID (Bracken & McCormick 1968): incremental price bands, setup costs, a minimum
  order and capacities; optimum 15,210,109.512.
"""

from __future__ import annotations

import pytest

import procure

try:
    from tests.checker import check_solution
    from tests.workbooks import write_workbook
except ImportError:  # tests/ is not a package
    from checker import check_solution
    from workbooks import write_workbook

SOLVERS = ["highs", "cbc"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.x on its own 4.0

# --------------------------------------------------------------------------- TRNSPORT

TRNSPORT_DEMAND = {"new-york": 325, "chicago": 300, "topeka": 275}
TRNSPORT_DISTANCE = {  # thousands of miles
    ("seattle", "new-york"): 2.5, ("seattle", "chicago"): 1.7, ("seattle", "topeka"): 1.8,
    ("san-diego", "new-york"): 2.5, ("san-diego", "chicago"): 1.8, ("san-diego", "topeka"): 1.4,
}


def trnsport_sheets() -> dict[str, list[list]]:
    # freight 90 $ per case per thousand miles, cost in thousands of $: 90 * d / 1000
    return {
        "Partners": [["partner"]] + [[m] for m in TRNSPORT_DEMAND],
        "Items": [["item", "unit"], ["case", "case"]],
        "Suppliers": [["supplier", "country"], ["seattle", "seattle"], ["san-diego", "san-diego"]],
        "Offers": [["supplier", "item", "unit_price", "capacity"],
                   ["seattle", "case", 0, 350], ["san-diego", "case", 0, 600]],
        "Demand": [["partner", "item", "period", "quantity"]]
        + [[m, "case", 1, q] for m, q in TRNSPORT_DEMAND.items()],
        "Transport": [["from_country", "to_partner", "cost_per_unit"]]
        + [[p, m, 90 * d / 1000] for (p, m), d in TRNSPORT_DISTANCE.items()],
    }


@pytest.fixture(scope="module")
def trnsport_data(tmp_path_factory):
    path = write_workbook(tmp_path_factory.mktemp("trnsport") / "trnsport.xlsx", trnsport_sheets())
    return procure.read_workbook(path)


@pytest.mark.parametrize("solver", SOLVERS)
def test_trnsport_cost_and_demand_duals(trnsport_data, solver):
    r = procure.solve(trnsport_data, solver=solver)
    assert r.status == procure.Status.OPTIMAL, r.message
    assert not r.is_mip
    assert r.total_cost == pytest.approx(153.675, rel=1e-7)
    assert r.transport == pytest.approx(153.675, rel=1e-7) and r.purchase == 0
    duals = r.demand_duals.set_index("partner")["marginal_cost"]
    assert duals["new-york"] == pytest.approx(0.225, rel=1e-6)
    assert duals["chicago"] == pytest.approx(0.153, rel=1e-6)
    assert duals["topeka"] == pytest.approx(0.126, rel=1e-6)
    check_solution(trnsport_data, r)


# --------------------------------------------------------------------------- BID

BID_OPTIMUM = 15_210_109.512


def bid_sheets() -> dict[str, list[list]]:
    vendors = {  # setup, capacity, min order, base price
        "a": (3855.84, 33000, 0, 61.150),
        "b": (125804.84, 160000, 22000, 68.099),
        "c": (13456.00, 165600, 0, 62.190),
        "d": (6583.98, 12000, 0, 72.488),
        "e": (0, 77000, 0, 70.150),
    }
    return {
        "Partners": [["partner"], ["buyer"]],
        "Items": [["item"], ["good"]],
        "Suppliers": [["supplier", "country"]] + [[v, f"country-{v}"] for v in vendors],
        "Offers": [["supplier", "item", "unit_price", "capacity", "min_order", "setup_cost",
                    "discount"]]
        + [[v, "good", price, cap, mo, setup, "incremental"]
           for v, (setup, cap, mo, price) in vendors.items()],
        "PriceTiers": [["supplier", "item", "min_quantity", "unit_price"],
                       ["b", "good", 70000, 66.049],
                       ["b", "good", 100000, 64.099],
                       ["b", "good", 150000, 62.119],
                       ["e", "good", 42000, 68.150]],
        "Demand": [["partner", "item", "period", "quantity"], ["buyer", "good", 1, 239600.48]],
    }


@pytest.fixture(scope="module")
def bid_data(tmp_path_factory):
    path = write_workbook(tmp_path_factory.mktemp("bid") / "bid.xlsx", bid_sheets())
    return procure.read_workbook(path)


@pytest.mark.parametrize("solver", SOLVERS)
def test_bid_optimum(bid_data, solver):
    r = procure.solve(bid_data, solver=solver, mip_gap=1e-9)
    assert r.status == procure.Status.OPTIMAL, r.message
    assert r.is_mip
    assert r.total_cost == pytest.approx(BID_OPTIMUM, rel=1e-7)
    # the published band
    assert 1.52100e7 <= r.total_cost <= 1.52102e7
    pooled = r.offers.set_index("supplier")["pooled_quantity"]
    assert pooled["a"] == pytest.approx(33000, rel=1e-6)
    assert pooled["c"] == pytest.approx(165600, rel=1e-6)
    assert pooled["e"] == pytest.approx(41000.48, rel=1e-6)
    assert pooled["b"] == pytest.approx(0, abs=1e-6) and pooled["d"] == pytest.approx(0, abs=1e-6)
    # setup paid by the three vendors used: 3,855.84 + 13,456 + 0
    assert r.setup == pytest.approx(3855.84 + 13456.00, rel=1e-9)
    check_solution(bid_data, r)
