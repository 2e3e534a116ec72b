"""The SPEC model written the straightforward way with PuLP: the baseline.

This is what an analyst would write by hand from SPEC.md: dicts of
``LpVariable`` and ``lpSum`` in loops over constraints.  It is deliberately
*not* optimised; it is the reference the fast package is timed against and an
independent oracle it is checked against, so it follows SPEC sections 2 and 3
literally.

    build(tables) -> pulp.LpProblem
    solve(tables, solver="highs" | "cbc", time_limit=None) -> (status, objective, {(p, i, s, t): qty})

``tables`` is ``{sheet name: DataFrame}`` as SPEC section 1 (sheet and column
names case-insensitive, ids as text or numbers).  Only light parsing is done
here (no validation beyond what the model needs).

Readings of SPEC where it leaves a choice (kept in line with the package):

* x exists only for Demand rows with quantity > 0 (the demand equality forces x
  to 0 elsewhere anyway).
* ``min_suppliers``: a candidate is a supplier in the group with an offer of the
  item that has at least one x in the scope; it counts when its deliveries to the
  scope over the horizon reach ``min(1, could)``, where ``could`` is the sum over
  periods of min(offer capacity, shared capacity / capacity_use, scope demand);
  a supplier that could deliver nothing is not a candidate.
* ``max_suppliers`` counts a supplier delivering anything (big-M = ``could``).
* Blank group: every supplier (share and supplier-count rules); quantity rules
  need a group.  The words ``each_supplier``, ``each_country`` and ``domestic``
  are matched before supplier ids, countries and blocs.
* ``each_supplier`` / ``each_country`` make one constraint per supplier / country
  that has an x in the scope.
* Price tiers: a PriceTiers row at min_quantity 0 replaces the base price in the
  cost (the budget still uses Offers.unit_price).  Tiers above the most an offer
  can sell are dropped.
"""

from __future__ import annotations

import math
import time
import warnings

import pandas as pd
import pulp

INF = float("inf")


# ----------------------------------------------------------------------------- parsing


def _blank(v) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str) and v.strip() == "":
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _id(v):
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _num(v, default=None):
    if _blank(v):
        return default
    return float(v)


def _rows(tables, name) -> list[dict]:
    for key, df in tables.items():
        if str(key).strip().lower() == name.lower():
            df = df.rename(columns=lambda c: str(c).strip().lower())
            return df.to_dict("records")
    return []


