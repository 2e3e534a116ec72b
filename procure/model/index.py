"""Which deliveries may exist, and how rules select among them.

The delivery variables ``x[p,i,s,t]`` are created only on the filtered index of
allowed rows (gurobipy-pandas style): a Demand row with quantity > 0, an offer
(s, i), ``t >= first_period``, and no ``ban`` rule forbidding (p, s, i).  Demand
of zero needs no variable: the demand equality would force it to zero anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import ProcureData


@dataclass
class BuildContext:
    data: ProcureData
    #: one row per delivery variable (see :func:`delivery_index`)
    x: pd.DataFrame
    #: Offers with ``offer`` position, ``total_bound`` (largest pooled quantity possible)
    offers: pd.DataFrame
    #: Demand rows with quantity > 0 and their ``demand_row`` position in data.demand
    demand: pd.DataFrame
    #: price segments of tiered offers (see :func:`procure.model.orders.plan_tiers`)
    segments: pd.DataFrame | None = None
    #: first column of the x block, set when the variables are added
    x_start: int = 0

    @property
    def x_cols(self) -> np.ndarray:
        return self.x_start + np.arange(len(self.x))

    # -- rule scopes -------------------------------------------------------
    def partner_mask(self, partner: str | None) -> np.ndarray:
        if partner is None:
            return np.ones(len(self.x), dtype=bool)
        return (self.x["partner"] == partner).to_numpy()

    def item_mask(self, item: str | None) -> np.ndarray:
        return item_mask(self.data, self.x, item)

    def group_mask(self, group: str | None, partner: str | None) -> np.ndarray:
        return group_mask(self.data, self.x, group, partner)


def item_mask(data: ProcureData, frame: pd.DataFrame, item: str | None) -> np.ndarray:
    """Rows whose item is ``item`` (an item id), else in category ``item``, else all."""
    if item is None:
        return np.ones(len(frame), dtype=bool)
    if item in set(data.items["item"]):
        return (frame["item"] == item).to_numpy()
    in_category = data.items.loc[data.items["category"] == item, "item"]
    return frame["item"].isin(set(in_category)).to_numpy()


def group_kind(data: ProcureData, group: str | None) -> str:
    """How SPEC section 3 resolves a group: supplier, then country, then bloc."""
    if group is None:
        return "all"
    if group in ("domestic", "each_supplier", "each_country"):
        return group
    if group in set(data.suppliers["supplier"]):
        return "supplier"
    if group in set(data.suppliers["country"]) or group in set(data.partners["country"]):
        return "country"
    if group in set(data.blocs["bloc"]):
        return "bloc"
    raise ValueError(f"group {group!r} names no supplier, country or bloc")  # validation prevents this


def group_mask(data: ProcureData, frame: pd.DataFrame, group: str | None, partner: str | None) -> np.ndarray:
    """Rows whose supplier belongs to ``group`` (``domestic`` relative to ``partner``,
    or to each row's own partner when ``partner`` is blank)."""
    kind = group_kind(data, group)
    if kind == "all":
        return np.ones(len(frame), dtype=bool)
    if kind == "supplier":
        return (frame["supplier"] == group).to_numpy()
    if kind == "country":
        return (frame["supplier_country"] == group).to_numpy()
    if kind == "bloc":
        members = set(data.blocs.loc[data.blocs["bloc"] == group, "country"])
        return frame["supplier_country"].isin(members).to_numpy()
    if kind == "domestic":
        if partner is None:
            return frame["supplier_country"].to_numpy(dtype=object) == frame["partner_country"].to_numpy(dtype=object)
        home = data.partners.loc[data.partners["partner"] == partner, "country"].iloc[0]
        return (frame["supplier_country"] == home).to_numpy()
    raise ValueError(f"group {group!r} selects no single set of suppliers")


def build_context(data: ProcureData) -> BuildContext:
    offers = data.offers.reset_index(drop=True).copy()
    offers["offer"] = np.arange(len(offers))
    period_pos = {p: k for k, p in enumerate(data.periods)}
    offers["first_pos"] = offers["first_period"].map(period_pos).astype(np.int64)

    demand = data.demand.reset_index(drop=True).copy()
    demand["demand_row"] = np.arange(len(demand))
    demand = demand[demand["quantity"] > 0].reset_index(drop=True)
    demand["period_pos"] = demand["period"].map(period_pos).astype(np.int64)

    x = delivery_index(data, demand, offers)
    offers["total_bound"] = _offer_total_bound(x, len(offers))
    return BuildContext(data=data, x=x, offers=offers, demand=demand)


def delivery_index(data: ProcureData, demand: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """The allowed (partner, item, supplier, period) rows, with what the model needs of each."""
    x = demand[["partner", "item", "period", "period_pos", "quantity", "demand_row"]].merge(
        offers[["offer", "supplier", "item", "unit_price", "first_pos", "capacity", "capacity_use"]],
        on="item",
        how="inner",
    )
    x = x[x["period_pos"] >= x["first_pos"]]
    supplier_country = data.suppliers.set_index("supplier")["country"]
    partner_country = data.partners.set_index("partner")["country"]
    x = x.assign(
        supplier_country=x["supplier"].map(supplier_country),
        partner_country=x["partner"].map(partner_country),
    )
    x = x[~_banned(data, x)].reset_index(drop=True)
    x = x.rename(columns={"unit_price": "base_price", "quantity": "demand"})
    x["transport_cpu"] = _transport_cost(data, x)
    x["period_cap"] = _offer_period_capacity(data, x)
    x["upper"] = np.minimum(x["demand"].to_numpy(dtype=float), x["period_cap"].to_numpy())
    cols = [
        "partner", "item", "supplier", "period", "period_pos", "offer", "demand_row",
        "supplier_country", "partner_country", "base_price", "transport_cpu",
        "capacity_use", "demand", "period_cap", "upper",
    ]
    x = x[cols].sort_values(["offer", "period_pos", "partner"], kind="stable").reset_index(drop=True)
    # rules select deliveries by id hundreds of times over up to millions of rows: categorical
    # columns compare integer codes instead of strings
    for col in ("partner", "item", "supplier", "supplier_country", "partner_country"):
        x[col] = x[col].astype("category")
    return x


def _banned(data: ProcureData, x: pd.DataFrame) -> np.ndarray:
    banned = np.zeros(len(x), dtype=bool)
    bans = data.rules[data.rules["rule"] == "ban"]
    for rule in bans.itertuples(index=False):
        partner = _opt(rule.partner)
        mask = item_mask(data, x, _opt(rule.item)) & group_mask(data, x, _opt(rule.group), partner)
        if partner is not None:
            mask &= (x["partner"] == partner).to_numpy()
        banned |= mask
    return banned


def _transport_cost(data: ProcureData, x: pd.DataFrame) -> np.ndarray:
    """Transport row for (country of s, p, i), falling back to (country of s, p, any item), else 0."""
    t = data.transport
    if t.empty or x.empty:
        return np.zeros(len(x))
    keys = ["supplier_country", "partner"]
    specific = t[t["item"].notna()].rename(columns={"from_country": "supplier_country", "to_partner": "partner"})
    general = t[t["item"].isna()].rename(columns={"from_country": "supplier_country", "to_partner": "partner"})
    cost = x[keys + ["item"]].merge(
        specific[keys + ["item", "cost_per_unit"]], on=keys + ["item"], how="left"
    )["cost_per_unit"].to_numpy(dtype=float)
    fallback = x[keys].merge(general[keys + ["cost_per_unit"]], on=keys, how="left")[
        "cost_per_unit"
    ].to_numpy(dtype=float)
    cost = np.where(np.isnan(cost), fallback, cost)
    return np.nan_to_num(cost, nan=0.0)


def period_capacity(data: ProcureData, frame: pd.DataFrame) -> np.ndarray:
    """Capacity of offer (supplier, item) in each row's period: Capacity sheet, else Offers.capacity
    (inf = unlimited). ``frame`` needs supplier, item, period and the offer's ``capacity``."""
    cap = frame["capacity"].to_numpy(dtype=float).copy()
    if not data.capacity.empty:
        override = frame[["supplier", "item", "period"]].merge(
            data.capacity, on=["supplier", "item", "period"], how="left"
        )["capacity"].to_numpy(dtype=float)
        cap = np.where(np.isnan(override), cap, override)
    return np.where(np.isnan(cap), np.inf, cap)


def _offer_period_capacity(data: ProcureData, x: pd.DataFrame) -> np.ndarray:
    """What the offer of each row can make in that period: its own period capacity, and
    the supplier's shared capacity divided by this item's use of it (inf = unlimited)."""
    frame = x.assign(capacity=x["offer"].map(data.offers.reset_index(drop=True)["capacity"]))
    own = period_capacity(data, frame)
    shared = x["supplier"].map(data.suppliers.set_index("supplier")["capacity"]).to_numpy(dtype=float)
    use = x["capacity_use"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shared_bound = np.where(np.isnan(shared) | (use <= 0), np.inf, shared / use)
    return np.minimum(own, shared_bound)


def _offer_total_bound(x: pd.DataFrame, n_offers: int) -> np.ndarray:
    """Largest pooled quantity an offer can reach: per period the smaller of what it can make
    and the demand it may serve, summed over periods. The big-M of min order, setup, tiers."""
    out = np.zeros(n_offers)
    if x.empty:
        return out
    per_period = x.groupby(["offer", "period_pos"], sort=False).agg(
        served=("upper", "sum"), made=("period_cap", "first")
    )
    bound = np.minimum(per_period["served"], per_period["made"]).groupby(level="offer").sum()
    out[bound.index.to_numpy()] = bound.to_numpy()
    return out


def _opt(value) -> str | None:
    """Blank optional id -> None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value
