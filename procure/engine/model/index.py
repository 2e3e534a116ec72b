"""Which deliveries may exist, and how rules select among them.

The delivery variables ``x[p,d,i,s,t]`` are created only on the filtered index of
allowed rows (gurobipy-pandas style): a Demand row (p, d, t) with quantity > 0, an item
i that p accepts for d (d itself, or a Substitutes row letting p take i for d), an
offer (s, i), ``t >= first_period``, and no ``ban`` rule forbidding (p, s, i).  Demand
of zero needs no variable: the demand equality would force it to zero anyway.

Column ``item`` of the index is the item delivered (i), ``demand_item`` the item whose
demand it serves (d): capacity, prices, tiers, budgets and every rule's item scope read
``item``; only the demand balance (through ``demand_row``) reads d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData


@dataclass
class BuildContext:
    data: ProcureData
    #: one row per delivery variable (see :func:`delivery_index`)
    x: pd.DataFrame
    #: Offers with ``offer`` position, ``total_bound`` (largest pooled quantity possible)
    offers: pd.DataFrame
    #: Demand rows with quantity > 0 and their ``demand_row`` position in data.demand
    demand: pd.DataFrame
    #: price segments of tiered offers (see :func:`procure.engine.model.orders.plan_tiers`)
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
    """How a group resolves (docs/model.md, rules): a supplier, then a country, then a bloc,
    then the keywords (validation resolves it the same way, and warns when it is ambiguous)."""
    if group is None:
        return "all"
    if group in set(data.suppliers["supplier"]):
        return "supplier"
    if group in set(data.suppliers["country"]) or group in set(data.partners["country"]):
        return "country"
    if group in set(data.blocs["bloc"]):
        return "bloc"
    if group in ("domestic", "each_supplier", "each_country"):
        return group
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
    """The allowed (partner, item, supplier, period) rows, with what the model needs of each.

    Ids become integer codes first (every join below is on codes, not strings: at half a
    million rows string joins cost more than the rest of the build), and the id columns of
    the result are categoricals, so that rules select deliveries by comparing codes.
    """
    items, partners, suppliers, countries = id_indices(data)
    offer_item = items.get_indexer(offers["item"])
    # (demand row, item accepted for it): the row's own item, and its substitutes
    pair_row, pair_item = accepted_items(data, demand, items, partners)

    # every (accepted pair, offer of the accepted item): a join on the item code
    by_item = np.argsort(offer_item, kind="stable")
    count = np.bincount(offer_item, minlength=len(items))
    first_offer = np.cumsum(count) - count
    repeat = count[pair_item]
    pair = np.repeat(np.arange(len(pair_row)), repeat)
    within = np.arange(len(pair)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    o = by_item[np.repeat(first_offer[pair_item], repeat) + within]
    d = pair_row[pair]
    period_pos = demand["period_pos"].to_numpy()
    in_time = period_pos[d] >= offers["first_pos"].to_numpy()[o]
    d, o = d[in_time], o[in_time]
    demand_item = items.get_indexer(demand["item"])

    partner = partners.get_indexer(demand["partner"])[d]
    supplier = suppliers.get_indexer(offers["supplier"])[o]
    supplier_country = countries.get_indexer(data.suppliers["country"])[supplier]
    partner_country = countries.get_indexer(data.partners["country"])[partner]
    order = np.lexsort((demand_item[d], partner, period_pos[d], o))
    d, o = d[order], o[order]
    partner, supplier = partner[order], supplier[order]
    supplier_country, partner_country = supplier_country[order], partner_country[order]

    def categorical(codes, categories):
        return pd.Categorical.from_codes(codes, categories=categories)

    x = pd.DataFrame({
        # rules select deliveries by id hundreds of times over up to millions of rows:
        # categorical columns compare integer codes instead of strings
        "partner": categorical(partner, partners),
        "item": categorical(offer_item[o], items),
        "demand_item": categorical(demand_item[d], items),
        "supplier": categorical(supplier, suppliers),
        "period": demand["period"].to_numpy()[d],
        "period_pos": period_pos[d],
        "offer": offers["offer"].to_numpy()[o],
        "demand_row": demand["demand_row"].to_numpy()[d],
        "supplier_country": categorical(supplier_country, countries),
        "partner_country": categorical(partner_country, countries),
        "base_price": offers["unit_price"].to_numpy(dtype=float)[o],
        "capacity_use": offers["capacity_use"].to_numpy(dtype=float)[o],
        "demand": demand["quantity"].to_numpy(dtype=float)[d],
    })
    x = x[~banned_mask(data, x)].reset_index(drop=True)
    x["transport_cpu"] = transport_per_unit(data, x, countries, partners, items)
    x["period_cap"] = _offer_period_capacity(data, x, offers)
    x["upper"] = np.minimum(x["demand"].to_numpy(), x["period_cap"].to_numpy())
    whole = data.items["whole_units"].to_numpy(dtype=bool) if "whole_units" in data.items \
        else np.zeros(len(items), dtype=bool)
    x["whole_units"] = whole[x["item"].cat.codes.to_numpy()]
    cols = [
        "partner", "item", "demand_item", "supplier", "period", "period_pos", "offer", "demand_row",
        "supplier_country", "partner_country", "base_price", "transport_cpu",
        "capacity_use", "demand", "period_cap", "upper", "whole_units",
    ]
    return x[cols]


def accepted_items(data: ProcureData, demand: pd.DataFrame, items: pd.Index,
                   partners: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every (demand row position, item code) such that the row's partner accepts the item for
    the row's item: the item itself, and each Substitutes row for that item naming the partner
    or no partner. Pairs come sorted by demand row, each row's own item first."""
    n = len(demand)
    own_item = items.get_indexer(demand["item"])
    subs = data.substitutes
    if subs is None or subs.empty or n == 0:
        return np.arange(n), own_item
    sub_item = items.get_indexer(subs["item"])
    sub_with = items.get_indexer(subs["substitute"])
    sub_partner = np.where(subs["partner"].isna().to_numpy(), -1,
                           partners.get_indexer(subs["partner"].fillna("")))
    row_partner = partners.get_indexer(demand["partner"])
    # one integer key per (item, partner or -1 = every partner)
    width = len(partners) + 1
    table = pd.DataFrame({"key": sub_item.astype(np.int64) * width + sub_partner + 1,
                          "with": sub_with})
    keys = pd.DataFrame({"row": np.arange(n), "key": own_item.astype(np.int64) * width})
    general = keys.merge(table, on="key")
    specific = keys.assign(key=keys["key"] + row_partner + 1).merge(table, on="key")
    extra = pd.concat([general, specific], ignore_index=True).drop_duplicates(["row", "with"])
    rows = np.concatenate([np.arange(n), extra["row"].to_numpy()])
    accepted = np.concatenate([own_item, extra["with"].to_numpy()])
    own_first = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(len(extra), dtype=np.int64)])
    order = np.lexsort((accepted, own_first, rows))
    return rows[order], accepted[order]


