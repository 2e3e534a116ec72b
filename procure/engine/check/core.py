"""What every check family shares: the violation record, tolerances, the registry of
families, the plan as the families read it, and :func:`check_plan`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.model.index import group_kind, id_indices, transport_per_unit

#: a constraint fails when it misses by more than RTOL x its scale + ATOL
RTOL = 1e-6
ATOL = 1e-10
#: computed prices and costs: relative tolerance
COST_RTOL = 1e-9

VIOLATION_COLUMNS = ("family", "subject", "amount", "tolerance", "detail")

#: name -> family function, in the order they run (see :func:`family`)
FAMILIES: dict[str, Callable[[Plan], pd.DataFrame]] = {}


def family(name: str):
    """Register ``plan -> DataFrame of violations`` as the check of family ``name``."""

    def register(fn):
        FAMILIES[name] = fn
        return fn

    return register


def tolerance(scale) -> np.ndarray:
    """What a constraint of magnitude ``scale`` may miss by."""
    return RTOL * np.abs(np.asarray(scale, dtype=float)) + ATOL


_EMPTY = pd.DataFrame({c: pd.Series(dtype=float if c in ("amount", "tolerance") else object)
                       for c in VIOLATION_COLUMNS})


def no_violations() -> pd.DataFrame:
    return _EMPTY


def violations(family_name: str, subject, amount, tol, detail: Callable | None = None) -> pd.DataFrame:
    """The positions where ``amount > tol`` (NaN fails too), as violation records.

    ``subject`` names each position: an array, one text, or a function of the failing
    positions returning their names (so that names are made for failures only, as is
    ``detail(k)``, the sentence of failing position ``k``)."""
    amount = np.atleast_1d(np.asarray(amount, dtype=float))
    tol = np.broadcast_to(np.asarray(tol, dtype=float), amount.shape)
    bad = np.flatnonzero(~(amount <= tol))
    if not len(bad):
        return _EMPTY
    if callable(subject):
        names = np.asarray(subject(bad), dtype=object)
    else:
        names = np.broadcast_to(np.asarray(subject, dtype=object), amount.shape)[bad]
    return pd.DataFrame({
        "family": family_name,
        "subject": names,
        "amount": amount[bad],
        "tolerance": tol[bad],
        "detail": [detail(int(k)) if detail is not None else "" for k in bad],
    })


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    found = [p for p in parts if len(p)]
    return pd.concat(found, ignore_index=True) if found else _EMPTY


@dataclass
class PlanCheck:
    """The outcome of :func:`check_plan`."""

    violations: pd.DataFrame  # VIOLATION_COLUMNS, one row per failure
    families: tuple[str, ...]  # the families checked
    seconds: float

    @property
    def ok(self) -> bool:
        return self.violations.empty

    def table(self) -> pd.DataFrame:
        return self.violations.reset_index(drop=True)

    def headline(self) -> str:
        if self.ok:
            return f"plan check passed ({len(self.families)} families)"
        first = self.violations.iloc[0]
        n = len(self.violations)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return f"{first['family']}: {first['subject']}: {first['detail']}{more}"

    def to_dict(self) -> dict:
        return {"ok": self.ok, "families": list(self.families), "seconds": round(self.seconds, 4),
                "violations": self.table().to_dict(orient="records")}

    def __str__(self) -> str:
        if self.ok:
            return self.headline()
        lines = [f"The plan fails the run-time check ({len(self.violations)} violations):"]
        lines += [f"  - {v.family}: {v.subject}: {v.detail} (by {v.amount:.6g}, tolerance "
                  f"{v.tolerance:.3g})" for v in self.violations.itertuples(index=False)]
        return "\n".join(lines)


# --------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """The result's tables joined once with the data: what every family reads."""

    data: ProcureData
    result: object
    #: the allocation, with ``offer`` (row of data.offers, -1: none), ``period_pos``,
    #: ``partner_country``, ``supplier_country`` (the data's), ``cpu`` (transport per unit
    #: from the Transport sheet) and ``base`` (the offer's unit_price)
    alloc: pd.DataFrame
    #: the allocation as given, with its ids as text (for names in messages)
    given: pd.DataFrame
    #: data.offers with ``pooled`` (Q from the allocation), ``first_pos``, ``purchase`` (the
    #: cost C(Q) its price tiers give) and ``paid_price`` (C(Q) / Q)
    offers: pd.DataFrame
    #: integer codes of the allocation's partner, supplier and supplier country (positions in
    #: data.partners, data.suppliers and :attr:`countries`), for sums by bincount
    codes: dict[str, np.ndarray]
    countries: pd.Index
    #: the data's delivery index (procure.engine.model.index), built when a family needs it
    context: object = None

    @property
    def quantity(self) -> np.ndarray:
        return self.alloc["quantity"].to_numpy(dtype=float)

    def sums(self, key: str, weights: np.ndarray) -> np.ndarray:
        """``weights`` summed per partner / supplier / country (``key``), over all of them."""
        size = {"partner": len(self.data.partners), "supplier": len(self.data.suppliers),
                "country": len(self.countries)}[key]
        codes = self.codes[key]
        ok = codes >= 0
        return np.bincount(codes[ok], weights=np.asarray(weights, dtype=float)[ok], minlength=size)

    def item_mask(self, item: str | None) -> np.ndarray:
        """Deliveries of ``item`` (an item id, else every item of that category; None: all)."""
        codes = self.codes["item"]
        if item is None:
            return np.ones(len(codes), dtype=bool)
        items = self.data.items
        ids = items["item"].to_numpy(dtype=object)
        chosen = np.flatnonzero(ids == item)
        if not len(chosen):
            chosen = np.flatnonzero(items["category"].to_numpy(dtype=object) == item)
        return np.isin(codes, chosen)

    def group_mask(self, group: str | None, partner: str | None) -> np.ndarray:
        """Deliveries from the suppliers of ``group``, resolved as the model does
        (:func:`procure.engine.model.index.group_kind`), by their id codes."""
        kind = group_kind(self.data, group)
        codes = self.codes
        if kind == "all":
            return np.ones(len(codes["supplier"]), dtype=bool)
        if kind == "supplier":
            return codes["supplier"] == self.data.suppliers["supplier"].tolist().index(group)
        countries = self.countries
        if kind == "country":
            return codes["country"] == countries.get_loc(group)
        if kind == "bloc":
            blocs = self.data.blocs
            members = countries.get_indexer(blocs.loc[blocs["bloc"] == group, "country"])
            return np.isin(codes["country"], members[members >= 0])
        if kind == "domestic":
            if partner is None:  # each delivery's own partner
                return (codes["country"] == codes["partner_country"]) & (codes["country"] >= 0)
            home = self.data.partners.set_index("partner").at[partner, "country"]
            return codes["country"] == countries.get_loc(home)
        raise ValueError(f"group {group!r} selects no single set of suppliers")

    def partner_mask(self, partner: str | None) -> np.ndarray:
        codes = self.codes["partner"]
        if partner is None:
            return np.ones(len(codes), dtype=bool)
        return codes == self.data.partners["partner"].tolist().index(partner)

    def names(self, key: str) -> np.ndarray:
        return {"partner": self.data.partners["partner"].to_numpy(dtype=object),
                "supplier": self.data.suppliers["supplier"].to_numpy(dtype=object),
                "country": self.countries.to_numpy(dtype=object)}[key]