def _period_key(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


class Data:
    """The tables of SPEC section 1 as plain Python dicts."""

    def __init__(self, tables):
        self.partner_country = {}
        self.budget = {}
        for r in _rows(tables, "Partners"):
            p = _id(r["partner"])
            self.partner_country[p] = _id(r.get("country")) or p
            b = _num(r.get("budget"))
            if b is not None:
                self.budget[p] = b
        self.items = []
        self.category = {}
        self.penalty = {}
        for r in _rows(tables, "Items"):
            i = _id(r["item"])
            self.items.append(i)
            self.category[i] = _id(r.get("category"))
            pen = _num(r.get("shortfall_penalty"))
            if pen is not None:
                self.penalty[i] = pen
        self.supplier_country = {}
        self.supplier_capacity = {}
        for r in _rows(tables, "Suppliers"):
            s = _id(r["supplier"])
            self.supplier_country[s] = _id(r["country"])
            c = _num(r.get("capacity"))
            if c is not None:
                self.supplier_capacity[s] = c
        self.demand = {}
        for r in _rows(tables, "Demand"):
            self.demand[(_id(r["partner"]), _id(r["item"]), _id(r["period"]))] = _num(r["quantity"], 0.0)
        self.periods = sorted({t for (_p, _i, t) in self.demand}, key=_period_key)
        self.period_index = {t: k for k, t in enumerate(self.periods)}
        self.offers = {}
        self.offers_of_item = {}
        for r in _rows(tables, "Offers"):
            s, i = _id(r["supplier"]), _id(r["item"])
            fp = _id(r.get("first_period"))
            self.offers[(s, i)] = {
                "price": _num(r["unit_price"]),
                "capacity": _num(r.get("capacity"), INF),
                "use": _num(r.get("capacity_use"), 1.0),
                "min_order": _num(r.get("min_order"), 0.0),
                "setup": _num(r.get("setup_cost"), 0.0),
                "first": self.period_index[fp] if fp is not None else 0,
                "discount": (_id(r.get("discount")) or "all_units").lower(),
            }
            self.offers_of_item.setdefault(i, []).append(s)
        self.capacity = {}
        for r in _rows(tables, "Capacity"):
            self.capacity[(_id(r["supplier"]), _id(r["item"]), _id(r["period"]))] = _num(r["capacity"])
        self.tiers = {}
        for r in _rows(tables, "PriceTiers"):
            key = (_id(r["supplier"]), _id(r["item"]))
            self.tiers.setdefault(key, []).append((_num(r["min_quantity"]), _num(r["unit_price"])))
        self.transport = {}
        for r in _rows(tables, "Transport"):
            key = (_id(r["from_country"]), _id(r["to_partner"]), _id(r.get("item")))
            self.transport[key] = _num(r["cost_per_unit"], 0.0)
        self.blocs = {}
        for r in _rows(tables, "Blocs"):
            self.blocs.setdefault(_id(r["bloc"]), set()).add(_id(r["country"]))
        self.rules = _rows(tables, "Rules")
        self.settings = {_id(r["key"]).lower(): r["value"] for r in _rows(tables, "Settings")}
        self.countries = (set(self.supplier_country.values()) | set(self.partner_country.values())
                          | {c for m in self.blocs.values() for c in m})

    def offer_capacity(self, s, i, t):
        """Capacity of offer (s, i) in period t (Capacity overrides Offers.capacity)."""
        if (s, i, t) in self.capacity:
            return self.capacity[(s, i, t)]
        return self.offers[(s, i)]["capacity"]

    def transport_cost(self, s, p, i):
        c = self.supplier_country[s]
        if (c, p, i) in self.transport:
            return self.transport[(c, p, i)]
        return self.transport.get((c, p, None), 0.0)

    def rule_items(self, label):
        if label is None:
            return list(self.items)
        if label in self.category:  # an item id
            return [label]
        found = [i for i in self.items if self.category[i] == label]
        if not found:
            raise ValueError(f"rule item {label!r} is neither an item nor a category")
        return found

    def group_suppliers(self, group, partner):
        """Suppliers a group names (None: every supplier)."""
        if group is None:
            return set(self.supplier_country)
        if group.lower() == "domestic":
            if partner is None:
                raise ValueError("group 'domestic' needs a partner")
            return {s for s, c in self.supplier_country.items() if c == self.partner_country[partner]}
        if group in self.supplier_country:
            return {group}
        if group in self.countries:
            return {s for s, c in self.supplier_country.items() if c == group}
        if group in self.blocs:
            return {s for s, c in self.supplier_country.items() if c in self.blocs[group]}
        raise ValueError(f"rule group {group!r} is not a supplier, country, bloc or 'domestic'")


# ----------------------------------------------------------------------------- model


def build(tables) -> pulp.LpProblem:
    """The SPEC model as a ``pulp.LpProblem`` (minimise total cost).

    The problem carries its x variables as ``prob._procure_x``: {(p, i, s, t): LpVariable}.
    """
    d = Data(tables)
    prob = pulp.LpProblem("procure_baseline", pulp.LpMinimize)
    partners = list(d.partner_country)

    # bans first: they decide which x exist
    banned = set()
    for r in d.rules:
        if (_id(r["rule"]) or "").lower() != "ban":
            continue
        p_label, group = _id(r.get("partner")), _id(r.get("group"))
        for p in ([p_label] if p_label else partners):
            for i in d.rule_items(_id(r.get("item"))):
                for s in d.group_suppliers(group, p):
                    banned.add((p, s, i))

    # variables
    x = {}
    for (p, i, t), q in d.demand.items():
        if q <= 0:
            continue
        for s in d.offers_of_item.get(i, []):
            if d.period_index[t] < d.offers[(s, i)]["first"] or (p, s, i) in banned:
                continue
            x[(p, i, s, t)] = prob.add_variable(f"x_{len(x)}", lowBound=0)
    u = {}
    for (p, i, t), q in d.demand.items():
        if i in d.penalty and q > 0:
            u[(p, i, t)] = prob.add_variable(f"u_{len(u)}", lowBound=0)

    # index x by offer and by (offer, period) for the sums below
    x_of_offer = {}
    x_of_offer_period = {}
    x_of_pit = {}
    for (p, i, s, t), var in x.items():
        x_of_offer.setdefault((s, i), []).append(var)
        x_of_offer_period.setdefault((s, i, t), []).append(var)
        x_of_pit.setdefault((p, i, t), []).append(var)

    cost = []

    # 1. demand
    for (p, i, t), q in d.demand.items():
        terms = list(x_of_pit.get((p, i, t), []))
        if (p, i, t) in u:
            terms.append(u[(p, i, t)])
        if not terms:
            if q > 0:  # nothing can deliver: the model is infeasible
                dummy = prob.add_variable(f"nothing_{prob.numConstraints()}", lowBound=0, upBound=0)
                prob += dummy == q, f"demand_{prob.numConstraints()}"
            continue
        prob += pulp.lpSum(terms) == q, f"demand_{prob.numConstraints()}"

    # 2. capacity of each offer, and the suppliers' shared capacity
    for (s, i, t), vars_ in x_of_offer_period.items():
        cap = d.offer_capacity(s, i, t)
        if cap < INF:
            prob += pulp.lpSum(vars_) <= cap, f"cap_{prob.numConstraints()}"
    shared_terms = {}
    for (s, i, t), vars_ in x_of_offer_period.items():
        if s in d.supplier_capacity:
            use = d.offers[(s, i)]["use"]
            shared_terms.setdefault((s, t), []).extend(use * v for v in vars_)
    for (s, _t), terms in shared_terms.items():
        prob += pulp.lpSum(terms) <= d.supplier_capacity[s], f"shared_{prob.numConstraints()}"

    # the most an offer can sell over the horizon: big-M of min_order, setup and tiers
    total_demand = {}
    for (_p, i, _t), q in d.demand.items():
        total_demand[i] = total_demand.get(i, 0.0) + q

    def most(s, i):
        cap = sum(d.offer_capacity(s, i, t) for t in d.periods
                  if d.period_index[t] >= d.offers[(s, i)]["first"])
        return min(cap, total_demand.get(i, 0.0))

    # 3. min order and setup; 4. price tiers; purchase cost
    y = {}
    for (s, i), o in d.offers.items():
        Q = pulp.lpSum(x_of_offer.get((s, i), []))
        M = most(s, i)
        if o["min_order"] > 0 or o["setup"] > 0:
            y[(s, i)] = prob.add_variable(f"y_{len(y)}", cat="Binary")
            prob += Q <= M * y[(s, i)], f"use_{prob.numConstraints()}"
            prob += Q >= o["min_order"] * y[(s, i)], f"minorder_{prob.numConstraints()}"
            cost.append(o["setup"] * y[(s, i)])
        tiers = {0.0: o["price"]}
        for mq, pr in d.tiers.get((s, i), []):
            tiers[mq] = pr
        levels = sorted(m for m in tiers if m <= M)
        if len(levels) <= 1 or (s, i) not in x_of_offer:
            cost.append(tiers[0.0] * Q)
            continue
        n = prob.numConstraints()
        if o["discount"] == "incremental":
            # q_k: units bought in band k; band k+1 opens only when band k is full
            ends = levels[1:] + [M]
            q = [prob.add_variable(f"inc_{n}_{k}", lowBound=0, upBound=ends[k] - levels[k])
                 for k in range(len(levels))]
            for k in range(len(levels) - 1):
                full = prob.add_variable(f"full_{n}_{k}", cat="Binary")
                prob += q[k] >= (ends[k] - levels[k]) * full, f"incfull_{n}_{k}"
                prob += q[k + 1] <= (ends[k + 1] - levels[k + 1]) * full, f"incopen_{n}_{k}"
            prob += Q == pulp.lpSum(q), f"inctotal_{n}"
            cost.append(pulp.lpSum(tiers[levels[k]] * q[k] for k in range(len(levels))))
        else:
            # all units: pick one tier k, Q in [min_quantity_k, min_quantity_k+1]
            ends = levels[1:] + [M]
            q = [prob.add_variable(f"au_{n}_{k}", lowBound=0) for k in range(len(levels))]
            z = [prob.add_variable(f"tier_{n}_{k}", cat="Binary") for k in range(len(levels))]
            for k in range(len(levels)):
                prob += q[k] >= levels[k] * z[k], f"aulo_{n}_{k}"
                prob += q[k] <= ends[k] * z[k], f"auhi_{n}_{k}"
            prob += pulp.lpSum(z) <= 1, f"auone_{n}"
            prob += Q == pulp.lpSum(q), f"autotal_{n}"
            cost.append(pulp.lpSum(tiers[levels[k]] * q[k] for k in range(len(levels))))

    # transport and shortfall costs
    for (p, i, s, _t), var in x.items():
        tc = d.transport_cost(s, p, i)
        if tc:
            cost.append(tc * var)
    for (_p, i, _t), var in u.items():
        cost.append(d.penalty[i] * var)

    # 5. budgets
    for p, b in d.budget.items():
        terms = [(d.offers[(s, i)]["price"] + d.transport_cost(s, p, i)) * var
                 for (p2, i, s, t), var in x.items() if p2 == p]
        if terms:
            prob += pulp.lpSum(terms) <= b, f"budget_{prob.numConstraints()}"

    # 6. rules
    for n, r in enumerate(d.rules):
        _add_rule(prob, d, x, n, r, partners)

    prob += pulp.lpSum(cost)
    prob._procure_x = x  # {(p, i, s, t): LpVariable}, for solve() and tests
    return prob


def _add_rule(prob, d: Data, x, n, r, partners):
    kind = (_id(r["rule"]) or "").lower()
    if kind == "ban":
        return
    p_label = _id(r.get("partner"))
    items = set(d.rule_items(_id(r.get("item"))))
    group = _id(r.get("group"))
    share = _num(r.get("share"))
    quantity = _num(r.get("quantity"))
    scope = [p_label] if p_label else partners

    # x in the scope: the partner's (or the pool's) orders of the items
    in_scope = [(key, var) for key, var in x.items() if key[0] in scope and key[1] in items]

    def price(key):
        return d.offers[(key[2], key[1])]["price"]

    if kind in ("min_share", "max_share", "min_value_share", "max_value_share"):
        weight = price if "value" in kind else (lambda key: 1.0)
        total = pulp.lpSum(weight(k) * v for k, v in in_scope)
        if group in ("each_supplier", "each_country"):
            of = ((lambda k: k[2]) if group == "each_supplier"
                  else (lambda k: d.supplier_country[k[2]]))
            for g in sorted({of(k) for k, _v in in_scope}):
                part = pulp.lpSum(weight(k) * v for k, v in in_scope if of(k) == g)
                prob += part <= share * total, f"rule{n}_{kind}_{prob.numConstraints()}"
            return
        sup = d.group_suppliers(group, p_label)
        part = pulp.lpSum(weight(k) * v for k, v in in_scope if k[2] in sup)
        if kind.startswith("min"):
            prob += part >= share * total, f"rule{n}_{kind}"
        else:
            prob += part <= share * total, f"rule{n}_{kind}"
    elif kind == "workshare":
        for p in scope:
            home = d.partner_country[p]
            awarded = pulp.lpSum(price(k) * v for k, v in x.items()
                                 if k[1] in items and d.supplier_country[k[2]] == home)
            own = pulp.lpSum(price(k) * v for k, v in x.items() if k[0] == p and k[1] in items)
            prob += awarded >= share * own, f"rule{n}_workshare_{prob.numConstraints()}"
    elif kind in ("min_quantity", "max_quantity"):
        if group is None:
            raise ValueError(f"{kind} needs a group")
        if group in ("each_supplier", "each_country"):
            of = ((lambda k: k[2]) if group == "each_supplier"
                  else (lambda k: d.supplier_country[k[2]]))
            for g in sorted({of(k) for k, _v in in_scope}):
                part = pulp.lpSum(v for k, v in in_scope if of(k) == g)
                prob += part <= quantity, f"rule{n}_{kind}_{prob.numConstraints()}"
            return
        sup = d.group_suppliers(group, p_label)
        part = pulp.lpSum(v for k, v in in_scope if k[2] in sup)
        if kind == "min_quantity":
            prob += part >= quantity, f"rule{n}_{kind}"
        else:
            prob += part <= quantity, f"rule{n}_{kind}"
    elif kind in ("min_suppliers", "max_suppliers"):
        sup = d.group_suppliers(group, p_label)
        for i in sorted(items):
            demanded = sum(q for (p, i2, _t), q in d.demand.items() if p in scope and i2 == i)
            if demanded <= 0:
                continue
            counted = []
            for s in d.offers_of_item.get(i, []):
                if s not in sup:
                    continue
                keys = [(k, v) for k, v in in_scope if k[1] == i and k[2] == s]
                if not keys:
                    continue
                # the most s could deliver of i to the scope over the horizon
                could = 0.0
                for t in d.periods:
                    dem_t = sum(d.demand[(k[0], i, t)] for k, _v in keys if k[3] == t)
                    cap_t = d.offer_capacity(s, i, t)
                    if s in d.supplier_capacity and d.offers[(s, i)]["use"] > 0:
                        cap_t = min(cap_t, d.supplier_capacity[s] / d.offers[(s, i)]["use"])
                    if any(k[3] == t for k, _v in keys):
                        could += min(cap_t, dem_t)
                if could <= 0:
                    continue
                delivered = pulp.lpSum(v for _k, v in keys)
                z = prob.add_variable(f"count_{prob.numConstraints()}", cat="Binary")
                if kind == "min_suppliers":
                    prob += delivered >= min(1.0, could) * z, f"rule{n}_counts_{prob.numConstraints()}"
                else:
                    prob += delivered <= could * z, f"rule{n}_counts_{prob.numConstraints()}"
                counted.append(z)
            if kind == "min_suppliers":
                prob += pulp.lpSum(counted) >= quantity, f"rule{n}_{kind}_{prob.numConstraints()}"
            else:
                prob += pulp.lpSum(counted) <= quantity, f"rule{n}_{kind}_{prob.numConstraints()}"
    else:
        raise ValueError(f"unknown rule {kind!r}")


# ----------------------------------------------------------------------------- solve


def _solver(name, time_limit, mip_gap):
    name = name.lower()
    if name == "highs":
        return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=mip_gap)
    if name == "cbc":
        with warnings.catch_warnings():  # PuLP 3.3 announces the bundled CBC's removal in 4.0
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=mip_gap)
    raise ValueError(f"solver must be 'highs' or 'cbc', not {name!r}")


