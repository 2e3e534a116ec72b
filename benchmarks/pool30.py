"""A 30-partner pool on the demo's items and suppliers: the sampled-Shapley benchmark.

The demo's 12 partners are kept as they are; 18 more NATO and Indo-Pacific partners join,
each demanding what a demo partner of its region demands (its *template*), scaled by a size
factor drawn once per partner, with that template's transport costs and rules (its EU value
share, where it is an EU member). Offer capacities and surges, Capacity rows and the breakpoints
of price tiers are scaled by the growth of the pool's demand for their item (a supplier's shared
capacity by that of its fastest-growing item), so the pool stays feasible and its discounts as
reachable as in the demo; the new partners have no budget cap. Deterministic for a seed.

    python -m benchmarks.pool30 --out pool30.xlsx
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

#: new partner -> (name, template demo partner, EU member)
NEW_PARTNERS = {
    "CA": ("Canada", "US", False), "BE": ("Belgium", "NL", True), "DK": ("Denmark", "NL", True),
    "SE": ("Sweden", "NO", True), "FI": ("Finland", "NO", True), "EE": ("Estonia", "PL", True),
    "LV": ("Latvia", "PL", True), "LT": ("Lithuania", "PL", True), "CZ": ("Czechia", "DE", True),
    "SK": ("Slovakia", "PL", True), "RO": ("Romania", "PL", True), "PT": ("Portugal", "ES", True),
    "GR": ("Greece", "IT", True), "TR": ("Turkey", "IT", False), "HU": ("Hungary", "PL", True),
    "BG": ("Bulgaria", "PL", True), "HR": ("Croatia", "IT", True), "NZ": ("New Zealand", "AU", False),
}


def pool30(seed: int = 0):
    """The 30-partner pool as validated :class:`procure.ProcureData`."""
    import procure

    demo = procure.datasets.load_demo()
    rng = np.random.default_rng(seed)
    partners = [demo.partners]
    demand = [demo.demand.drop(columns=["source_row"])]
    transport = [demo.transport]
    rules = [demo.rules.drop(columns=["source_row"])]
    for code, (name, template, eu) in NEW_PARTNERS.items():
        size = float(rng.uniform(0.15, 0.6))
        partners.append(pd.DataFrame([{"partner": code, "name": name, "country": code, "budget": np.nan}]))
        mine = demo.demand[demo.demand["partner"] == template].drop(columns=["source_row"])
        demand.append(mine.assign(partner=code, quantity=np.ceil(mine["quantity"].to_numpy() * size)))
        into = demo.transport[demo.transport["to_partner"] == template]
        transport.append(into.assign(to_partner=code))
        if eu:
            eu_rule = demo.rules[(demo.rules["rule"] == "min_value_share") & (demo.rules["group"] == "EU")].iloc[:1]
            rules.append(eu_rule.drop(columns=["source_row"]).assign(
                partner=code, name=f"EU value share >= 65 % ({code})"))
    demand_all = pd.concat(demand, ignore_index=True)
    # each item's capacity grows with its own demand; a supplier's shared capacity with the
    # fastest-growing of its items
    item_growth = (demand_all.groupby("item")["quantity"].sum() / demo.demand.groupby("item")["quantity"].sum())
    supplier_growth = demo.offers.assign(g=demo.offers["item"].map(item_growth)).groupby("supplier")["g"].max()

    def scaled(frame: pd.DataFrame, column: str, by: str = "item") -> pd.DataFrame:
        growth = (frame[by].map(item_growth) if by == "item" else frame[by].map(supplier_growth)).fillna(1.0)
        return frame.assign(**{column: frame[column].to_numpy(dtype=float) * growth.to_numpy(dtype=float)})

    tables = {
        "Partners": pd.concat(partners, ignore_index=True),
        "Items": demo.items,
        "Suppliers": scaled(demo.suppliers, "capacity", by="supplier"),
        # surge too: it is capacity held for a crisis, which the demo's N-1 rule counts on
        "Offers": scaled(scaled(demo.offers, "capacity"), "surge"),
        "Demand": demand_all,
        "Capacity": scaled(demo.capacity, "capacity"),
        "PriceTiers": scaled(demo.price_tiers, "min_quantity"),
        "Transport": pd.concat(transport, ignore_index=True),
        "Blocs": demo.blocs,
        "Rules": pd.concat(rules, ignore_index=True),
        "Settings": pd.DataFrame({"key": [k for k, v in demo.settings.items() if v is not None],
                                  "value": [str(v) for v in demo.settings.values() if v is not None]}),
    }
    return procure.validate_tables(tables)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pool30", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the workbook to write (.xlsx)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    from procure.data.writer import write_workbook

    data = pool30(a.seed)
    write_workbook(data, a.out)
    print(f"{a.out}: {len(data.partners)} partners, {len(data.demand)} demand rows, {len(data.rules)} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
