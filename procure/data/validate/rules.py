"""Checks of the Rules sheet.

For each rule: its item (an item or a category), its group (a supplier, a country, a bloc
or a keyword, resolved in that order, with a warning when a group names more than one
kind of thing), and the share and quantity the rule needs or ignores.  Runs after the
per-sheet and reference checks, on the parsed tables.
"""

from __future__ import annotations

import math

from procure.data.schema import (
    COUNT_RULES,
    EACH_GROUP_RULES,
    EACH_GROUPS,
    QUANTITY_RULES,
    SHARE_RULES,
)
from procure.data.validate.context import BAD, _Ctx, _shown, _Table
from procure.data.validate.references import _defined, _known_list, _unknown_ref


def _check_rules(ctx: _Ctx, tables: dict[str, _Table]) -> None:
    t = tables.get("Rules")
    if t is None or not t.ok("rule"):
        return
    suppliers = _defined(tables, "Suppliers") or set()
    items = _defined(tables, "Items") or set()
    check_items = _defined(tables, "Items") is not None
    check_groups = (
        _defined(tables, "Suppliers") is not None
        and _defined(tables, "Partners") is not None
        and "Blocs" not in ctx.broken
        and tables["Suppliers"].ok("country")
    )
    categories: set[str] = set()
    it = tables.get("Items")
    if it is not None:
        categories = {v for v in it.col("category") if isinstance(v, str)}
    countries: set[str] = set()
    supplier_countries: set[str] = set()
    sp = tables.get("Suppliers")
    if sp is not None and sp.ok("country"):
        supplier_countries = {v for v in sp.col("country") if isinstance(v, str)}
        countries |= supplier_countries
    partner_countries: dict[str, list[str]] = {}  # country -> the partners in it
    pa = tables.get("Partners")
    if pa is not None and pa.ok("partner"):
        for p, c in zip(pa.col("partner"), pa.col("country"), strict=True):
            home = c if isinstance(c, str) else p if c is None and isinstance(p, str) else None
            if home is not None:
                countries.add(home)
                partner_countries.setdefault(home, []).append(p)
    blocs: set[str] = set()
    bl = tables.get("Blocs")
    if bl is not None and bl.ok("bloc"):
        blocs = {v for v in bl.col("bloc") if isinstance(v, str)}
    keywords = ("domestic", *EACH_GROUPS)
    share_users = (*SHARE_RULES, "workshare", "n_minus_1")
    quantity_users = (*QUANTITY_RULES, *COUNT_RULES)

    groups = t.col("group")
    for k, (row, rec) in enumerate(t.records()):
        rule, partner, item, group = rec["rule"], rec["partner"], rec["item"], rec["group"]
        share, quantity = rec["share"], rec["quantity"]
        if not isinstance(rule, str):
            continue
        # item: an item id, else a category
        if check_items and isinstance(item, str) and item not in items and item not in categories:
            _unknown_ref(ctx, "Rules", row, "item", item, "Items (item or category)",
                         items | categories, "item or category")
        # group
        kind = None
        if isinstance(group, str) and rule != "workshare":
            _warn_ambiguous_group(ctx, row, rule, group, suppliers, supplier_countries,
                                  partner_countries, blocs, keywords)
        if isinstance(group, str):
            if group in suppliers:
                kind = "supplier"
            elif group in countries:
                kind = "country"
            elif group in blocs:
                kind = "bloc"
            elif group.lower() in keywords:
                kind = group.lower()
                groups[k] = kind
            elif not check_groups:
                kind = BAD
            else:
                _unknown_ref(ctx, "Rules", row, "group", group, "Suppliers, Partners or Blocs",
                             suppliers | countries | blocs | set(keywords),
                             "group (supplier, country or bloc)",
                             fix="name a supplier id, a country of a supplier or partner, a bloc "
                             "of sheet Blocs, or domestic, each_supplier or each_country (known: "
                             + _known_list(suppliers | countries | blocs) + ")")
                kind = BAD
        if rule == "workshare":
            if group is not None and group is not BAD:
                ctx.warnings.append(
                    f"sheet 'Rules' row {row}: workshare ignores group ({group!r})")
        else:
            needs_group = rule == "ban" or rule in SHARE_RULES or rule in QUANTITY_RULES
            if needs_group and group is None:
                ctx.add("Rules", row, "group", None, f"{rule} needs a group",
                        "enter a supplier id, a country, a bloc, or domestic"
                        + (", each_supplier or each_country" if rule in EACH_GROUP_RULES else ""))
            if kind in EACH_GROUPS and rule not in EACH_GROUP_RULES:
                ctx.add("Rules", row, "group", group,
                        f"{kind} is only for " + ", ".join(EACH_GROUP_RULES),
                        "name a supplier, country or bloc, or use the rule "
                        + ", ".join(EACH_GROUP_RULES))
            if kind == "domestic" and partner is None and rule != "ban":
                ctx.add("Rules", row, "partner", None,
                        f"group domestic needs a partner in a {rule} rule",
                        "enter the partner whose own country is meant, or name the country as "
                        "the group")
        # share
        if rule in share_users:
            if share is None:
                ctx.add("Rules", row, "share", None, f"{rule} needs a share",
                        "enter a fraction between 0 and 1 (65% is 0.65)")
        elif isinstance(share, float):
            ctx.warnings.append(f"sheet 'Rules' row {row}: {rule} ignores share ({_shown(share)})")
        # quantity
        if rule in quantity_users:
            if quantity is None:
                what = "a number of units" if rule in QUANTITY_RULES else "a number of suppliers"
                ctx.add("Rules", row, "quantity", None, f"{rule} needs a quantity", f"enter {what}")
            elif rule in COUNT_RULES and isinstance(quantity, float) and not quantity.is_integer():
                ctx.add("Rules", row, "quantity", _shown(quantity),
                        f"{rule} needs a whole number of suppliers",
                        f"enter a whole number, e.g. {math.floor(quantity)} or {math.ceil(quantity)}")
        elif isinstance(quantity, float):
            ctx.warnings.append(
                f"sheet 'Rules' row {row}: {rule} ignores quantity ({_shown(quantity)})")