def solve(tables, solver: str = "highs", time_limit: float | None = None, mip_gap: float = 1e-9):
    """Build and solve; returns ``(status, objective, {(p, i, s, t): quantity > 0})``.

    ``status`` is one of procure's statuses: ``optimal``, ``feasible`` (time limit
    hit with a plan), ``infeasible``, ``unbounded``, ``time_limit`` (no plan),
    ``error``.  ``objective`` is None without a plan.  The MIP gap defaults to
    1e-9 (an oracle wants the optimum, not the workbook's mip_gap).
    """
    t0 = time.perf_counter()
    prob = build(tables)
    solve.last_build_seconds = time.perf_counter() - t0  # for benchmarks
    prob.solve(_solver(solver, time_limit, mip_gap))
    sol = prob.sol_status
    if sol == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal:
        status = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible or (sol == pulp.LpSolutionOptimal):
        status = "feasible"
    elif sol == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
        status = "infeasible"
    elif sol == pulp.LpSolutionUnbounded or prob.status == pulp.LpStatusUnbounded:
        status = "unbounded"
    elif time_limit is not None and prob.status == pulp.LpStatusNotSolved:
        status = "time_limit"
    else:
        status = "error"
    if status not in ("optimal", "feasible"):
        return status, None, {}
    quantities = {}
    for key, var in prob._procure_x.items():
        v = var.varValue
        if v is not None and abs(v) > 1e-9:
            quantities[key] = v
    objective = pulp.value(prob.objective)
    return status, float(objective) if objective is not None else 0.0, quantities

