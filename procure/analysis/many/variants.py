"""A variant of the workbook, said literally as data.

A :class:`Variant` is one of the many related problems the many-solve engine answers: a
coalition of partners (docs/model.md section 4), rules removed, a rule's share or quantity changed,
suppliers removed (every offer of theirs, docs/model.md section 4's stress test) or their capacity
scaled. :meth:`Variant.apply` turns it into the data of its own workbook; that is the
definition, and the fast path of :mod:`.bounds` (bounds and coefficients on the grand model)
is tested against it.

Changes apply in this order: rule values, rules removed, capacity, suppliers removed, then the
coalition (whose pool quantity rules are scaled from the changed quantities).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.model.index import item_mask

Coalition = frozenset[str]


def coalition_data(data: ProcureData, members: Iterable[str]) -> ProcureData:
    """The scenario of coalition ``members`` as data, exactly as docs/model.md section 4 defines it:
    outsiders' demand and their own rules removed, every pool min/max_quantity scaled by the
    coalition's share of the pool's demand for the items in its scope (0 when the pool demands
    none of them)."""
    members = frozenset(members)
    check_members(data, members)
    demand = data.demand[data.demand["partner"].isin(members)].reset_index(drop=True)
    rules = data.rules
    partner = rules["partner"]
    keep = partner.isna() | partner.isin(members)
    rules = rules[keep].reset_index(drop=True).copy()
    factors = pool_quantity_factors(data, rules, members)
    rules.loc[factors.index, "quantity"] = rules.loc[factors.index, "quantity"] * factors
    return data.replace(demand=demand, rules=rules)


def pool_quantity_factors(data: ProcureData, rules: pd.DataFrame, members: frozenset) -> pd.Series:
    """S's share of the pool's demand for the items in each pool min/max_quantity rule's scope."""
    pool_q = rules[rules["rule"].isin(["min_quantity", "max_quantity"]) & rules["partner"].isna()]
    out = {}
    for pos, rule in pool_q.iterrows():
        item = rule["item"] if isinstance(rule["item"], str) else None
        in_scope = item_mask(data, data.demand, item)
        pool = float(data.demand.loc[in_scope, "quantity"].sum())
        mine = float(data.demand.loc[in_scope & data.demand["partner"].isin(members).to_numpy(), "quantity"].sum())
        out[pos] = mine / pool if pool > 0 else 0.0
    return pd.Series(out, dtype=float)


def check_members(data: ProcureData, members: frozenset) -> None:
    unknown = sorted(members - set(data.partners["partner"]))
    if unknown:
        raise ValueError(f"unknown partner(s) in coalition: {', '.join(unknown)}")


def _pairs(value) -> tuple[tuple, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        value = value.items()
    return tuple(sorted((k, float(v)) for k, v in value))


@dataclass(frozen=True)
class Variant:
    """One problem of a many-solve run (hashable, small: it travels to worker processes).

    * ``label``: the caller's name for it, returned with its result;
    * ``members``: the coalition (None: every partner);
    * ``rules_off``: positions in ``data.rules`` of rules removed;
    * ``share`` / ``quantity``: ``{rule position: new value}``;
    * ``suppliers_off``: suppliers removed (every offer of theirs);
    * ``capacity``: ``{supplier: factor}`` scaling every capacity of the supplier (its offers'
      capacities, its Capacity rows and its shared capacity; blank = unlimited stays so).
    """

    label: Hashable = None
    members: Coalition | None = None
    rules_off: frozenset[int] = frozenset()
    share: tuple[tuple[int, float], ...] = ()
    quantity: tuple[tuple[int, float], ...] = ()
    suppliers_off: frozenset[str] = frozenset()
    capacity: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self):
        if self.members is not None:
            object.__setattr__(self, "members", frozenset(self.members))
        object.__setattr__(self, "rules_off", frozenset(int(r) for r in self.rules_off))
        object.__setattr__(self, "suppliers_off", frozenset(self.suppliers_off))
        for name in ("share", "quantity", "capacity"):
            object.__setattr__(self, name, _pairs(getattr(self, name)))
        for supplier, factor in self.capacity:
            if not np.isfinite(factor) or factor < 0:
                raise ValueError(f"capacity factor of {supplier} must be a number >= 0, not {factor}")

    def apply(self, data: ProcureData) -> ProcureData:
        """The variant's own data (docs/model.md section 4 for coalitions and removed suppliers)."""
        rules = data.rules.reset_index(drop=True).copy()
        check_positions(rules, self)
        for pos, value in self.share:
            rules.loc[pos, "share"] = value
        for pos, value in self.quantity:
            rules.loc[pos, "quantity"] = value
        if self.rules_off:
            rules = rules.drop(index=sorted(self.rules_off)).reset_index(drop=True)
        out = data.replace(rules=rules)
        if self.capacity:
            out = _scale_capacity(out, dict(self.capacity))
        if self.suppliers_off:
            out = _remove_suppliers(out, self.suppliers_off)
        if self.members is not None:
            out = coalition_data(out, self.members)
        return out


#: rules that have a share, and rules that have a quantity (docs/model.md section 3)
SHARE_USERS = ("min_share", "max_share", "min_value_share", "max_value_share", "workshare", "n_minus_1")
QUANTITY_USERS = ("min_quantity", "max_quantity", "min_suppliers", "max_suppliers")


def check_positions(rules: pd.DataFrame, v: Variant) -> None:
    """Every rule position names a rule, and a share or quantity change a rule that has one."""
    positions = set(v.rules_off) | {p for p, _ in v.share} | {p for p, _ in v.quantity}
    bad = sorted(p for p in positions if not 0 <= p < len(rules))
    if bad:
        raise ValueError(f"no rule at position(s) {bad}: the workbook has {len(rules)} rules")
    for what, users, changes in (("share", SHARE_USERS, v.share), ("quantity", QUANTITY_USERS, v.quantity)):
        for pos, value in changes:
            kind = rules["rule"].iat[pos]
            if kind not in users:
                raise ValueError(f"the rule at position {pos} is a {kind} rule: it has no {what}")
            if what == "share" and not 0 <= value <= 1:
                raise ValueError(f"a share is a fraction between 0 and 1, not {value:g}")
            if what == "quantity" and value < 0:
                raise ValueError(f"a quantity cannot be negative ({value:g})")


def _scale_capacity(data: ProcureData, factors: dict[str, float]) -> ProcureData:
    def scaled(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        f = frame["supplier"].map(factors).fillna(1.0).to_numpy(dtype=float)
        # factor 0: the supplier delivers nothing, unlimited capacity included (NaN x 0 is NaN)
        values = frame[column].to_numpy(dtype=float)
        return frame.assign(**{column: np.where(f == 0, 0.0, values * f)})

    return data.replace(offers=scaled(data.offers, "capacity"),
                        capacity=scaled(data.capacity, "capacity"),
                        suppliers=scaled(data.suppliers, "capacity"))


def _remove_suppliers(data: ProcureData, suppliers: frozenset[str]) -> ProcureData:
    """Every offer of ``suppliers`` removed (the suppliers stay, so rules naming them still
    resolve; their Capacity and PriceTiers rows go with their offers)."""
    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["supplier"].isin(suppliers)].reset_index(drop=True)

    return data.replace(offers=keep(data.offers), capacity=keep(data.capacity),
                        price_tiers=keep(data.price_tiers))