def banned_mask(data: ProcureData, x: pd.DataFrame) -> np.ndarray:
    """Rows (partner, item, supplier, supplier_country, partner_country) that a ban forbids."""
    banned = np.zeros(len(x), dtype=bool)
    bans = data.rules[data.rules["rule"] == "ban"]
    for rule in bans.itertuples(index=False):
        partner = blank_to_none(rule.partner)
        mask = item_mask(data, x, blank_to_none(rule.item)) & group_mask(data, x, blank_to_none(rule.group), partner)
        if partner is not None:
            mask &= (x["partner"] == partner).to_numpy()
        banned |= mask
    return banned


def id_indices(data: ProcureData) -> tuple[pd.Index, pd.Index, pd.Index, pd.Index]:
    """Items, partners, suppliers and countries (of suppliers, then of partners) as indices:
    the categories of every id column of the delivery index."""
    return (pd.Index(data.items["item"]), pd.Index(data.partners["partner"]),
            pd.Index(data.suppliers["supplier"]),
            pd.Index(pd.unique(pd.concat([data.suppliers["country"], data.partners["country"]]))))


def transport_per_unit(data: ProcureData, x: pd.DataFrame, countries: pd.Index, partners: pd.Index,
                       items: pd.Index) -> np.ndarray:
    """Transport row for (country of s, p, i), falling back to (country of s, p, any item), else 0.

    Looked up by one integer key per (country, partner, item), item ``len(items)`` meaning
    "every item"."""
    t = data.transport
    if t.empty or x.empty:
        return np.zeros(len(x))
    n_p, n_i = len(partners), len(items) + 1
    country = countries.get_indexer(t["from_country"])
    partner = partners.get_indexer(t["to_partner"])
    item = np.where(t["item"].isna().to_numpy(), len(items), items.get_indexer(t["item"].fillna("")))
    known = (country >= 0) & (partner >= 0) & (item >= 0)  # a country no supplier has: never used
    if not known.any():
        return np.zeros(len(x))
    table = pd.Index((country * n_p + partner)[known].astype(np.int64) * n_i + item[known])
    cost = t["cost_per_unit"].to_numpy(dtype=float)[known]
    base = (x["supplier_country"].cat.codes.to_numpy().astype(np.int64) * n_p
            + x["partner"].cat.codes.to_numpy()) * n_i
    specific = table.get_indexer(base + x["item"].cat.codes.to_numpy())
    general = table.get_indexer(base + len(items))
    return np.where(specific >= 0, cost[specific],
                    np.where(general >= 0, cost[general], 0.0))


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


def _offer_period_capacity(data: ProcureData, x: pd.DataFrame, offers: pd.DataFrame) -> np.ndarray:
    """What the offer of each row can make in that period: its own period capacity (Capacity
    sheet, else Offers.capacity), and the supplier's shared capacity divided by this item's use
    of it (inf = unlimited)."""
    n_t = len(data.periods)
    offer = x["offer"].to_numpy()
    own = offers["capacity"].to_numpy(dtype=float)[offer]
    if not data.capacity.empty:
        offer_of = pd.Index(pd.MultiIndex.from_frame(offers[["supplier", "item"]]))
        cap_offer = offer_of.get_indexer(pd.MultiIndex.from_frame(data.capacity[["supplier", "item"]]))
        cap_pos = pd.Index(data.periods).get_indexer(data.capacity["period"])
        known = (cap_offer >= 0) & (cap_pos >= 0)
        table = pd.Index(cap_offer[known].astype(np.int64) * n_t + cap_pos[known])
        at = table.get_indexer(offer.astype(np.int64) * n_t + x["period_pos"].to_numpy())
        own = np.where(at >= 0, data.capacity["capacity"].to_numpy(dtype=float)[known][np.maximum(at, 0)], own)
    own = np.where(np.isnan(own), np.inf, own)
    shared = data.suppliers["capacity"].to_numpy(dtype=float)[x["supplier"].cat.codes.to_numpy()]
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


def blank_to_none(value) -> str | None:
    """Blank optional id -> None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value
