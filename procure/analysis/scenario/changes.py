"""One implementation of each scenario change (docs/model.md section 6), applied in the order of docs/model.md section 6.

Every change checks its ids and rule names against the data it is applied to and records a
problem instead of guessing; a change with a problem is skipped so that the changes after it
are still checked (all mistakes are reported at once). The data is never mutated: each change
returns new tables.

* :func:`remove_partners`: docs/model.md section 4, through
  :func:`procure.analysis.sharing.coalition_data` (demand and partner-scoped rules go; a pool
  quantity rule is scaled by the share of the pool's demand that stays).
* :func:`rules_off`, :func:`scale_capacity`, :func:`scale_price`, :func:`scale_demand`,
  :func:`change_rule`, :func:`add_rule`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.analysis.scenario.keys import Reporter, nearest, suggest
from procure.analysis.sharing import coalition_data
from procure.data.schema import COUNT_RULES, QUANTITY_RULES, SHARE_RULES
from procure.data.tables import ProcureData
from procure.engine.model.index import item_mask
from procure.engine.results import rule_label

SHARE_USERS = (*SHARE_RULES, "workshare")
QUANTITY_USERS = (*QUANTITY_RULES, *COUNT_RULES)
_RULE_ROW = re.compile(r"\s*rules\s*!\s*(\d+)\s*$", re.IGNORECASE)


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class RuleRef:
    """A rule named by a scenario: its Rules row in the base and how it was named."""

    row: int
    label: str


def rule_names(rules: pd.DataFrame) -> dict[str, list[int]]:
    """Each name a rule may be called by -> the Rules rows of that name: the ``name`` cell,
    or, for a rule without one, the label reports show for it."""
    out: dict[str, list[int]] = {}
    for rule in rules.itertuples(index=False):
        out.setdefault(rule_label(rule), []).append(int(rule.source_row))
    return out


def resolve_rule(rep: Reporter, key: str, name: str, rules: pd.DataFrame,
                 names: dict[str, list[int]]) -> RuleRef | None:
    """The base rule called ``name`` (``Rules!<row>`` or its name), else a recorded problem."""
    rows = set(int(r) for r in rules["source_row"])
    m = _RULE_ROW.match(name)
    if m:
        row = int(m.group(1))
        if row in rows:
            label = rule_label(rules.loc[rules["source_row"] == row].iloc[0])
            return RuleRef(row, label)
        rep.add(key, name, f"the base workbook has no rule in Rules row {row}",
                "name a rule by Rules!<row> with a row of sheet Rules ("
                + (f"rows {min(rows)} to {max(rows)}" if rows else "the sheet has no rules")
                + "), or by its name")
        return None
    found = names.get(name)
    if found is None:
        near = nearest(name, names)
        rep.add(key, name, "no rule of the base workbook has this name",
                (f"did you mean {near!r}? " if near else "")
                + "name a rule exactly as in the Rules sheet's name column, or by "
                "Rules!<row>")
        return None
    if len(found) > 1:
        rep.add(key, name, f"{len(found)} rules share this name (Rules rows "
                + ", ".join(map(str, found)) + ")",
                "name the one you mean by its row, e.g. " + f"Rules!{found[0]}"
                + ", or give the rules different names in the workbook")
        return None
    return RuleRef(found[0], name)


def _ids_known(rep: Reporter, key: str, data: ProcureData, entry: dict) -> bool:
    """Whether the partner, item (or category) and period an entry names exist; records a
    problem for each that does not."""
    ok = True
    partner, item, period = entry.get("partner"), entry.get("item"), entry.get("period")
    if partner is not None and partner not in set(data.partners["partner"]):
        rep.add(f"{key}.partner", partner, "no partner of sheet Partners has this id",
                suggest(partner, data.partners["partner"], "partners"))
        ok = False
    if item is not None and not _items(data, item):
        _item_problem(rep, f"{key}.item", data, item)
        ok = False
    if period is not None and period not in data.periods:
        _period_problem(rep, f"{key}.period", data, period)
        ok = False
    return ok


def _items(data: ProcureData, item: str | None) -> bool:
    """Whether ``item`` (an item id or a category) is known; records nothing."""
    if item is None:
        return True
    return item in set(data.items["item"]) or item in set(data.items["category"].dropna())


def _item_problem(rep: Reporter, key: str, data: ProcureData, item: str) -> None:
    categories = set(data.items["category"].dropna())
    rep.add(key, item, "no item or category of sheet Items has this id",
            suggest(item, list(data.items["item"]) + sorted(categories), "items and categories"))


def _period_problem(rep: Reporter, key: str, data: ProcureData, period: str) -> None:
    rep.add(key, period, "is not a period of sheet Demand",
            suggest(period, data.periods, "periods"))


# --------------------------------------------------------------------------- partners, rules


def remove_partners(rep: Reporter, data: ProcureData, partners: list[str]) -> ProcureData:
    known = list(data.partners["partner"])
    bad = False
    for k, p in enumerate(partners, start=1):
        if p not in known:
            rep.add(f"remove_partners[{k}]", p, "no partner of sheet Partners has this id",
                    suggest(p, known, "partners"))
            bad = True
    if bad or not partners:
        return data
    stay = [p for p in known if p not in set(partners)]
    if not stay:
        rep.add("remove_partners", partners, "removes every partner: nothing is left to buy",
                "keep at least one partner")
        return data
    out = coalition_data(data, stay)
    # a removed partner's own Substitutes rows go with it (rows for every partner stay)
    subs = out.substitutes
    return out.replace(substitutes=subs[~subs["partner"].isin(set(partners))].reset_index(drop=True))


def rules_off(data: ProcureData, rows: Iterable[int]) -> ProcureData:
    """Drop the rules of these base Rules rows (a rule already dropped stays dropped)."""
    keep = ~data.rules["source_row"].isin(set(rows))
    return data.replace(rules=data.rules[keep].reset_index(drop=True))


# --------------------------------------------------------------------------- capacity, price


def _suppliers(rep: Reporter, key: str, data: ProcureData, entry: dict,
               need_one: bool) -> set[str] | None:
    """The suppliers an entry names (by supplier or by country); ``None`` after a problem,
    an empty set when neither is given and ``need_one`` is false (every supplier)."""
    supplier, country = entry.get("supplier"), entry.get("country")
    if supplier is not None and country is not None:
        rep.add(key, f"supplier = {supplier!r}, country = {country!r}",
                "gives both supplier and country", "keep one of them (a country means every "
                "supplier in it)")
        return None
    if supplier is None and country is None:
        if need_one:
            rep.add(key, None, "names no supplier or country",
                    "add supplier = \"...\" (one supplier) or country = \"...\" (every supplier "
                    "in that country)")
            return None
        return set()
    sup = data.suppliers
    if supplier is not None:
        if supplier not in set(sup["supplier"]):
            rep.add(f"{key}.supplier", supplier, "no supplier of sheet Suppliers has this id",
                    suggest(supplier, sup["supplier"], "suppliers"))
            return None
        return {supplier}
    chosen = set(sup.loc[sup["country"] == country, "supplier"])
    if not chosen:
        rep.add(f"{key}.country", country, "no supplier of sheet Suppliers is in this country",
                suggest(country, sup["country"], "supplier countries"))
        return None
    return chosen


def _offers_matched(rep: Reporter, key: str, data: ProcureData, entry: dict,
                    need_supplier: bool) -> np.ndarray | None:
    """Mask of the Offers rows an entry names; ``None`` after a problem."""
    suppliers = _suppliers(rep, key, data, entry, need_supplier)
    item = entry.get("item")
    if not _ids_known(rep, key, data, entry) or suppliers is None:
        return None
    offers = data.offers
    mask = item_mask(data, offers, item)
    if suppliers:
        mask = mask & offers["supplier"].isin(suppliers).to_numpy()
    if not mask.any():
        who = (f"supplier {entry['supplier']}" if entry.get("supplier")
               else f"the suppliers in {entry['country']}" if entry.get("country")
               else "any supplier")
        rep.add(key, item, f"{who} has no offer of {item!r} in sheet Offers",
                "name an item the supplier offers, or another supplier")
        return None
    return mask


def _fmt(v: float) -> str:
    return f"{v:g}"


def scale_capacity(rep: Reporter, key: str, data: ProcureData, entry: dict) -> ProcureData:
    """Multiply capacity: the matching Offers.capacity and Capacity overrides, and, when no
    item is named, the suppliers' shared capacity; in one period only when ``period`` is named.

    A factor above 0 where a matching offer has no capacity to multiply (unlimited) is an
    error, as is a factor above 0 for one period of a supplier with a shared capacity (the
    shared capacity holds for every period, so one period of it cannot be scaled)."""
    mask = _offers_matched(rep, key, data, entry, need_supplier=True)
    if mask is None:
        return data
    factor, item, period = float(entry["factor"]), entry.get("item"), entry.get("period")
    offers = data.offers
    matched = offers[mask]
    shared = data.suppliers.set_index("supplier")["capacity"]
    overrides = data.capacity
    override_keys = set(zip(overrides["supplier"], overrides["item"], overrides["period"],
                            strict=True))
    scales_shared = item is None and period is None
    if factor > 0:
        if period is not None and item is None:
            limited = sorted(s for s in set(matched["supplier"]) if math.isfinite(shared[s]))
            if limited:
                rep.add(f"{key}.period", period,
                        f"supplier {', '.join(limited)} has a shared capacity (sheet Suppliers), "
                        "which holds in every period: it cannot be scaled for one period",
                        "name an item too (its offer's capacity is scaled in that period), or "
                        "drop the period (the shared capacity is scaled in every period)")
                return data
        order = {p: k for k, p in enumerate(data.periods)}
        unlimited = []
        for off in matched.itertuples(index=False):
            periods = [period] if period is not None else list(data.periods)
            start = order.get(off.first_period, 0)
            for t in periods:
                if order[t] < start:
                    continue  # the offer cannot deliver yet: nothing to scale
                if (off.supplier, off.item, t) in override_keys or math.isfinite(off.capacity):
                    continue
                if (scales_shared and math.isfinite(shared[off.supplier])
                        and off.capacity_use > 0):
                    continue
                unlimited.append(f"{off.supplier}/{off.item}")
                break
        if unlimited:
            rep.add(f"{key}.factor", factor,
                    f"a factor above 0 on an unlimited capacity: offer {', '.join(unlimited)} has "
                    "no capacity (Offers.capacity blank) to multiply",
                    "use factor = 0 (the offer delivers nothing), or give the offer a capacity "
                    "in the workbook first")
            return data
    offers = offers.copy()
    overrides = overrides.copy()
    if period is None:
        cap = offers.loc[mask, "capacity"] * factor
        offers.loc[mask, "capacity"] = cap.fillna(0.0) if factor == 0 else cap
        pairs = set(zip(matched["supplier"], matched["item"], strict=True))
        over = np.fromiter(((s, i) in pairs for s, i in
                            zip(overrides["supplier"], overrides["item"], strict=True)),
                           dtype=bool, count=len(overrides))
        overrides.loc[over, "capacity"] = overrides.loc[over, "capacity"] * factor
        suppliers = data.suppliers
        if scales_shared:
            suppliers = suppliers.copy()
            on = suppliers["supplier"].isin(set(matched["supplier"]))
            suppliers.loc[on, "capacity"] = suppliers.loc[on, "capacity"] * factor
        return data.replace(offers=offers, capacity=overrides, suppliers=suppliers)
    # one period: an override row per matching offer, from the capacity it has in that period
    index = {k: pos for pos, k in enumerate(zip(overrides["supplier"], overrides["item"],
                                                 overrides["period"], strict=True))}
    new_rows = []
    order = {p: k for k, p in enumerate(data.periods)}
    for off in matched.itertuples(index=False):
        if order[period] < order.get(off.first_period, 0):
            continue
        at = index.get((off.supplier, off.item, period))
        current = overrides["capacity"].iat[at] if at is not None else off.capacity
        value = 0.0 if factor == 0 else current * factor
        if at is not None:
            overrides.iloc[at, overrides.columns.get_loc("capacity")] = value
        else:
            new_rows.append({"supplier": off.supplier, "item": off.item, "period": period,
                             "capacity": value})
    if new_rows:
        added = pd.DataFrame(new_rows, columns=overrides.columns).astype(overrides.dtypes.to_dict())
        overrides = pd.concat([overrides, added], ignore_index=True)
    return data.replace(capacity=overrides)


def scale_price(rep: Reporter, key: str, data: ProcureData, entry: dict) -> ProcureData:
    """Multiply the unit_price of the matching offers and every one of their price tiers."""
    mask = _offers_matched(rep, key, data, entry, need_supplier=False)
    if mask is None:
        return data
    factor = float(entry["factor"])
    offers = data.offers.copy()
    offers.loc[mask, "unit_price"] = offers.loc[mask, "unit_price"] * factor
    pairs = set(zip(offers.loc[mask, "supplier"], offers.loc[mask, "item"], strict=True))
    tiers = data.price_tiers.copy()
    on = np.fromiter(((s, i) in pairs for s, i in zip(tiers["supplier"], tiers["item"],
                                                        strict=True)),
                     dtype=bool, count=len(tiers))
    tiers.loc[on, "unit_price"] = tiers.loc[on, "unit_price"] * factor
    return data.replace(offers=offers, price_tiers=tiers)


# --------------------------------------------------------------------------- demand


def _whole_items(data: ProcureData) -> set[str]:
    """Items counted in whole units (Items.whole_units, when the workbook has it)."""
    if "whole_units" not in data.items.columns:
        return set()
    flags = data.items["whole_units"]
    whole = flags.map(lambda v: v is True or (isinstance(v, (int, float)) and v == 1)
                      or (isinstance(v, str) and v.strip().lower() in ("yes", "true", "1")))
    return set(data.items.loc[whole.astype(bool), "item"])


def scale_demand(rep: Reporter, key: str, data: ProcureData, entry: dict,
                 removed: Iterable[str] = ()) -> ProcureData:
    """Multiply the matching Demand quantities; ``round`` rounds them to whole units."""
    partner, item, period = entry.get("partner"), entry.get("item"), entry.get("period")
    if not _ids_known(rep, key, data, entry):
        return data
    demand = data.demand
    mask = item_mask(data, demand, item)
    if partner is not None:
        mask = mask & (demand["partner"] == partner).to_numpy()
    if period is not None:
        mask = mask & (demand["period"] == period).to_numpy()
    if not mask.any():
        why = (f" ({partner} is removed by remove_partners)" if partner in set(removed)
               else "")
        rep.add(key, None, "matches no row of sheet Demand" + why,
                "name a partner, item and period that the Demand sheet has together")
        return data
    factor = float(entry["factor"])
    new = demand.loc[mask, "quantity"].to_numpy() * factor
    rounding = entry.get("round")
    if rounding is not None:
        new = {"up": np.ceil, "down": np.floor, "nearest": np.round}[rounding](new - 1e-9
              if rounding == "up" else new + 1e-9 if rounding == "down" else new)
    whole = _whole_items(data)
    if whole and rounding is None:
        items = demand.loc[mask, "item"].to_numpy()
        frac = np.isin(items, list(whole)) & (np.abs(new - np.round(new)) > 1e-9)
        if frac.any():
            first = np.flatnonzero(frac)[0]
            rows = demand.loc[mask].iloc[first]
            rep.add(f"{key}.factor", factor,
                    f"gives {items[first]} (counted in whole units) a quantity that is not whole: "
                    f"{_fmt(rows['quantity'])} x {_fmt(factor)} = {_fmt(new[first])} for "
                    f"{rows['partner']} in {rows['period']} ({int(frac.sum())} row(s) in all)",
                    'add round = "up" (or "nearest", "down") to this [[demand]] table')
            return data
    demand = demand.copy()
    demand.loc[mask, "quantity"] = new
    return data.replace(demand=demand)


# --------------------------------------------------------------------------- rule changes


def change_rule(rep: Reporter, key: str, data: ProcureData, entry: dict, ref: RuleRef,
                why_gone: str) -> tuple[ProcureData, int | None]:
    """Set a rule's share or quantity; returns the data and the position of the changed rule."""
    rules = data.rules
    where = np.flatnonzero((rules["source_row"] == ref.row).to_numpy())
    if not len(where):
        rep.add(f"{key}.name", entry["name"], f"the rule {why_gone}",
                "keep the rule, or do not change it")
        return data, None
    pos = int(where[0])
    kind = rules["rule"].iat[pos]
    ok = True
    if "share" not in entry and "quantity" not in entry:
        rep.add(key, entry["name"], "changes nothing", "add share = ... or quantity = ...")
        ok = False
    if "share" in entry and kind not in SHARE_USERS:
        rep.add(f"{key}.share", entry["share"], f"rule {ref.label!r} is a {kind} rule: it has "
                "no share", "change its quantity instead" if kind in QUANTITY_USERS
                else "a ban has no threshold: turn it off with rules_off instead")
        ok = False
    if "quantity" in entry and kind not in QUANTITY_USERS:
        rep.add(f"{key}.quantity", entry["quantity"], f"rule {ref.label!r} is a {kind} rule: "
                "it has no quantity", "change its share instead" if kind in SHARE_USERS
                else "a ban has no threshold: turn it off with rules_off instead")
        ok = False
    if "quantity" in entry and kind in COUNT_RULES and not float(entry["quantity"]).is_integer():
        rep.add(f"{key}.quantity", entry["quantity"], f"{kind} counts suppliers: the quantity "
                "must be a whole number", f"write {math.floor(entry['quantity'])} or "
                f"{math.ceil(entry['quantity'])}")
        ok = False
    if not ok:
        return data, None
    rules = rules.copy()
    for column in ("share", "quantity"):
        if column in entry:
            rules.iloc[pos, rules.columns.get_loc(column)] = float(entry[column])
    return data.replace(rules=rules), pos