def codes_in(values, index: pd.Index) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1: not there), factorised first: a result table
    repeats a few ids over many rows."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    factor, uniques = pd.factorize(values)
    found = index.get_indexer(uniques)
    return np.where(factor >= 0, found[np.maximum(factor, 0)], -1)


def make_plan(data: ProcureData, result) -> Plan:
    offers = data.offers.reset_index(drop=True).copy()
    periods = pd.Index(data.periods)
    offers["first_pos"] = periods.get_indexer(offers["first_period"])
    table = table_of(result, "allocation").reset_index(drop=True)
    n = len(table)

    def column(name: str) -> pd.Series:
        return table[name] if name in table else pd.Series(np.full(n, np.nan), dtype=object)

    items, partners, suppliers, countries = id_indices(data)
    partner = codes_in(column("partner"), partners)
    item = codes_in(column("item"), items)
    demand_item = codes_in(column("demand_item"), items) if "demand_item" in table else item
    supplier = codes_in(column("supplier"), suppliers)
    # countries are the data's, whatever the table says
    supplier_country = np.where(supplier >= 0, countries.get_indexer(data.suppliers["country"])[
        np.maximum(supplier, 0)], -1)
    partner_country = np.where(partner >= 0, countries.get_indexer(data.partners["country"])[
        np.maximum(partner, 0)], -1)
    # the offer of each delivery, by one integer key per (supplier, item)
    offer_key = pd.Index(suppliers.get_indexer(offers["supplier"]).astype(np.int64) * len(items)
                         + items.get_indexer(offers["item"]))
    known = (supplier >= 0) & (item >= 0)
    offer = np.where(known, offer_key.get_indexer(supplier.astype(np.int64) * len(items) + item), -1)

    def categorical(codes, categories):
        # id columns as categoricals: rules select deliveries by comparing codes (an id the
        # data does not know is a missing value, reported by family "delivery")
        return pd.Categorical.from_codes(codes, categories=categories)

    alloc = pd.DataFrame({
        "partner": categorical(partner, partners), "item": categorical(item, items),
        "demand_item": categorical(demand_item, items), "supplier": categorical(supplier, suppliers),
        "supplier_country": categorical(supplier_country, countries),
        "partner_country": categorical(partner_country, countries),
        "period_pos": codes_in(column("period"), periods), "offer": offer,
        "quantity": column("quantity").to_numpy(dtype=float),
        "unit_price": column("unit_price").to_numpy(dtype=float),
    })
    for name in ("transport", "cost"):
        if name in table:
            alloc[name] = table[name].to_numpy(dtype=float)
    known = (supplier_country >= 0) & (partner >= 0) & (item >= 0)
    alloc["cpu"] = np.where(known, transport_per_unit(data, alloc, countries, partners, items), 0.0) \
        if known.any() else np.zeros(n)
    ok = offer >= 0
    alloc["base"] = np.where(ok, offers["unit_price"].to_numpy(dtype=float)[np.maximum(offer, 0)], np.nan)
    q = alloc["quantity"].to_numpy()
    offers["pooled"] = np.bincount(offer[ok], weights=q[ok], minlength=len(offers))
    offers["purchase"] = _purchase_cost(data, offers)
    pooled = offers["pooled"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        offers["paid_price"] = np.where(pooled > 0, offers["purchase"] / np.where(pooled > 0, pooled, 1),
                                        offers["unit_price"])
    codes = {"partner": partner, "supplier": supplier, "country": supplier_country,
             "item": item, "demand_item": demand_item, "partner_country": partner_country}
    given = pd.DataFrame({name: column(name) for name in ("partner", "item", "supplier", "period")})
    given["demand_item"] = column("demand_item") if "demand_item" in table else given["item"]
    return Plan(data, result, alloc, given, offers, codes, countries)


def table_of(result, name: str) -> pd.DataFrame:
    table = getattr(result, name, None)
    return table if isinstance(table, pd.DataFrame) else pd.DataFrame()


def _purchase_cost(data: ProcureData, offers: pd.DataFrame) -> np.ndarray:
    """C(Q) of every offer from its price bands (its base price from 0, then its PriceTiers):
    all_units, every unit at the price of the band with the largest min_quantity <= Q;
    incremental, each band's units at the band's own price."""
    base = pd.DataFrame({"offer": np.arange(len(offers)), "min_quantity": 0.0,
                         "unit_price": offers["unit_price"].to_numpy(dtype=float)})
    tiers = data.price_tiers
    if len(tiers):
        tiers = tiers.merge(offers[["supplier", "item"]].reset_index(names="offer"),
                            on=["supplier", "item"])[["offer", "min_quantity", "unit_price"]]
        seg = pd.concat([base, tiers], ignore_index=True).sort_values(
            ["offer", "min_quantity"], kind="stable").reset_index(drop=True)
    else:
        seg = base
    o = seg["offer"].to_numpy()
    lo = seg["min_quantity"].to_numpy(dtype=float)
    nxt = np.append(np.where(o[1:] == o[:-1], lo[1:], np.inf), np.inf) if len(o) else lo
    price = seg["unit_price"].to_numpy(dtype=float)
    q = offers["pooled"].to_numpy(dtype=float)[o]
    incremental = (offers["discount"].to_numpy() == "incremental")[o]
    band = np.clip(np.minimum(q, nxt) - lo, 0.0, None) * price
    # all_units: the band Q falls in (a tier counts as reached within the results' rounding)
    reached = lo <= q * (1 + COST_RTOL)
    in_band = reached & ~(nxt <= q * (1 + COST_RTOL))
    cost = np.where(incremental, band, np.where(in_band, price * q, 0.0))
    return np.bincount(o, weights=cost, minlength=len(offers))


def delivery_names(plan: Plan):
    """Names of deliveries for :func:`violations`, made for failing positions only:
    ``PL / shell / RHM / 2027`` (``PL / shell_b (for shell) / ...`` for a substitute)."""

    a = plan.given

    def names(idx: np.ndarray) -> list[str]:
        rows = a.iloc[idx]
        return [f"{r.partner} / {r.item}" + ("" if r.demand_item == r.item else f" (for {r.demand_item})")
                + f" / {r.supplier} / {r.period}" for r in rows.itertuples(index=False)]

    return names


def offer_names(offers: pd.DataFrame):
    def names(idx: np.ndarray) -> list[str]:
        return [f"{s} / {i}" for s, i in zip(offers["supplier"].to_numpy()[idx],
                                              offers["item"].to_numpy()[idx], strict=True)]

    return names


def check_plan(data: ProcureData, result) -> PlanCheck:
    """Re-check ``result``'s plan against every constraint of ``data`` (package docstring)."""
    start = time.perf_counter()
    plan = make_plan(data, result)
    table = concat([check(plan) for check in FAMILIES.values()])
    return PlanCheck(table, tuple(FAMILIES), time.perf_counter() - start)
