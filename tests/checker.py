"""Independent checker of a solved plan against SPEC sections 2 and 3.

:func:`check_solution` recomputes, from the validated input (:class:`ProcureData`)
and the result's *output tables only* (``allocation``, ``offers``, ``fulfilment``,
``rules`` and, when present, ``partner_costs``, ``supplier_use``, ``offer_use``),
that the plan is feasible and that every reported cost is right.  It never looks
at solver internals.  Every violation is collected and one ``AssertionError``
lists them all, each tagged with its kind, e.g. ``[capacity]`` or ``[rule]``.

Tolerances are relative to the magnitudes involved::

    |lhs - rhs| <= atol + rtol * max(1, |rhs|, |lhs|, sum of |terms|)

Interpretations of SPEC points that are not spelled out (see also the report
in the module's commit):

* a pooled quantity ``Q`` is "zero" when ``Q <= atol + rtol*max(1, min_order)``
  (big-M leakage); in that grey zone setup may be counted or not, above it setup
  must be counted, at exactly 0 it must not;
* ``all_units`` tiers: near a tier boundary (within tolerance) either adjacent
  tier's price is accepted;
* ``min_suppliers``: a supplier counts when it delivers at least
  ``min(1, C) - tol`` where ``C`` is an upper bound on what it could deliver to
  the scope: its offer capacity over eligible periods, its shared capacity over
  those periods divided by ``capacity_use``, and the scope's demand of the item
  over those periods;
* ``domestic`` with a blank partner (only legal for ``ban``) is evaluated per
  order: supplier country == the ordering partner's country;
* a blank ``group`` means every supplier;
* with Substitutes, an allocation row names the item delivered (``item``) and the demand
  it serves (``demand_item``, taken as ``item`` when the column is absent): demand is
  balanced on ``demand_item``, everything else (capacity, prices, budgets, rules) on
  ``item``, and the pair must be allowed by a Substitutes row for the partner or for every
  partner;
* a ``whole_units`` item is delivered in whole numbers (within the tolerance).
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd

try:
    from procure.data.tables import ProcureData
except ModuleNotFoundError:  # plain `pytest` without the package installed
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from procure.data.tables import ProcureData

ALLOCATION_COLUMNS = (
    "partner", "item", "supplier", "supplier_country", "period",
    "quantity", "unit_price", "base_price", "transport", "cost",
)
OFFERS_COLUMNS = (
    "supplier", "item", "discount", "pooled_quantity", "tier_min_quantity", "unit_price",
    "purchase_cost", "setup_cost", "used", "min_order", "capacity_total",
)
FULFILMENT_COLUMNS = (
    "partner", "item", "period", "demand", "delivered", "shortfall", "shortfall_cost",
)
RULES_COLUMNS = (
    "rule_id", "name", "rule", "partner", "item", "group", "subject", "sense",
    "target", "achieved", "lhs", "rhs", "binds", "dual",
)
EACH_GROUPS = ("each_supplier", "each_country")


# --------------------------------------------------------------------------- helpers


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _id(v) -> str | None:
    return None if _blank(v) else str(v).strip()


def _num(v, default: float = math.nan) -> float:
    if _blank(v):
        return default
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def _get(result, name, default=None):
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class _Tol:
    def __init__(self, rtol: float, atol: float):
        self.rtol = rtol
        self.atol = atol

    def of(self, *mags: float) -> float:
        m = 1.0
        for x in mags:
            if x is not None and np.isfinite(x):
                m = max(m, abs(x))
        return self.atol + self.rtol * m

    def close(self, a: float, b: float, *mags: float) -> bool:
        return abs(a - b) <= self.of(a, b, *mags)

    def le(self, a: float, b: float, *mags: float) -> bool:
        return a - b <= self.of(a, b, *mags)


class _Violations:
    def __init__(self):
        self.items: list[str] = []

    def add(self, kind: str, msg: str) -> None:
        self.items.append(f"[{kind}] {msg}")

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            head = f"check_solution: {n} violation{'s' if n != 1 else ''}:"
            raise AssertionError("\n".join([head] + [f"  - {m}" for m in self.items]))


# --------------------------------------------------------------------------- input indexes


class _Ctx:
    """Plain-Python lookups built once from the validated data."""

    def __init__(self, data: ProcureData, tol: _Tol):
        self.data = data
        self.tol = tol
        self.periods = [str(p) for p in data.periods]
        self.pos = {p: k for k, p in enumerate(self.periods)}

        self.partners = [_id(p) for p in data.partners["partner"]]
        self.partner_country: dict[str, str] = {}
        self.budget: dict[str, float] = {}
        for r in data.partners.itertuples(index=False):
            p = _id(r.partner)
            country = _id(getattr(r, "country", None)) or p
            self.partner_country[p] = country
            self.budget[p] = _num(getattr(r, "budget", None))

        self.items = [_id(i) for i in data.items["item"]]
        self.category: dict[str, str | None] = {}
        self.penalty: dict[str, float] = {}
        self.whole: set[str] = set()
        for r in data.items.itertuples(index=False):
            i = _id(r.item)
            self.category[i] = _id(getattr(r, "category", None))
            self.penalty[i] = _num(getattr(r, "shortfall_penalty", None))
            if getattr(r, "whole_units", False) is True or str(getattr(r, "whole_units", "")
                                                              ).strip().lower() == "yes":
                self.whole.add(i)
        # (demand item, delivered item) -> partners allowed (None: every partner)
        self.accepts: dict[tuple[str, str], set] = defaultdict(set)
        subs = getattr(data, "substitutes", None)
        if subs is not None and len(subs):
            for r in subs.itertuples(index=False):
                self.accepts[(_id(r.item), _id(r.substitute))].add(_id(r.partner))

        self.suppliers = [_id(s) for s in data.suppliers["supplier"]]
        self.supplier_country: dict[str, str] = {}
        self.shared_cap: dict[str, float] = {}
        for r in data.suppliers.itertuples(index=False):
            s = _id(r.supplier)
            self.supplier_country[s] = _id(r.country)
            self.shared_cap[s] = _num(getattr(r, "capacity", None))

        self.offers: dict[tuple[str, str], dict] = {}
        for r in data.offers.itertuples(index=False):
            key = (_id(r.supplier), _id(r.item))
            fp = _id(getattr(r, "first_period", None))
            disc = _id(getattr(r, "discount", None)) or "all_units"
            self.offers[key] = {
                "unit_price": _num(r.unit_price, 0.0),
                "capacity": _num(getattr(r, "capacity", None)),
                "capacity_use": _num(getattr(r, "capacity_use", None), 1.0),
                "min_order": _num(getattr(r, "min_order", None), 0.0),
                "setup_cost": _num(getattr(r, "setup_cost", None), 0.0),
                "first_pos": self.pos.get(fp, 0) if fp is not None else 0,
                "discount": disc.lower(),
            }

        self.cap_override: dict[tuple[str, str, str], float] = {}
        cap = data.capacity
        if cap is not None and len(cap):
            for r in cap.itertuples(index=False):
                key = (_id(r.supplier), _id(r.item), _id(r.period))
                self.cap_override[key] = _num(r.capacity)

        tiers: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        pt = data.price_tiers
        if pt is not None and len(pt):
            for r in pt.itertuples(index=False):
                tiers[(_id(r.supplier), _id(r.item))].append(
                    (_num(r.min_quantity, 0.0), _num(r.unit_price, 0.0))
                )
        self.tiers: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for key, o in self.offers.items():
            extra = sorted(tiers.get(key, []))
            self.tiers[key] = [(0.0, o["unit_price"])] + extra

        self.transport: dict[tuple[str, str, str | None], float] = {}
        tr = data.transport
        if tr is not None and len(tr):
            for r in tr.itertuples(index=False):
                key = (_id(r.from_country), _id(r.to_partner), _id(getattr(r, "item", None)))
                self.transport[key] = _num(r.cost_per_unit, 0.0)

        self.blocs: dict[str, set[str]] = defaultdict(set)
        bl = data.blocs
        if bl is not None and len(bl):
            for r in bl.itertuples(index=False):
                self.blocs[_id(r.bloc)].add(_id(r.country))

        self.demand: dict[tuple[str, str, str], float] = {}
        for r in data.demand.itertuples(index=False):
            self.demand[(_id(r.partner), _id(r.item), _id(r.period))] = _num(r.quantity, 0.0)

        self.countries = set(self.supplier_country.values()) | set(self.partner_country.values())

    # ---- capacity
    def offer_capacity(self, s: str, i: str, t: str) -> float:
        """Per-period capacity of offer (s, i); NaN = unlimited."""
        key = (s, i, t)
        if key in self.cap_override:
            return self.cap_override[key]
        return self.offers[(s, i)]["capacity"]

    def eligible_periods(self, s: str, i: str) -> list[str]:
        fp = self.offers[(s, i)]["first_pos"]
        return self.periods[fp:]

    def deliverable_bound(self, s: str, i: str, scope_partners: Iterable[str]) -> float:
        """An upper bound on what offer (s, i) could deliver to the scope over the horizon."""
        periods = self.eligible_periods(s, i)
        caps = [self.offer_capacity(s, i, t) for t in periods]
        bound = math.inf if any(math.isnan(c) for c in caps) else float(sum(caps))
        shared = self.shared_cap.get(s, math.nan)
        use = self.offers[(s, i)]["capacity_use"]
        if not math.isnan(shared) and use > 0:
            bound = min(bound, shared * len(periods) / use)
        dem = sum(self.demand.get((p, i, t), 0.0) for p in scope_partners for t in periods)
        return min(bound, dem)

    # ---- transport
    def cost_per_unit(self, s: str, p: str, i: str) -> float:
        c = self.supplier_country.get(s)
        if (c, p, i) in self.transport:
            return self.transport[(c, p, i)]
        return self.transport.get((c, p, None), 0.0)

    # ---- rules
    def resolve_items(self, item) -> set[str] | None:
        it = _id(item)
        if it is None:
            return set(self.items)
        if it in self.category:
            return {it}
        cat = {i for i, c in self.category.items() if c == it}
        return cat or None

    def resolve_group(self, group):
        """('all',) | ('set', suppliers) | ('domestic',) | ('each_supplier',) | ('each_country',)."""
        g = _id(group)
        if g is None:
            return ("all",)
        if g in self.supplier_country:
            return ("set", {g})
        if g in self.countries:
            return ("set", {s for s, c in self.supplier_country.items() if c == g})
        if g in self.blocs:
            members = self.blocs[g]
            return ("set", {s for s, c in self.supplier_country.items() if c in members})
        gl = g.lower()
        if gl == "domestic":
            return ("domestic",)
        if gl in EACH_GROUPS:
            return (gl,)
        return None

    def member(self, grp, s: str, p: str | None) -> bool:
        kind = grp[0]
        if kind == "set":
            return s in grp[1]
        if kind == "domestic":
            if p is None:
                return self.supplier_country.get(s) in set(self.partner_country.values())
            return self.supplier_country.get(s) == self.partner_country.get(p)
        return True


# --------------------------------------------------------------------------- pricing


def _tier_candidates(tiers, q: float, tol: _Tol) -> list[int]:
    """Indices of all_units tiers acceptable for pooled quantity q (canonical first)."""
    canon = 0
    for k, (m, _) in enumerate(tiers):
        if m <= q:
            canon = k
    out = [canon]
    for k, (m, _) in enumerate(tiers):
        if k == canon:
            continue
        reached = m <= q + tol.of(m)
        nxt_ok = k + 1 >= len(tiers) or tiers[k + 1][0] > q - tol.of(tiers[k + 1][0])
        if reached and nxt_ok:
            out.append(k)
    return out


def _incremental_cost(tiers, q: float) -> float:
    cost = 0.0
    for k, (m, price) in enumerate(tiers):
        upper = tiers[k + 1][0] if k + 1 < len(tiers) else math.inf
        cost += price * max(0.0, min(q, upper) - m)
    return cost


def _purchase(ctx: _Ctx, key, q: float) -> tuple[float, float, float]:
    """(purchase cost, unit price, tier min_quantity) at pooled quantity q (canonical tier)."""
    tiers = ctx.tiers[key]
    if q <= 0:
        return 0.0, tiers[0][1], 0.0
    if ctx.offers[key]["discount"] == "incremental":
        c = _incremental_cost(tiers, q)
        reached = max(m for m, _ in tiers if m <= q)
        return c, c / q, reached
    k = _tier_candidates(tiers, q, ctx.tol)[0]
    return q * tiers[k][1], tiers[k][1], tiers[k][0]


# --------------------------------------------------------------------------- allocation


_ID_COLS = ("partner", "item", "supplier", "period")


def _allocation_frame(ctx: _Ctx, alloc, v: _Violations | None) -> pd.DataFrame:
    """Normalised allocation with derived columns (never mutates the input)."""
    cols = list(_ID_COLS) + [
        "demand_item", "quantity", "s_country", "p_country", "base", "cpu",
        "r_unit_price", "r_transport", "r_cost", "r_base", "r_s_country",
    ]
    if alloc is None:
        if v is not None:
            v.add("table", "result has no allocation table")
        return pd.DataFrame({c: [] for c in cols})
    missing = [c for c in ALLOCATION_COLUMNS if c not in alloc.columns]
    if missing and v is not None:
        v.add("table", f"allocation lacks columns {missing}")
    if any(c not in alloc.columns for c in (*_ID_COLS, "quantity")):
        return pd.DataFrame({c: [] for c in cols})
    n = len(alloc)
    A = pd.DataFrame({c: [_id(x) for x in alloc[c]] for c in _ID_COLS}, dtype=object)
    A["demand_item"] = ([_id(x) for x in alloc["demand_item"]] if "demand_item" in alloc.columns
                        else list(A["item"]))
    A["quantity"] = pd.to_numeric(alloc["quantity"], errors="coerce").to_numpy(float)

    def opt(c):
        if c in alloc.columns:
            return pd.to_numeric(alloc[c], errors="coerce").to_numpy(float)
        return np.full(n, np.nan)

    A["r_unit_price"] = opt("unit_price")
    A["r_transport"] = opt("transport")
    A["r_cost"] = opt("cost")
    A["r_base"] = opt("base_price")
    A["r_s_country"] = (
        [_id(x) for x in alloc["supplier_country"]] if "supplier_country" in alloc.columns
        else [None] * n
    )
    A["s_country"] = [ctx.supplier_country.get(s) for s in A["supplier"]]
    A["p_country"] = [ctx.partner_country.get(p) for p in A["partner"]]
    A["base"] = [
        ctx.offers[(s, i)]["unit_price"] if (s, i) in ctx.offers else 0.0
        for s, i in zip(A["supplier"], A["item"], strict=True)
    ]
    A["cpu"] = [
        ctx.cost_per_unit(s, p, i)
        for s, p, i in zip(A["supplier"], A["partner"], A["item"], strict=True)
    ]
    A["quantity"] = A["quantity"].fillna(0.0) if v is None else A["quantity"]
    return A


def _pooled(A: pd.DataFrame) -> dict[tuple[str, str], float]:
    if not len(A):
        return {}
    return A.groupby(["supplier", "item"], sort=False)["quantity"].sum().to_dict()


def recompute_costs(
    data: ProcureData, allocation: pd.DataFrame, *, rtol: float = 1e-6, atol: float = 1e-6
) -> dict[str, float]:
    """The SPEC cost of an allocation: purchase, setup, transport, shortfall, total.

    Prices follow the tier rule on each offer's pooled quantity; setup is paid for
    offers with ``Q > atol`` and ``setup_cost > 0``; transport uses the Transport
    table (item row, else blank-item row, else 0); shortfall is the unmet demand
    (demand - delivered, clipped at 0) of items with a shortfall_penalty, priced at
    the penalty.  Hard demand left unmet costs nothing here (it is infeasible).
    """
    tol = _Tol(rtol, atol)
    ctx = _Ctx(data, tol)
    A = _allocation_frame(ctx, allocation, None)
    pooled = _pooled(A)
    purchase = setup = 0.0
    for key, o in ctx.offers.items():
        q = pooled.get(key, 0.0)
        purchase += _purchase(ctx, key, q)[0]
        if o["setup_cost"] > 0 and q > tol.of(o["min_order"]):
            setup += o["setup_cost"]
    transport = float((A["cpu"] * A["quantity"]).sum()) if len(A) else 0.0
    delivered = (
        A.groupby(["partner", "demand_item", "period"])["quantity"].sum().to_dict() if len(A) else {}
    )
    shortfall = 0.0
    for (p, i, t), d in ctx.demand.items():
        pen = ctx.penalty.get(i, math.nan)
        if not math.isnan(pen):
            shortfall += pen * max(0.0, d - delivered.get((p, i, t), 0.0))
    total = purchase + setup + transport + shortfall
    return {
        "purchase": purchase,
        "setup": setup,
        "transport": transport,
        "shortfall": shortfall,
        "total": total,
    }


# --------------------------------------------------------------------------- the checker


def check_solution(data: ProcureData, result, *, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    """Assert that ``result`` is a plan obeying SPEC sections 2-3 with correct costs.

    ``result`` is anything with the documented attributes (or dict keys):
    ``allocation``, ``offers``, ``fulfilment``, ``rules``, the scalars
    ``total_cost``, ``purchase``, ``setup``, ``transport``, ``shortfall`` and,
    optionally, ``status``, ``partner_costs``, ``supplier_use``, ``offer_use``.
    Raises one ``AssertionError`` listing every violation found.
    """
    v = _Violations()
    status = _get(result, "status")
    if status is not None:
        sv = str(getattr(status, "value", status)).lower()
        if sv not in ("optimal", "feasible"):
            raise AssertionError(f"check_solution: result has no plan (status {sv!r})")

    tol = _Tol(rtol, atol)
    ctx = _Ctx(data, tol)
    A = _allocation_frame(ctx, _get(result, "allocation"), v)

    _check_rows(ctx, A, v)
    shortfall_cost = _check_demand(ctx, A, _get(result, "fulfilment"), v)
    _check_capacity(ctx, A, v)
    parts = _check_offers(ctx, A, _get(result, "offers"), v)
    parts["transport"] = float(np.nansum(A["cpu"] * A["quantity"])) if len(A) else 0.0
    parts["shortfall"] = shortfall_cost
    _check_totals(ctx, result, parts, v)
    _check_budgets(ctx, A, v)
    computed = _check_rules(ctx, A, v)
    _check_rules_table(ctx, _get(result, "rules"), computed, v)
    _check_reports(ctx, A, result, parts, v)
    v.raise_if_any()


def _check_rows(ctx: _Ctx, A: pd.DataFrame, v: _Violations) -> None:
    tol = ctx.tol
    keys_cols = [*_ID_COLS, "demand_item"]
    dup = A.duplicated(keys_cols, keep=False)
    if dup.any():
        keys = sorted({tuple(r) for r in A.loc[dup, keys_cols].itertuples(index=False)})
        v.add("allocation", f"duplicate rows for (partner, item, supplier, period, demand_item) "
              f"{keys}")
    for r in A.itertuples(index=False):
        where = f"allocation ({r.partner}, {r.item}, {r.supplier}, {r.period})"
        q = r.quantity
        if not np.isfinite(q):
            v.add("allocation", f"{where}: quantity is not a finite number ({q})")
            continue
        if q < -tol.of(q):
            v.add("allocation", f"{where}: negative quantity {_fmt(q)}")
        if r.item in ctx.whole and abs(q - round(q)) > tol.of(q):
            v.add("whole_units", f"{where}: {_fmt(q)} is not a whole number of {r.item} "
                  "(Items.whole_units = yes)")
        if r.demand_item != r.item and not ({r.partner, None} & ctx.accepts.get(
                (r.demand_item, r.item), set())):
            v.add("substitutes", f"{where}: delivered against the demand for {r.demand_item}, "
                  f"but no Substitutes row lets {r.partner} take {r.item} for it")
        key = (r.supplier, r.item)
        if key not in ctx.offers:
            v.add("offer", f"{where}: no offer exists for supplier {r.supplier}, item {r.item}")
        elif r.period not in ctx.pos:
            v.add("period", f"{where}: period {r.period!r} is not a Demand period")
        elif ctx.pos[r.period] < ctx.offers[key]["first_pos"]:
            first = ctx.periods[ctx.offers[key]["first_pos"]]
            v.add("period", f"{where}: delivered before first_period {first}")
        if r.s_country is not None and r.r_s_country is not None and r.r_s_country != r.s_country:
            v.add("allocation", f"{where}: supplier_country {r.r_s_country} != {r.s_country}")
        if not np.isnan(r.r_base) and key in ctx.offers and not tol.close(r.r_base, r.base):
            v.add("allocation", f"{where}: base_price {_fmt(r.r_base)} != Offers.unit_price "
                  f"{_fmt(r.base)}")
        exp_tr = r.cpu * q
        if np.isnan(r.r_transport) or not tol.close(r.r_transport, exp_tr):
            v.add("transport", f"{where}: transport {_fmt(r.r_transport)} != cost_per_unit "
                  f"{_fmt(r.cpu)} x quantity {_fmt(q)} = {_fmt(exp_tr)}")
        if not np.isnan(r.r_cost):
            exp_cost = q * r.r_unit_price + r.r_transport
            if not tol.close(r.r_cost, exp_cost, q * r.r_unit_price, r.r_transport):
                v.add("allocation", f"{where}: cost {_fmt(r.r_cost)} != quantity x unit_price "
                      f"+ transport = {_fmt(exp_cost)}")


def _check_demand(ctx: _Ctx, A: pd.DataFrame, fulfil, v: _Violations) -> float:
    """Demand equality and shortfall rules; returns the recomputed shortfall cost."""
    tol = ctx.tol
    delivered = (
        A.groupby(["partner", "demand_item", "period"])["quantity"].sum().to_dict() if len(A) else {}
    )
    sf: dict[tuple[str, str, str], tuple[float, float]] = {}
    if fulfil is None:
        v.add("table", "result has no fulfilment table")
    else:
        missing = [c for c in FULFILMENT_COLUMNS if c not in fulfil.columns]
        if missing:
            v.add("table", f"fulfilment lacks columns {missing}")
        if all(c in fulfil.columns for c in ("partner", "item", "period", "shortfall")):
            costs = (fulfil["shortfall_cost"] if "shortfall_cost" in fulfil.columns
                     else [math.nan] * len(fulfil))
            for p, i, t, u, c in zip(fulfil["partner"], fulfil["item"], fulfil["period"],
                                     fulfil["shortfall"], costs, strict=True):
                key = (_id(p), _id(i), _id(t))
                if key not in ctx.demand:
                    v.add("fulfilment", f"fulfilment row {key} is not a Demand row")
                sf[key] = (_num(u, 0.0), _num(c))
    cost = 0.0
    for key, d in ctx.demand.items():
        p, i, t = key
        dl = delivered.get(key, 0.0)
        if key in sf:
            u, ucost = sf[key]
        else:
            if fulfil is not None:
                v.add("fulfilment", f"no fulfilment row for Demand {key}")
            u, ucost = 0.0, math.nan
        if not tol.close(dl + u, d, dl, u):
            v.add("demand", f"Demand {key}: delivered {_fmt(dl)} + shortfall {_fmt(u)} "
                  f"!= demand {_fmt(d)}")
        if u < -tol.of(d):
            v.add("demand", f"Demand {key}: negative shortfall {_fmt(u)}")
        pen = ctx.penalty.get(i, math.nan)
        if math.isnan(pen):
            if u > tol.of(d):
                v.add("demand", f"Demand {key}: shortfall {_fmt(u)} on item {i} without a "
                      "shortfall_penalty (hard demand)")
        else:
            cost += pen * u
            if not math.isnan(ucost) and not tol.close(ucost, pen * u):
                v.add("fulfilment", f"Demand {key}: shortfall_cost {_fmt(ucost)} != "
                      f"{_fmt(pen * u)}")
        if d == 0 and dl > tol.atol:
            v.add("demand", f"allocation to {key} whose demand is zero ({_fmt(dl)} delivered)")
    for key, dl in delivered.items():
        if key not in ctx.demand:
            v.add("demand", f"allocation to {key}, which is not a Demand row ({_fmt(dl)} units)")
    return cost


def _check_capacity(ctx: _Ctx, A: pd.DataFrame, v: _Violations) -> None:
    if not len(A):
        return
    tol = ctx.tol
    per = A.groupby(["supplier", "item", "period"])["quantity"].sum()
    shared: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (s, i, t), q in per.items():
        if (s, i) not in ctx.offers or t not in ctx.pos:
            continue
        cap = ctx.offer_capacity(s, i, t)
        if not math.isnan(cap) and not tol.le(q, cap):
            v.add("capacity", f"offer ({s}, {i}) period {t}: quantity {_fmt(q)} > capacity "
                  f"{_fmt(cap)}")
        use = ctx.offers[(s, i)]["capacity_use"]
        shared[(s, t)].append(use * q)
    for (s, t), terms in shared.items():
        cap = ctx.shared_cap.get(s, math.nan)
        if math.isnan(cap):
            continue
        used = sum(terms)
        if not tol.le(used, cap, sum(abs(x) for x in terms)):
            v.add("shared_capacity", f"supplier {s} period {t}: capacity used {_fmt(used)} > "
                  f"shared capacity {_fmt(cap)}")


def _check_offers(ctx: _Ctx, A: pd.DataFrame, offers_table, v: _Violations) -> dict:
    """Min order, tiers, setup; the offers table; returns recomputed purchase and setup."""
    tol = ctx.tol
    pooled = _pooled(A)
    rows: dict[tuple[str, str], pd.Series] = {}
    if offers_table is None:
        v.add("table", "result has no offers table")
    else:
        missing = [c for c in OFFERS_COLUMNS if c not in offers_table.columns]
        if missing:
            v.add("table", f"offers lacks columns {missing}")
        if "supplier" in offers_table.columns and "item" in offers_table.columns:
            for _, r in offers_table.iterrows():
                rows[(_id(r["supplier"]), _id(r["item"]))] = r
    # reported paid unit prices per offer, from the allocation
    alloc_prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s, i, up in zip(A["supplier"], A["item"], A["r_unit_price"], strict=True):
        alloc_prices[(s, i)].append(up)

    purchase = setup = 0.0
    for key, o in ctx.offers.items():
        s, i = key
        q = pooled.get(key, 0.0)
        tiers = ctx.tiers[key]
        q_zero_tol = tol.of(o["min_order"])
        row = rows.get(key)
        if offers_table is not None and row is None:
            v.add("offers", f"offers table has no row for offer ({s}, {i})")
        # min_order
        if o["min_order"] > 0 and q > q_zero_tol and not tol.le(o["min_order"], q):
            v.add("min_order", f"offer ({s}, {i}): pooled quantity {_fmt(q)} is neither 0 "
                  f"nor >= min_order {_fmt(o['min_order'])}")
        # prices
        if o["discount"] == "incremental":
            cost = _incremental_cost(tiers, q) if q > 0 else 0.0
            prices = [cost / q] if q > 0 else [tiers[0][1]]
            reached = [max(m for m, _ in tiers if m <= q + tol.of(m))]
            costs = [cost]
        else:
            cand = _tier_candidates(tiers, q, tol) if q > 0 else [0]
            prices = [tiers[k][1] for k in cand]
            reached = [tiers[k][0] for k in cand]
            costs = [q * p for p in prices]
        chosen = 0
        if q > tol.atol:
            reported = [p for p in alloc_prices.get(key, []) if not np.isnan(p)]
            if row is not None and "unit_price" in row.index and not _blank(row["unit_price"]):
                reported.append(float(row["unit_price"]))
            for p in reported:
                ok = [k for k, e in enumerate(prices) if tol.close(p, e)]
                if ok:
                    chosen = ok[0]
                else:
                    v.add("price", f"offer ({s}, {i}) pooled {_fmt(q)}: unit price {_fmt(p)} "
                          f"paid, the tier rule ({o['discount']}) gives "
                          f"{' or '.join(_fmt(e) for e in prices)}")
                    break
        exp_purchase = costs[chosen]
        purchase += exp_purchase
        # setup
        sc = o["setup_cost"]
        if sc > 0 and q > q_zero_tol:
            exp_setup: tuple[float, ...] = (sc,)
        elif sc > 0 and q > 0:
            exp_setup = (0.0, sc)
        else:
            exp_setup = (0.0,)
        setup += exp_setup[0]
        if row is None:
            continue
        rq = _num(row.get("pooled_quantity"))
        if "pooled_quantity" in row.index and not (not math.isnan(rq) and tol.close(rq, q)):
            v.add("offers", f"offer ({s}, {i}): pooled_quantity {_fmt(rq)} != allocation total "
                  f"{_fmt(q)}")
        rp = _num(row.get("purchase_cost"))
        if "purchase_cost" in row.index and not (
            not math.isnan(rp) and any(tol.close(rp, c) for c in costs)
        ):
            v.add("price", f"offer ({s}, {i}): purchase_cost {_fmt(rp)} != recomputed "
                  f"{' or '.join(_fmt(c) for c in costs)}")
        rs = _num(row.get("setup_cost"))
        if "setup_cost" in row.index:
            if math.isnan(rs) or not any(tol.close(rs, e) for e in exp_setup):
                v.add("setup", f"offer ({s}, {i}) pooled {_fmt(q)}: setup_cost {_fmt(rs)} "
                      f"reported, expected {' or '.join(_fmt(e) for e in exp_setup)}")
            elif len(exp_setup) == 2:
                setup += rs - exp_setup[0]  # grey zone: follow the report
        if "used" in row.index and not _blank(row["used"]):
            used = bool(row["used"])
            if (used and q == 0) or (not used and q > q_zero_tol):
                v.add("offers", f"offer ({s}, {i}): used={used} but pooled quantity {_fmt(q)}")
        if "tier_min_quantity" in row.index and q > q_zero_tol:
            tm = _num(row["tier_min_quantity"])
            if math.isnan(tm) or not any(tol.close(tm, m) for m in reached):
                v.add("price", f"offer ({s}, {i}): tier_min_quantity {_fmt(tm)} != tier reached "
                      f"{' or '.join(_fmt(m) for m in reached)}")
    return {"purchase": purchase, "setup": setup}


def _check_totals(ctx: _Ctx, result, parts: dict, v: _Violations) -> None:
    tol = ctx.tol
    names = ("purchase", "setup", "transport", "shortfall")
    reported = {}
    for n in (*names, "total_cost"):
        x = _get(result, n)
        if x is None or _blank(x):
            v.add("total", f"result.{n} is missing")
        reported[n] = _num(x)
    for n in names:
        if not math.isnan(reported[n]) and not tol.close(reported[n], parts[n]):
            v.add("total", f"result.{n} = {_fmt(reported[n])} != recomputed {_fmt(parts[n])}")
    if not any(math.isnan(reported[n]) for n in (*names, "total_cost")):
        s = sum(reported[n] for n in names)
        if not tol.close(reported["total_cost"], s, *(reported[n] for n in names)):
            v.add("total", f"total_cost {_fmt(reported['total_cost'])} != purchase + setup + "
                  f"transport + shortfall = {_fmt(s)}")
    exp_total = sum(parts[n] for n in names)
    if not math.isnan(reported["total_cost"]) and not tol.close(
        reported["total_cost"], exp_total, *(parts[n] for n in names)
    ):
        v.add("total", f"total_cost {_fmt(reported['total_cost'])} != recomputed "
              f"{_fmt(exp_total)}")


def _partner_value(A: pd.DataFrame) -> tuple[dict, dict]:
    if not len(A):
        return {}, {}
    val = (A["quantity"] * A["base"]).groupby(A["partner"]).sum().to_dict()
    tr = (A["quantity"] * A["cpu"]).groupby(A["partner"]).sum().to_dict()
    return val, tr


def _check_budgets(ctx: _Ctx, A: pd.DataFrame, v: _Violations) -> None:
    val, tr = _partner_value(A)
    for p, b in ctx.budget.items():
        if math.isnan(b):
            continue
        x = val.get(p, 0.0) + tr.get(p, 0.0)
        if not ctx.tol.le(x, b, val.get(p, 0.0), tr.get(p, 0.0)):
            v.add("budget", f"partner {p}: value at base prices + transport {_fmt(x)} > "
                  f"budget {_fmt(b)}")


# --------------------------------------------------------------------------- rules


def _check_rules(ctx: _Ctx, A: pd.DataFrame, v: _Violations) -> dict:
    """Check every rule; return {(rule_id, subject): (sense, lhs, rhs, scale)}."""
    tol = ctx.tol
    out: dict[tuple[str, str | None], tuple[str, float, float, float]] = {}
    rules = ctx.data.rules
    if rules is None or not len(rules):
        return out
    qty = A["quantity"].to_numpy(float) if len(A) else np.zeros(0)
    val = qty * A["base"].to_numpy(float) if len(A) else np.zeros(0)
    sup = A["supplier"].to_numpy(object) if len(A) else np.zeros(0, object)
    scty = A["s_country"].to_numpy(object) if len(A) else np.zeros(0, object)
    pcty = A["p_country"].to_numpy(object) if len(A) else np.zeros(0, object)
    part = A["partner"].to_numpy(object) if len(A) else np.zeros(0, object)
    item = A["item"].to_numpy(object) if len(A) else np.zeros(0, object)

    def group_mask(grp) -> np.ndarray:
        if grp[0] == "set":
            return np.isin(sup, list(grp[1]))
        if grp[0] == "domestic":
            return scty == pcty
        return np.ones(len(sup), bool)

    def constraint(rid, subject, sense, lhs, rhs, scale, label):
        out[(rid, subject)] = (sense, lhs, rhs, scale)
        ok = tol.le(lhs, rhs, scale) if sense == "<=" else tol.le(rhs, lhs, scale)
        if not ok:
            v.add("rule", f"{label}: {_fmt(lhs)} {sense} {_fmt(rhs)} violated")

    for k, r in enumerate(rules.itertuples(index=False)):
        kind = str(r.rule).strip().lower()
        src = getattr(r, "source_row", None)
        rid = f"Rules!{int(src)}" if not _blank(src) else f"Rules!{k + 2}"
        name = _id(getattr(r, "name", None))
        label = f"{rid} {kind}" + (f" '{name}'" if name else "")
        p = _id(r.partner)
        items = ctx.resolve_items(r.item)
        grp = ctx.resolve_group(r.group)
        share = _num(getattr(r, "share", None))
        quantity = _num(getattr(r, "quantity", None))
        if items is None:
            v.add("rule", f"{label}: item {r.item!r} is neither an item nor a category")
            continue
        if grp is None:
            v.add("rule", f"{label}: group {r.group!r} resolves to nothing")
            continue
        in_items = np.isin(item, list(items))
        scope = in_items & (part == p) if p is not None else in_items

        if kind == "ban":
            m = scope & group_mask(grp) & (qty > tol.atol)
            if grp[0] in EACH_GROUPS:
                m = scope & (qty > tol.atol)
            for j in np.flatnonzero(m):
                v.add("rule", f"{label}: banned delivery of {_fmt(qty[j])} {item[j]} from "
                      f"{sup[j]} to {part[j]} in period {A['period'].iloc[j]}")
            out[(rid, None)] = ("<=", float(qty[scope & group_mask(grp)].sum()), 0.0, 1.0)
        elif kind in ("min_share", "max_share", "min_value_share", "max_value_share"):
            w = val if "value" in kind else qty
            total = float(w[scope].sum())
            sense = ">=" if kind.startswith("min") else "<="
            rhs = share * total
            if grp[0] in EACH_GROUPS:
                keys = sup if grp[0] == "each_supplier" else scty
                subjects = sorted({x for x in keys[scope] if x is not None})
                for subj in subjects:
                    lhs = float(w[scope & (keys == subj)].sum())
                    constraint(rid, subj, sense, lhs, rhs, total, f"{label} [{subj}]")
            else:
                lhs = float(w[scope & group_mask(grp)].sum())
                constraint(rid, None, sense, lhs, rhs, total, label)
        elif kind == "workshare":
            scope_partners = [p] if p is not None else ctx.partners
            for q in scope_partners:
                cq = ctx.partner_country.get(q)
                lhs = float(val[in_items & (scty == cq)].sum())
                own = float(val[in_items & (part == q)].sum())
                constraint(rid, q, ">=", lhs, share * own, own, f"{label} [{q}]")
        elif kind in ("min_quantity", "max_quantity"):
            sense = ">=" if kind.startswith("min") else "<="
            if grp[0] in EACH_GROUPS:
                keys = sup if grp[0] == "each_supplier" else scty
                for subj in sorted({x for x in keys[scope] if x is not None}):
                    lhs = float(qty[scope & (keys == subj)].sum())
                    constraint(rid, subj, sense, lhs, quantity, lhs, f"{label} [{subj}]")
            else:
                lhs = float(qty[scope & group_mask(grp)].sum())
                constraint(rid, None, sense, lhs, quantity, lhs, label)
        elif kind in ("min_suppliers", "max_suppliers"):
            scope_partners = [p] if p is not None else ctx.partners
            for i in sorted(items):
                dem = sum(d for (pp, ii, _), d in ctx.demand.items()
                          if ii == i and pp in scope_partners)
                if dem <= 0:
                    continue
                rows = scope & (item == i)
                delivered: dict[str, float] = defaultdict(float)
                for s_, q_ in zip(sup[rows], qty[rows], strict=True):
                    delivered[s_] += q_
                if kind == "max_suppliers":
                    gm = group_mask(grp)
                    counted = sorted({s_ for s_ in sup[rows & gm & (qty > 0)]
                                      if delivered[s_] > tol.atol})
                    n = len(counted)
                    if n > quantity + 1e-9:
                        v.add("rule", f"{label} [{i}]: {n} suppliers deliver {counted}, "
                              f"at most {_fmt(quantity)} allowed")
                    out[(rid, i)] = ("<=", float(n), quantity, 0.0)
                else:
                    counted = []
                    for s_ in ctx.suppliers:
                        if (s_, i) not in ctx.offers or not ctx.member(grp, s_, p):
                            continue
                        need = min(1.0, ctx.deliverable_bound(s_, i, scope_partners))
                        if delivered.get(s_, 0.0) >= need - tol.of(need):
                            counted.append(s_)
                    n = len(counted)
                    if n < quantity - 1e-9:
                        v.add("rule", f"{label} [{i}]: only {n} suppliers deliver at least 1 "
                              f"unit {counted}, at least {_fmt(quantity)} required")
                    out[(rid, i)] = (">=", float(n), quantity, 0.0)
        elif kind == "n_minus_1":
            # the re-covery LP without each supplier (or country), from the allocation alone
            try:
                from tests.recovery import contingencies, least_unmet
            except ImportError:  # tests/ is not a package
                from recovery import contingencies, least_unmet
            row = r._asdict()
            for lost_label, lost in contingencies(ctx.data, row):
                unmet, total = least_unmet(ctx.data, A.assign(quantity=qty), row, lost)
                if total > 0:
                    constraint(rid, lost_label, "<=", unmet, share * total, total,
                               f"{label} [without {lost_label}]")
        else:
            v.add("rule", f"{label}: unknown rule type {kind!r}")
    return out


def _check_rules_table(ctx: _Ctx, table, computed: dict, v: _Violations) -> None:
    if table is None:
        v.add("table", "result has no rules table")
        return
    missing = [c for c in RULES_COLUMNS if c not in table.columns]
    if missing:
        v.add("table", f"rules table lacks columns {missing}")
        return
    tol = ctx.tol
    for _, r in table.iterrows():
        key = (_id(r["rule_id"]), _id(r["subject"]))
        if key not in computed:
            key = (_id(r["rule_id"]), None)
        if key not in computed or _blank(r["binds"]):
            continue
        sense, lhs, rhs, scale = computed[key]
        slack = (rhs - lhs) if sense == "<=" else (lhs - rhs)
        big = 1e-3 * max(1.0, abs(lhs), abs(rhs), abs(scale))
        if bool(r["binds"]) and slack > big:
            warnings.warn(f"rules table: {key} binds=True but recomputed slack is {slack:.6g}",
                          stacklevel=3)
        if not bool(r["binds"]) and abs(slack) <= tol.atol:
            warnings.warn(f"rules table: {key} binds=False but recomputed slack is {slack:.6g}",
                          stacklevel=3)


# --------------------------------------------------------------------------- report tables


def _check_reports(ctx: _Ctx, A: pd.DataFrame, result, parts: dict, v: _Violations) -> None:
    """Consistency of the optional per-partner and per-supplier tables, when present."""
    tol = ctx.tol
    pc = _get(result, "partner_costs")
    if pc is not None and len(pc) and "partner" in pc.columns:
        val, tr = _partner_value(A)
        sf = _partner_shortfall(ctx, result)
        share = _proportional_shares(ctx, A, _get(result, "offers"))
        for _, r in pc.iterrows():
            p = _id(r["partner"])
            for col in ("purchase", "setup"):
                if col in pc.columns and share is not None:
                    x, e = _num(r[col], 0.0), share[col].get(p, 0.0)
                    if not tol.close(x, e):
                        v.add("partner_costs", f"partner {p}: {col} {_fmt(x)} != proportional "
                              f"share {_fmt(e)}")
            if "transport" in pc.columns and not tol.close(_num(r["transport"], 0.0),
                                                           tr.get(p, 0.0)):
                v.add("partner_costs", f"partner {p}: transport {_fmt(_num(r['transport']))} "
                      f"!= {_fmt(tr.get(p, 0.0))}")
            if "shortfall" in pc.columns and p in sf and not tol.close(
                _num(r["shortfall"], 0.0), sf[p]
            ):
                v.add("partner_costs", f"partner {p}: shortfall {_fmt(_num(r['shortfall']))} "
                      f"!= {_fmt(sf[p])}")
            if "budget_value" in pc.columns:
                bv = val.get(p, 0.0) + tr.get(p, 0.0)
                if not tol.close(_num(r["budget_value"], 0.0), bv):
                    v.add("partner_costs", f"partner {p}: budget_value "
                          f"{_fmt(_num(r['budget_value']))} != {_fmt(bv)}")
        if "total" in pc.columns:
            tot = _num(_get(result, "total_cost"))
            s = float(pd.to_numeric(pc["total"], errors="coerce").fillna(0.0).sum())
            if not math.isnan(tot) and not tol.close(s, tot):
                v.add("partner_costs", f"partner totals sum to {_fmt(s)}, total_cost is "
                      f"{_fmt(tot)}")
    su = _get(result, "supplier_use")
    if su is not None and len(su) and {"supplier", "period", "capacity_used"} <= set(su.columns):
        used: dict[tuple[str, str], float] = defaultdict(float)
        for s, i, t, q in zip(A["supplier"], A["item"], A["period"], A["quantity"], strict=True):
            if (s, i) in ctx.offers:
                used[(s, t)] += ctx.offers[(s, i)]["capacity_use"] * q
        for _, r in su.iterrows():
            key = (_id(r["supplier"]), _id(r["period"]))
            x = _num(r["capacity_used"], 0.0)
            if not tol.close(x, used.get(key, 0.0)):
                v.add("supplier_use", f"supplier_use {key}: capacity_used {_fmt(x)} != "
                      f"{_fmt(used.get(key, 0.0))}")
    ou = _get(result, "offer_use")
    if ou is not None and len(ou) and {"supplier", "item", "period", "quantity"} <= set(ou.columns):
        per = (A.groupby(["supplier", "item", "period"])["quantity"].sum().to_dict()
               if len(A) else {})
        for _, r in ou.iterrows():
            key = (_id(r["supplier"]), _id(r["item"]), _id(r["period"]))
            x = _num(r["quantity"], 0.0)
            if not tol.close(x, per.get(key, 0.0)):
                v.add("offer_use", f"offer_use {key}: quantity {_fmt(x)} != "
                      f"{_fmt(per.get(key, 0.0))}")


def _proportional_shares(ctx: _Ctx, A: pd.DataFrame, offers) -> dict | None:
    """SPEC 4 proportional split of each offer's reported purchase and setup cost."""
    if offers is None or not {"supplier", "item", "purchase_cost", "setup_cost"} <= set(
        offers.columns
    ):
        return None
    out: dict[str, dict[str, float]] = {"purchase": defaultdict(float), "setup": defaultdict(float)}
    if not len(A):
        return out
    per = A.groupby(["supplier", "item", "partner"])["quantity"].sum()
    pooled = _pooled(A)
    cost = {
        (_id(s), _id(i)): (_num(pc, 0.0), _num(sc, 0.0))
        for s, i, pc, sc in zip(offers["supplier"], offers["item"], offers["purchase_cost"],
                                offers["setup_cost"], strict=True)
    }
    for (s, i, p), q in per.items():
        tot = pooled.get((s, i), 0.0)
        if tot <= 0 or (s, i) not in cost:
            continue
        out["purchase"][p] += cost[(s, i)][0] * q / tot
        out["setup"][p] += cost[(s, i)][1] * q / tot
    return out


def _partner_shortfall(ctx: _Ctx, result) -> dict[str, float]:
    f = _get(result, "fulfilment")
    out: dict[str, float] = defaultdict(float)
    if f is None or not {"partner", "item", "shortfall"} <= set(f.columns):
        return out
    for p, i, u in zip(f["partner"], f["item"], f["shortfall"], strict=True):
        pen = ctx.penalty.get(_id(i), math.nan)
        if not math.isnan(pen):
            out[_id(p)] += pen * _num(u, 0.0)
    return out
