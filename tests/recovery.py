"""An independent re-check of N-1 secure plans: the re-covery LP without one supplier (or
one country), built from the validated input and the plan's *allocation table only*, and
solved with scipy's ``linprog`` (never procure's model or HiGHS instance).

For an ``n_minus_1`` rule with scope K and lost suppliers L, the re-covery deliveries
``r[p,d,i,s,t]`` exist for each demand row (p,d,t) in K (partner in scope, demand item in the
rule's items), each item i that p accepts for d (d, or a Substitutes row for p or every
partner), each offer (s,i) with s not in L, t >= first_period and no ban on (p,s,i); and

* per offer and period: sum_K r <= planned deliveries to K + surge;
* per offer and period: sum_K r + planned deliveries outside K <= capacity (Capacity sheet,
  else Offers.capacity);
* per supplier with a shared capacity and period:
  sum_i capacity_use (sum_K r + planned outside K) <= capacity;
* per demand row in K: sum r <= demand.

``max sum r`` gives the least demand left unmet without L.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

try:
    from tests.checker import _Ctx, _id, _num, _Tol
except ImportError:  # tests/ is not a package
    from checker import _Ctx, _id, _num, _Tol


def _items_of(ctx: _Ctx, item) -> set[str]:
    found = ctx.resolve_items(item)
    return set() if found is None else found


def _banned(ctx: _Ctx, p: str, s: str, i: str) -> bool:
    for r in ctx.data.rules.itertuples(index=False):
        if str(r.rule) != "ban":
            continue
        if _id(r.partner) is not None and _id(r.partner) != p:
            continue
        if i not in _items_of(ctx, r.item):
            continue
        group = ctx.resolve_group(r.group)
        if group is not None and ctx.member(group, s, p):
            return True
    return False


def least_unmet(data, allocation: pd.DataFrame, rule, lost: set[str]) -> tuple[float, float]:
    """``(unmet, demand in scope)`` of the best re-covery of the plan without ``lost``."""
    ctx = _Ctx(data, _Tol(1e-9, 1e-9))
    partner = _id(rule["partner"])
    items = _items_of(ctx, rule["item"])
    scope = [(p, d, t, q) for (p, d, t), q in ctx.demand.items()
             if d in items and (partner is None or p == partner) and q > 0]
    total = float(sum(q for *_, q in scope))
    in_scope = {(p, d, t) for p, d, t, _ in scope}

    planned_in = defaultdict(float)  # (s, i, t) -> planned to the scope
    planned_out = defaultdict(float)  # (s, i, t) -> planned outside the scope
    for r in allocation.itertuples(index=False):
        d = getattr(r, "demand_item", r.item)
        key = (str(r.supplier), str(r.item), str(r.period))
        if (str(r.partner), str(d), str(r.period)) in in_scope:
            planned_in[key] += float(r.quantity)
        else:
            planned_out[key] += float(r.quantity)

    surge = {(_id(o.supplier), _id(o.item)): _num(getattr(o, "surge", 0.0), 0.0)
             for o in data.offers.itertuples(index=False)}
    columns = []  # (demand position, s, i, t)
    for k, (p, d, t, _q) in enumerate(scope):
        accepted = {d} | {i for (dd, i), who in ctx.accepts.items() if dd == d and ({p, None} & who)}
        for (s, i), o in ctx.offers.items():
            if i not in accepted or s in lost or ctx.pos[t] < o["first_pos"] or _banned(ctx, p, s, i):
                continue
            columns.append((k, s, i, t))
    if not columns:
        return total, total

    rows, cols, vals, upper = [], [], [], []

    def add_row(members: list[tuple[int, float]], bound: float) -> None:
        r = len(upper)
        for j, a in members:
            rows.append(r)
            cols.append(j)
            vals.append(a)
        upper.append(bound)

    by_cell = defaultdict(list)
    by_supplier_period = defaultdict(list)
    by_demand = defaultdict(list)
    for j, (k, s, i, t) in enumerate(columns):
        by_cell[(s, i, t)].append(j)
        by_supplier_period[(s, t)].append((j, ctx.offers[(s, i)]["capacity_use"]))
        by_demand[k].append(j)
    for (s, i, t), js in by_cell.items():
        add_row([(j, 1.0) for j in js], planned_in[(s, i, t)] + surge.get((s, i), 0.0))
        cap = ctx.offer_capacity(s, i, t)
        if not math.isnan(cap):
            add_row([(j, 1.0) for j in js], cap - planned_out[(s, i, t)])
    for (s, t), members in by_supplier_period.items():
        cap = ctx.shared_cap.get(s, math.nan)
        if math.isnan(cap):
            continue
        outside = sum(ctx.offers[(ss, i)]["capacity_use"] * q
                      for (ss, i, tt), q in planned_out.items() if ss == s and tt == t)
        add_row(members, cap - outside)
    for k, js in by_demand.items():
        add_row([(j, 1.0) for j in js], scope[k][3])

    a = coo_matrix((vals, (rows, cols)), shape=(len(upper), len(columns))).tocsr()
    res = linprog(-np.ones(len(columns)), A_ub=a, b_ub=np.maximum(np.array(upper), 0.0),
                  bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return max(total + float(res.fun), 0.0), total


def contingencies(data, rule) -> list[tuple[str, set[str]]]:
    """Who may be lost: each supplier of the rule's group (blank: all) that offers an item in
    scope or an accepted substitute; with each_country, each such country's suppliers."""
    ctx = _Ctx(data, _Tol(1e-9, 1e-9))
    partner = _id(rule["partner"])
    items = _items_of(ctx, rule["item"])
    items |= {i for (d, i), who in ctx.accepts.items()
              if d in items and (partner is None or {partner, None} & who)}
    suppliers = sorted({s for (s, i) in ctx.offers if i in items}, key=list(ctx.supplier_country).index)
    group = _id(rule["group"])
    if group not in (None, "each_supplier", "each_country"):
        grp = ctx.resolve_group(group)
        suppliers = [s for s in suppliers if ctx.member(grp, s, partner)]
    if group == "each_country":
        countries = list(dict.fromkeys(ctx.supplier_country[s] for s in suppliers))
        return [(c, {s for s in suppliers if ctx.supplier_country[s] == c}) for c in countries]
    return [(s, {s}) for s in suppliers]


def check_n_minus_1(data, result, *, rtol: float = 1e-6) -> dict[tuple[str, str], float]:
    """Assert that every n_minus_1 rule holds for the plan, each contingency re-covered by the
    independent LP, and that the rules table reports the same unmet quantities. Returns
    ``{(rule_id, lost): unmet}``."""
    out = {}
    rules = data.rules.reset_index(drop=True)
    table = result.rules
    for _, rule in rules[rules["rule"] == "n_minus_1"].iterrows():
        rid = f"Rules!{int(rule['source_row'])}"
        for label, lost in contingencies(data, rule):
            unmet, total = least_unmet(data, result.allocation, rule, lost)
            if total <= 0:
                continue
            tol = rtol * max(1.0, total)
            assert unmet <= float(rule["share"]) * total + tol, (rid, label, unmet, total)
            row = table[(table["rule_id"] == rid) & (table["subject"] == label)]
            assert len(row) == 1, (rid, label, table)
            assert abs(float(row["lhs"].iloc[0]) - unmet) <= tol, (rid, label, row, unmet)
            out[(rid, label)] = unmet
    return out