def add_rule(rep: Reporter, key: str, data: ProcureData, entry: dict, row: int,
             taken: set[str]) -> ProcureData:
    """Append a rule (the columns of the Rules sheet) at Rules row ``row``, with a name no
    other rule has. Its ids are checked when the data is validated again."""
    name = entry.get("name")
    group = entry.get("group")
    ok = _ids_known(rep, key, data, entry)
    groups = (set(data.suppliers["supplier"]) | set(data.suppliers["country"])
              | set(data.partners["country"]) | set(data.blocs["bloc"]))
    keywords = ("domestic", "each_supplier", "each_country")
    if group is not None and group not in groups and group.lower() not in keywords:
        rep.add(f"{key}.group", group, "names no supplier, country or bloc of the workbook",
                suggest(group, sorted(groups) + list(keywords), "groups"))
        ok = False
    if not ok:
        return data
    rule = {"rule": entry["rule"], "partner": entry.get("partner"), "item": entry.get("item"),
            "group": entry.get("group"), "share": entry.get("share", math.nan),
            "quantity": entry.get("quantity", math.nan), "name": name, "source_row": row}
    if name is not None and name in taken:
        rep.add(f"{key}.name", name, "another rule already has this name",
                "give the added rule a name of its own")
        return data
    if name is None:
        label = rule_label(pd.Series(rule)) + " (added)"
        name, n = label, 2
        while name in taken:
            name, n = f"{label} {n}", n + 1
        rule["name"] = name
    taken.add(name)
    rules = data.rules
    added = pd.DataFrame([rule], columns=rules.columns).astype(rules.dtypes.to_dict())
    return data.replace(rules=pd.concat([rules, added], ignore_index=True))


__all__ = ["RuleRef", "rule_names", "resolve_rule", "remove_partners", "rules_off",
           "scale_capacity", "scale_price", "scale_demand", "change_rule", "add_rule",
           ]
