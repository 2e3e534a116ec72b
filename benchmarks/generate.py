"""Random, always-feasible procure instances of any size (SPEC sections 1-3).

``generate(...)`` returns the workbook tables as ``{sheet name: DataFrame}`` with
exactly SPEC's sheet and column names; ``write_xlsx`` writes them as a workbook.

Feasibility by construction
---------------------------
Every instance carries a *witness* plan ``x*`` that satisfies every constraint
and rule, and every parameter that could make the model infeasible is drawn so
that the witness satisfies it:

* Offer capacities: per (item, period), the capacity of the offers able to
  deliver, after removing the ``m`` largest (``m`` = 2 with >= 4 offers per item,
  1 with 3, 0 otherwise), is >= 1.5 x the total demand.  A partner loses at most
  one offer per item to a ``ban`` and at most one more to a "dropped" offer (see
  ``max_suppliers``), so the witness, which splits each partner's demand over its
  remaining offers in proportion to 2/3 of their capacity, fits every capacity
  with a third to spare (that third is what the shared supplier capacities may
  take away: they are set >= the witness's use).
* Bans hit at most one offer per (partner, item), only where >= 3 offers exist.
* ``min_order`` <= the witness's pooled quantity; budgets >= the witness's value
  plus transport; shares, quantities and supplier counts are drawn on the
  satisfiable side of what the witness achieves.
* Offers that start late (``first_period``) exist only with >= 4 offers per item,
  and the first three offers of every item deliver from the first period.

Everything is vectorised with numpy over (partner, item, offer, period) arrays;
only the (few) rules are drawn in a Python loop.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: sheet -> SPEC column names, in SPEC order
SPEC_COLUMNS: dict[str, list[str]] = {
    "Partners": ["partner", "name", "country", "budget"],
    "Items": ["item", "name", "unit", "category", "shortfall_penalty", "whole_units"],
    "Suppliers": ["supplier", "name", "country", "capacity"],
    "Offers": [
        "supplier", "item", "unit_price", "capacity", "capacity_use", "min_order",
        "setup_cost", "first_period", "discount", "surge",
    ],
    "Demand": ["partner", "item", "period", "quantity"],
    "Capacity": ["supplier", "item", "period", "capacity"],
    "PriceTiers": ["supplier", "item", "min_quantity", "unit_price"],
    "Transport": ["from_country", "to_partner", "cost_per_unit", "item"],
    "Blocs": ["bloc", "country"],
    "Substitutes": ["item", "substitute", "partner"],
    "Rules": ["rule", "partner", "item", "group", "share", "quantity"],
    "Settings": ["key", "value"],
}

#: rule types drawn by ``rule_density`` (``n_minus_1`` has an option of its own)
RULE_TYPES = (
    "ban", "min_share", "max_share", "min_value_share", "max_value_share", "workshare",
    "min_quantity", "max_quantity", "min_suppliers", "max_suppliers",
)

_STR_COLUMNS = {
    "partner", "name", "country", "item", "unit", "category", "supplier", "first_period",
    "discount", "period", "from_country", "to_partner", "bloc", "rule", "group", "key", "value",
    "substitute", "whole_units",
}


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.array([f"{prefix}{k + 1:0{width}d}" for k in range(n)], dtype=object)


def _frame(sheet: str, data: dict) -> pd.DataFrame:
    cols = SPEC_COLUMNS[sheet]
    out = {}
    n = None
    for c in cols:
        v = data.get(c)
        if v is not None:
            n = len(v)
    n = n or 0
    for c in cols:
        v = data.get(c)
        if c in _STR_COLUMNS:
            if v is None:
                v = [None] * n
            out[c] = pd.Series(np.asarray(v, dtype=object), dtype="str")
        else:
            if v is None:
                v = np.full(n, np.nan)
            out[c] = pd.Series(np.asarray(v, dtype=float), dtype="float64")
    return pd.DataFrame(out, columns=cols)


def _floor3(v: float) -> float:
    return math.floor(v * 1000.0 + 1e-9) / 1000.0


def _ceil3(v: float) -> float:
    return min(1.0, math.ceil(v * 1000.0 - 1e-9) / 1000.0)


def generate(
    partners: int = 5,
    items: int = 10,
    offers_per_item: int = 4,
    periods: int = 4,
    rule_density: float = 0.0,
    tiers: bool = False,
    setup: bool = False,
    min_orders: bool = False,
    shared_capacity: bool = False,
    shortfall: bool = False,
    budgets: bool = False,
    seed: int = 0,
    substitutes: bool = False,
    surge: bool = False,
    n_minus_1: bool = False,
) -> dict[str, pd.DataFrame]:
    """A random feasible instance: {SPEC sheet name: DataFrame with SPEC columns}.

    Variables ~ partners x items x offers_per_item x periods (every partner
    demands every item in every period).  ``rule_density`` is the expected number
    of rules per partner.  The same arguments always give the same tables.

    ``substitutes``: Substitutes rows between items of one category (they only add
    deliveries, so the witness stays feasible). ``surge``: Offers.surge values.
    ``n_minus_1``: one or two n_minus_1 rules whose share is at least the largest share of
    the scope's witness deliveries that one supplier (or one country) makes, so the witness
    minus the lost supplier's deliveries is a re-covery within capacity. These options draw
    from a random stream of their own: the rest of the instance is the same with or without
    them.
    """
    P, I, K, T = int(partners), int(items), int(offers_per_item), int(periods)  # noqa: E741
    if min(P, I, K, T) < 1:
        raise ValueError("partners, items, offers_per_item and periods must be >= 1")
    rng = np.random.default_rng(seed)

    # ---- countries, blocs, partners ------------------------------------------------
    n_extra = 3
    n_c = P + n_extra
    countries = _ids("C", n_c, 3)  # partner k lives in country k; the last 3 are outsiders
    partner_ids = _ids("P", P, 3)
    partner_country = np.arange(P)
    in_eu = rng.random(n_c) < 0.75
    in_eu[n_c - n_extra:] = False
    in_eu[0] = True
    in_nato = rng.random(n_c) < 0.85
    in_nato[n_c - n_extra] = True
    in_nato[n_c - 1] = False
    bloc_members = {"EU": np.flatnonzero(in_eu), "NATO": np.flatnonzero(in_nato)}

    # ---- items ---------------------------------------------------------------------
    item_ids = _ids("I", I, 4)
    n_cat = max(1, min(6, I // 3))
    categories = np.array([f"K{k + 1}" for k in range(n_cat)], dtype=object)
    item_cat = rng.integers(0, n_cat, I)
    base_price = np.round(10.0 ** rng.uniform(1.0, 4.0, I), 2)
    volume = rng.choice(np.array([1.0, 2.0, 5.0, 10.0]), I)

    # ---- suppliers and offers ------------------------------------------------------
    n_s = max(K + 2, math.ceil(I * K / 3))
    supplier_ids = _ids("S", n_s, 4)
    sup_country = rng.integers(0, n_c, n_s)
    # K distinct suppliers per item: a random start plus increasing random gaps
    gap_hi = max(1, n_s // K)
    gaps = rng.integers(1, gap_hi + 1, (I, K))
    gaps[:, 0] = 0
    offer_sup = (rng.integers(0, n_s, I)[:, None] + np.cumsum(gaps, axis=1)) % n_s  # (I,K)
    offer_cty = sup_country[offer_sup]  # (I,K)
    price = np.round(base_price[:, None] * rng.uniform(0.8, 1.5, (I, K)), 2)
    price = np.maximum(price, 0.01)

    # ---- periods, demand -----------------------------------------------------------
    period_ids = np.array([str(2026 + t) for t in range(T)], dtype=object)
    demand = rng.integers(20, 201, (P, I, T)).astype(float) * volume[None, :, None]
    dtot = demand.sum(axis=0)  # (I,T)

    # first_period: only with >= 4 offers, never for the first three offers of an item
    fp = np.zeros((I, K), dtype=int)
    if K >= 4 and T >= 2:
        late = (np.arange(K)[None, :] >= 3) & (rng.random((I, K)) < 0.25)
        fp[late] = rng.integers(1, T // 2 + 1, int(late.sum()))
    avail = np.arange(T)[None, None, :] >= fp[:, :, None]  # (I,K,T)

    m_drop = 2 if K >= 4 else (1 if K == 3 else 0)
    w = rng.uniform(0.5, 1.5, (I, K))
    wa = np.where(avail, w[:, :, None], 0.0)
    top = np.sort(wa, axis=1)[:, K - m_drop:, :].sum(axis=1) if m_drop else 0.0
    rest = wa.sum(axis=1) - top  # (I,T) > 0
    alpha = 1.5 * dtot / rest  # capacity per unit weight needed at (i,t)
    cu = w[:, :, None] * (alpha / 1.5)[:, None, :] * avail  # witness-usable capacity
    amax = alpha.max(axis=1)  # (I,)
    offer_cap = np.ceil(w * amax[:, None] * rng.uniform(1.0, 1.2, (I, K)))
    unlimited = rng.random((I, K)) < 0.05
    offer_cap_col = np.where(unlimited, np.nan, offer_cap)
    # Capacity overrides (ramp-up): still >= what the construction needs
    ov = avail & (rng.random((I, K, T)) < (0.1 if T > 1 else 0.0))
    r = rng.random((I, K, T))
    ov_val = np.ceil(w[:, :, None] * (alpha[:, None, :] + r * (amax[:, None, None] - alpha[:, None, :])))
    cap_eff = np.where(unlimited, np.inf, offer_cap)[:, :, None] * np.ones(T)
    cap_eff = np.where(ov, ov_val, cap_eff)
    cap_eff = np.where(avail, cap_eff, 0.0)  # (I,K,T): what an offer may deliver per period

    # ---- helpers for rules ----------------------------------------------------------
    sup_in_bloc = {b: np.isin(offer_cty, mem) for b, mem in bloc_members.items()}

    def pick_items():
        u = rng.random()
        if u < 0.5 or n_cat == 1 and u < 0.8:
            i = int(rng.integers(I))
            mask = np.zeros(I, bool)
            mask[i] = True
            return str(item_ids[i]), mask
        if u < 0.8:
            c = int(rng.integers(n_cat))
            mask = item_cat == c
            if mask.any():
                return str(categories[c]), mask
        return None, np.ones(I, bool)

    def pick_partner(pool_prob=0.35):
        if rng.random() < pool_prob:
            return None
        return int(rng.integers(P))

    def pick_group(pidx, imask, allow_each=False, allow_blank=False):
        """(label, mask over offers (I,K) or None for each_*, key array for each_*)."""
        opts = ["supplier", "country", "bloc"]
        if pidx is not None:
            opts.append("domestic")
        if allow_each:
            opts += ["each_supplier", "each_country"]
        if allow_blank:
            opts.append("blank")
        kind = opts[int(rng.integers(len(opts)))]
        if kind == "supplier":
            ii = np.flatnonzero(imask)
            i = int(rng.choice(ii))
            s = int(offer_sup[i, int(rng.integers(K))])
            return str(supplier_ids[s]), offer_sup == s, None
        if kind == "country":
            ii = np.flatnonzero(imask)
            i = int(rng.choice(ii))
            c = int(offer_cty[i, int(rng.integers(K))])
            return str(countries[c]), offer_cty == c, None
        if kind == "bloc":
            b = "EU" if rng.random() < 0.6 else "NATO"
            return b, sup_in_bloc[b], None
        if kind == "domestic":
            return "domestic", offer_cty == partner_country[pidx], None
        if kind == "each_supplier":
            return "each_supplier", None, offer_sup
        if kind == "each_country":
            return "each_country", None, offer_cty
        return None, np.ones((I, K), bool), None

    # ---- rules, pass 1: bans and the offers max_suppliers drops from the witness ---------
    n_rules = int(round(rule_density * P))
    rule_types = [str(t) for t in rng.choice(np.array(RULE_TYPES, dtype=object), n_rules)]
    banned = np.zeros((P, I, K), bool)
    dropped = np.zeros((I, K), bool)
    rules: list[dict] = []
    later: list[tuple[int, str]] = []
    for n, rt in enumerate(rule_types):
        if rt == "ban":
            if K < 3:
                rt = "max_share"
                later.append((n, rt))
                continue
            for _ in range(20):
                pidx = pick_partner(0.25)
                ilabel, imask = pick_items()
                glabel, gmask, _k = pick_group(pidx, imask)
                new = np.zeros((P, I, K), bool)
                pmask = np.ones(P, bool) if pidx is None else np.arange(P) == pidx
                if glabel == "domestic" or (pidx is None and rng.random() < 0.15):
                    glabel = "domestic"
                    gm = offer_cty[None, :, :] == partner_country[:, None, None]
                else:
                    gm = np.broadcast_to(gmask[None], (P, I, K))
                new = gm & pmask[:, None, None] & imask[None, :, None]
                if new.any() and ((banned | new).sum(axis=2) <= 1).all():
                    banned |= new
                    rules.append({"rule": "ban", "partner": None if pidx is None else str(partner_ids[pidx]),
                                  "item": ilabel, "group": glabel, "share": np.nan, "quantity": np.nan,
                                  "_order": n})
                    break
        elif rt == "max_suppliers":
            pidx = pick_partner()
            ilabel, imask = pick_items()
            if K >= 4:
                for i in np.flatnonzero(imask):
                    if not dropped[i].any():
                        dropped[i, int(rng.integers(K))] = True
            later.append((n, rt, pidx, ilabel, imask))
        else:
            later.append((n, rt))

    # ---- the witness plan ---------------------------------------------------------
    allowed = avail[None] & ~banned[:, :, :, None] & ~dropped[None, :, :, None]  # (P,I,K,T)
    cub = np.where(allowed, cu[None], 0.0)
    denom = cub.sum(axis=2, keepdims=True)
    xw = demand[:, :, None, :] * cub / denom  # (P,I,K,T)
    xs = xw.sum(axis=3)  # (P,I,K) per partner over the horizon
    xt = xw.sum(axis=0)  # (I,K,T) pooled per period
    qw = xs.sum(axis=0)  # (I,K) pooled over the horizon
    del cub, denom

    # ---- transport ------------------------------------------------------------------
    gen_cost = np.round(rng.uniform(0.5, 20.0, (P, n_c)), 2)
    gen_cost[np.arange(P), partner_country] = 0.5
    gen_present = rng.random((P, n_c)) < 0.8
    tc = np.where(gen_present, gen_cost, 0.0)[:, offer_cty]  # (P,I,K)
    t_pp, t_cc = np.nonzero(gen_present)
    tr_from = list(countries[t_cc])
    tr_to = list(partner_ids[t_pp])
    tr_cost = list(gen_cost[t_pp, t_cc])
    tr_item: list = [None] * len(tr_from)
    n_spec = min(P * I, 2 * P)
    sp_p = rng.integers(0, P, n_spec)
    sp_i = rng.integers(0, I, n_spec)
    sp_k = rng.integers(0, K, n_spec)
    sp_c = offer_cty[sp_i, sp_k]
    seen = set()
    for p_, i_, c_ in zip(sp_p.tolist(), sp_i.tolist(), sp_c.tolist(), strict=True):
        if (p_, i_, c_) in seen:
            continue
        seen.add((p_, i_, c_))
        cost = round(float(rng.uniform(5.0, 100.0)), 2)
        tr_from.append(countries[c_])
        tr_to.append(partner_ids[p_])
        tr_cost.append(cost)
        tr_item.append(item_ids[i_])
        tc[p_, i_, offer_cty[i_] == c_] = cost

    # ---- rules, pass 2: drawn from what the witness achieves --------------------------
    value_s = xs * price[None]  # (P,I,K)

    def scope_sum(arr, pidx, imask, gmask=None):
        a = arr if pidx is None else arr[pidx:pidx + 1]
        a = a[:, imask, :]
        if gmask is not None:
            a = a * gmask[imask][None]
        return float(a.sum())

    def each_max(arr, pidx, imask, key):
        a = arr if pidx is None else arr[pidx:pidx + 1]
        per = a[:, imask, :].sum(axis=0)  # (|items|,K)
        sums = np.bincount(key[imask].ravel(), weights=per.ravel())
        return float(sums.max()) if sums.size else 0.0

    for entry in later:
        n, rt = entry[0], entry[1]
        for _ in range(20):
            spec = None
            if rt in ("min_share", "max_share", "min_value_share", "max_value_share"):
                arr = value_s if "value" in rt else xs
                pidx = pick_partner()
                ilabel, imask = pick_items()
                glabel, gmask, key = pick_group(pidx, imask, allow_each=rt.startswith("max"))
                total = scope_sum(arr, pidx, imask)
                if total <= 0:
                    continue
                achieved = (each_max(arr, pidx, imask, key) if key is not None
                            else scope_sum(arr, pidx, imask, gmask)) / total
                if rt.startswith("min"):
                    if achieved < 0.02:
                        continue
                    share = _floor3(achieved * rng.uniform(0.4, 0.9))
                else:
                    if achieved > 0.98:
                        continue
                    share = _ceil3(achieved + (1.0 - achieved) * rng.uniform(0.05, 0.5))
                spec = (pidx, ilabel, glabel, share, np.nan)
            elif rt == "workshare":
                pidx = pick_partner()
                ilabel, imask = pick_items()
                plist = range(P) if pidx is None else [pidx]
                ratios = []
                for p_ in plist:
                    dom = offer_cty == partner_country[p_]
                    num = float((value_s[:, imask, :] * dom[imask][None]).sum())
                    den = float(value_s[p_, imask, :].sum())
                    ratios.append(num / den if den > 0 else np.inf)
                ratio = min(ratios)
                if not (0.02 <= ratio < np.inf):
                    continue
                spec = (pidx, ilabel, None, _floor3(min(1.0, ratio * rng.uniform(0.5, 0.9))), np.nan)
            elif rt in ("min_quantity", "max_quantity"):
                pidx = pick_partner()
                ilabel, imask = pick_items()
                glabel, gmask, key = pick_group(pidx, imask, allow_each=rt == "max_quantity")
                achieved = (each_max(xs, pidx, imask, key) if key is not None
                            else scope_sum(xs, pidx, imask, gmask))
                if rt == "min_quantity":
                    if achieved < 1.0:
                        continue
                    q = float(math.floor(achieved * rng.uniform(0.3, 0.9)))
                else:
                    q = float(math.ceil(achieved * rng.uniform(1.0, 1.5)))
                spec = (pidx, ilabel, glabel, np.nan, q)
            elif rt == "min_suppliers":
                if K < 3:
                    break
                pidx = pick_partner()
                ilabel, imask = pick_items()
                glabel, gmask, _k = pick_group(pidx, imask, allow_blank=True)
                if glabel in ("domestic",) or (glabel is not None and rng.random() < 0.5):
                    glabel, gmask = None, np.ones((I, K), bool)
                a = xs.sum(axis=0) if pidx is None else xs[pidx]
                counts = ((a >= 1.0) & gmask)[imask].sum(axis=1)
                if counts.min() < 2:
                    continue
                spec = (pidx, ilabel, glabel, np.nan, 2.0)
            elif rt == "max_suppliers":
                pidx, ilabel, imask = entry[2], entry[3], entry[4]
                glabel, gmask, _k = pick_group(pidx, imask, allow_blank=True)
                if glabel is not None and glabel not in ("EU", "NATO"):
                    glabel, gmask = None, np.ones((I, K), bool)
                a = xs.sum(axis=0) if pidx is None else xs[pidx]
                counts = ((a > 0) & gmask)[imask].sum(axis=1)
                spec = (pidx, ilabel, glabel, np.nan, float(max(1, counts.max())))
            if spec is not None:
                pidx, ilabel, glabel, share, q = spec
                rules.append({"rule": rt, "partner": None if pidx is None else str(partner_ids[pidx]),
                              "item": ilabel, "group": glabel, "share": share, "quantity": q,
                              "_order": n})
                break
    rules.sort(key=lambda r: r["_order"])

    # ---- offer options --------------------------------------------------------------
    O = I * K  # noqa: E741
    min_order = np.zeros((I, K))
    if min_orders:
        mo = (rng.random((I, K)) < 0.3) & (qw > 1.0)
        min_order[mo] = np.floor(qw[mo] * rng.uniform(0.3, 0.9, int(mo.sum())))
    setup_cost = np.zeros((I, K))
    if setup:
        su = rng.random((I, K)) < 0.3
        ref = np.where(qw > 0, qw, dtot.sum(axis=1)[:, None] / K)
        setup_cost[su] = np.round((price * ref)[su] * rng.uniform(0.02, 0.15, int(su.sum())), 2)
    capacity_use = np.ones((I, K))
    sup_cap = np.full(n_s, np.nan)
    if shared_capacity:
        capacity_use = np.round(rng.uniform(0.5, 2.0, (I, K)), 2)
        used = np.zeros((n_s, T))
        np.add.at(used, offer_sup.ravel(), (capacity_use[:, :, None] * xt).reshape(O, T))
        sup_cap = np.maximum(1.0, np.ceil(used.max(axis=1) * rng.uniform(1.05, 1.3, n_s)))
    discount = np.full((I, K), "all_units", dtype=object)
    tier_rows: dict[str, list] = {"supplier": [], "item": [], "min_quantity": [], "unit_price": []}
    if tiers:
        has = rng.random((I, K)) < 0.5
        ntier = rng.integers(1, 4, (I, K))
        cap_total = cap_eff.sum(axis=2)
        ref = np.minimum(cap_total, dtot.sum(axis=1)[:, None])  # (I,K) most it can sell
        frac = np.cumsum(rng.uniform(0.05, 0.3, (I, K, 3)), axis=2)
        mq = np.floor(frac * ref[:, :, None])
        disc = np.cumsum(rng.uniform(0.03, 0.12, (I, K, 3)), axis=2)
        tprice = np.round(price[:, :, None] * (1.0 - disc), 2)
        prev = np.concatenate([np.zeros((I, K, 1)), mq[:, :, :-1]], axis=2)
        keep = has[:, :, None] & (np.arange(3)[None, None, :] < ntier[:, :, None]) & (mq > prev)
        keep &= np.cumprod(keep, axis=2).astype(bool)
        ii, kk, jj = np.nonzero(keep)
        tier_rows = {
            "supplier": supplier_ids[offer_sup[ii, kk]],
            "item": item_ids[ii],
            "min_quantity": mq[ii, kk, jj],
            "unit_price": tprice[ii, kk, jj],
        }
        kinds = np.array(["all_units", "incremental"], dtype=object)
        discount = np.where(has, kinds[rng.integers(0, 2, (I, K))], discount)

    # ---- supply-chain security and standards (a random stream of their own) ------------
    extra = np.random.default_rng([int(seed), 11])
    sub_rows: dict[str, list] = {"item": [], "substitute": [], "partner": []}
    if substitutes:
        for a in range(I):
            for b in range(I):
                if a != b and item_cat[a] == item_cat[b] and extra.random() < 0.5:
                    who = None if extra.random() < 0.5 else str(partner_ids[int(extra.integers(P))])
                    sub_rows["item"].append(str(item_ids[a]))
                    sub_rows["substitute"].append(str(item_ids[b]))
                    sub_rows["partner"].append(who)
    surge_col = np.zeros((I, K))
    if surge:
        surge_col = np.where(extra.random((I, K)) < 0.6,
                             np.ceil(xt.max(axis=2) * extra.uniform(0.05, 0.5, (I, K))), 0.0)
    if n_minus_1:
        for _ in range(int(extra.integers(1, 3))):
            pidx = None if extra.random() < 0.5 else int(extra.integers(P))
            imask = np.zeros(I, bool)
            imask[extra.choice(I, size=int(extra.integers(1, min(I, 2) + 1)), replace=False)] = True
            ilabel = str(item_ids[imask][0]) if imask.sum() == 1 else None
            if ilabel is None:
                imask[:] = True
            by_country = extra.random() < 0.3
            key = offer_cty if by_country else offer_sup
            a = xs if pidx is None else xs[pidx:pidx + 1]
            per = a[:, imask, :].sum(axis=0)  # (|items|, K): witness deliveries per offer
            total = float(per.sum())
            if total <= 0:
                continue
            worst = float(np.bincount(key[imask].ravel(), weights=per.ravel()).max()) / total
            share = _ceil3(worst + (1.0 - worst) * extra.uniform(0.0, 0.5))
            rules.append({"rule": "n_minus_1",
                          "partner": None if pidx is None else str(partner_ids[pidx]),
                          "item": ilabel, "group": "each_country" if by_country else None,
                          "share": share, "quantity": np.nan, "_order": len(rules)})

    # ---- tables -----------------------------------------------------------------------
    tables: dict[str, pd.DataFrame] = {}
    budget = np.full(P, np.nan)
    if budgets:
        need = (value_s + tc * xs).sum(axis=(1, 2))
        budget = np.ceil(need * rng.uniform(1.02, 1.2, P))
    tables["Partners"] = _frame("Partners", {
        "partner": partner_ids,
        "name": [f"Partner {k + 1}" for k in range(P)],
        "country": countries[partner_country],
        "budget": budget,
    })
    penalty = np.full(I, np.nan)
    if shortfall:
        sf = rng.random(I) < 0.5
        penalty[sf] = np.round(price.max(axis=1)[sf] * rng.uniform(1.5, 3.0, int(sf.sum())), 2)
    tables["Items"] = _frame("Items", {
        "item": item_ids,
        "name": [f"Item {k + 1}" for k in range(I)],
        "unit": ["unit"] * I,
        "category": categories[item_cat],
        "shortfall_penalty": penalty,
    })
    tables["Suppliers"] = _frame("Suppliers", {
        "supplier": supplier_ids,
        "name": [f"Supplier {k + 1}" for k in range(n_s)],
        "country": countries[sup_country],
        "capacity": sup_cap,
    })
    fp_col = np.where(fp > 0, period_ids[fp], None)
    tables["Offers"] = _frame("Offers", {
        "supplier": supplier_ids[offer_sup].ravel(),
        "item": np.repeat(item_ids, K),
        "unit_price": price.ravel(),
        "capacity": offer_cap_col.ravel(),
        "capacity_use": capacity_use.ravel(),
        "min_order": min_order.ravel(),
        "setup_cost": setup_cost.ravel(),
        "first_period": fp_col.ravel(),
        "discount": discount.ravel(),
        "surge": surge_col.ravel(),
    })
    tables["Demand"] = _frame("Demand", {
        "partner": np.repeat(partner_ids, I * T),
        "item": np.tile(np.repeat(item_ids, T), P),
        "period": np.tile(period_ids, P * I),
        "quantity": demand.ravel(),
    })
    oi, ok, ot = np.nonzero(ov)
    tables["Capacity"] = _frame("Capacity", {
        "supplier": supplier_ids[offer_sup[oi, ok]],
        "item": item_ids[oi],
        "period": period_ids[ot],
        "capacity": ov_val[oi, ok, ot],
    })
    tables["PriceTiers"] = _frame("PriceTiers", tier_rows)
    tables["Transport"] = _frame("Transport", {
        "from_country": tr_from, "to_partner": tr_to, "cost_per_unit": tr_cost, "item": tr_item,
    })
    tables["Blocs"] = _frame("Blocs", {
        "bloc": [b for b, mem in bloc_members.items() for _ in mem],
        "country": [countries[c] for mem in bloc_members.values() for c in mem],
    })
    tables["Substitutes"] = _frame("Substitutes", sub_rows)
    tables["Rules"] = _frame("Rules", {
        c: [r[c] for r in rules] for c in SPEC_COLUMNS["Rules"]
    } if rules else {})
    tables["Settings"] = _frame("Settings", {
        "key": ["currency", "time_limit"], "value": ["EUR", "600"],
    })
    return tables


def write_xlsx(tables: dict[str, pd.DataFrame], path) -> Path:
    """Write ``tables`` as a workbook, one sheet each, fast (openpyxl write-only mode)."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook(write_only=True)
    for name, df in tables.items():
        ws = wb.create_sheet(title=name)
        ws.append([str(c) for c in df.columns])
        cols = []
        for c in df.columns:
            s = df[c]
            if pd.api.types.is_numeric_dtype(s.dtype):
                a = s.to_numpy(dtype=float)
                vals = a.tolist()
                nan = np.isnan(a)
                if nan.any():
                    for k in np.flatnonzero(nan).tolist():
                        vals[k] = None
            else:
                vals = [None if (v is None or v is pd.NA or (isinstance(v, float) and v != v))
                        else v for v in s.astype(object).tolist()]
            cols.append(vals)
        for row in zip(*cols, strict=True):
            ws.append(row)
    wb.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--offers-per-item", type=int, default=4)
    ap.add_argument("--periods", type=int, default=4)
    ap.add_argument("--rule-density", type=float, default=0.0)
    for flag in ("tiers", "setup", "min-orders", "shared-capacity", "shortfall", "budgets",
                 "substitutes", "surge", "n-minus-1"):
        ap.add_argument(f"--{flag}", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="workbook to write (.xlsx)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    tables = generate(
        partners=a.partners, items=a.items, offers_per_item=a.offers_per_item, periods=a.periods,
        rule_density=a.rule_density, tiers=a.tiers, setup=a.setup, min_orders=a.min_orders,
        shared_capacity=a.shared_capacity, shortfall=a.shortfall, budgets=a.budgets, seed=a.seed,
        substitutes=a.substitutes, surge=a.surge, n_minus_1=a.n_minus_1,
    )
    t1 = time.perf_counter()
    write_xlsx(tables, a.out)
    t2 = time.perf_counter()
    rows = ", ".join(f"{k} {len(v)}" for k, v in tables.items())
    print(f"generated in {t1 - t0:.2f} s, written in {t2 - t1:.2f} s: {a.out} ({rows})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