def _warn_ambiguous_group(ctx: _Ctx, row: int, rule: str, group: str, suppliers: set[str],
                          supplier_countries: set[str], partner_countries: dict[str, list[str]],
                          blocs: set[str], keywords: tuple[str, ...]) -> None:
    """A group naming more than one kind of thing resolves as the contract says (a supplier,
    then a country, then a bloc, then a keyword) but says so, and how to name the other: a
    country that is only a partner's (default) country and also a bloc read as the country
    selects no supplier, and a ban on it bans nothing."""
    kinds = []
    if group in suppliers:
        kinds.append(("supplier", f"supplier {group!r} (sheet Suppliers)"))
    if group in supplier_countries or group in partner_countries:
        whose = ("of a supplier" if group in supplier_countries else
                 "of partner " + ", ".join(repr(p) for p in partner_countries[group][:3])
                 + " (sheet Partners; a blank country is the partner id)")
        kinds.append(("country", f"the country {group!r} {whose}"))
    if group in blocs:
        kinds.append(("bloc", f"the bloc {group!r} (sheet Blocs)"))
    if group.lower() in keywords:
        kinds.append(("keyword", f"the keyword {group.lower()!r}"))
    if len(kinds) < 2:
        return
    taken = kinds[0][0]
    how = {
        "country": f"to mean the country, rename supplier {group!r} in sheet Suppliers (and "
                   "wherever the id is used)",
        "bloc": f"to mean the bloc, rename it in sheet Blocs (e.g. to '{group}_bloc') and name "
                "that here",
        "keyword": f"to mean {group.lower()!r}, rename the {taken} {group!r}",
    }
    note = ""
    if taken == "country" and group not in supplier_countries:
        note = (f"; no supplier is in country {group!r}, so the rule selects no supplier"
                + (" (it bans nothing)" if rule == "ban" else ""))
    ctx.warnings.append(
        f"sheet 'Rules' row {row}: group {group!r} names " + " and ".join(d for _, d in kinds)
        + f"; it is read as the {taken} (a group is looked up as a supplier, then a country, "
        f"then a bloc){note}; " + "; ".join(how[k] for k, _ in kinds[1:]))
