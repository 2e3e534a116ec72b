"""Generate the procure demo workbook (``sample_data/demo.xlsx``).

A fictional but realistic five-year (2026-2030) cooperative buy by twelve
NATO and Indo-Pacific partners of ammunition, air-defence interceptors,
drones and soldier equipment.  Suppliers are fictional; their countries are
real.  Prices and capacities follow the public orders of magnitude in the
project's demo-data reference (155 mm shells about EUR 5,000, Patriot-class
interceptors about EUR 5 M, FPV drones about EUR 500, ...).  See docs/demo.md.

The data are written out literally below: there is no randomness, so the
workbook is the same on every run (cell for cell).

Usage::

    python sample_data/make_demo.py            # writes sample_data/demo.xlsx and
                                               # procure/datasets/demo.xlsx
    python sample_data/make_demo.py OUT.xlsx   # writes OUT.xlsx only
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from procure.data.writer import save_deterministic

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUTS = (ROOT / "sample_data" / "demo.xlsx", ROOT / "procure" / "datasets" / "demo.xlsx")

PERIODS = (2026, 2027, 2028, 2029, 2030)

# --------------------------------------------------------------------------- partners
# id (= country code), name, budget over the whole horizon (EUR; None = no cap).
# A budget caps the partner's purchase value at base prices plus transport.
PARTNERS = [
    ("DE", "Germany", None),
    ("FR", "France", None),
    ("PL", "Poland", None),
    ("IT", "Italy", 2_200_000_000),
    ("NL", "Netherlands", 1_370_000_000),
    ("ES", "Spain", 1_620_000_000),
    ("NO", "Norway", 1_065_000_000),
    ("GB", "United Kingdom", None),
    ("US", "United States", None),
    ("JP", "Japan", None),
    ("KR", "Republic of Korea", None),
    ("AU", "Australia", 1_165_000_000),
]
EU_PARTNERS = ("DE", "FR", "PL", "IT", "NL", "ES")

# --------------------------------------------------------------------------- items
# id, name, unit, category, shortfall_penalty (EUR per unit; None = demand is hard),
# whole_units ("yes": bought one by one, delivered in whole units; None = no). The missiles
# are left continuous: marked whole, their optimum takes HiGHS far longer to prove (the
# short-range ones with their N-1 rule about 50 s instead of 2 s; the long-range ones 16 s for
# the pool without Japan), for a rounding worth under 1e-5 of the cost (docs/demo.md).
ITEMS = [
    ("shell155", "155 mm artillery shell", "round", "ammunition", None, None),
    ("shell155k", "155 mm artillery shell (Korean qualification)", "round", "ammunition", None, None),
    ("tank120", "120 mm tank round", "round", "ammunition", None, None),
    ("sram", "Short-range air-defence interceptor", "missile", "air_defence", None, None),
    ("lram", "Long-range air-defence interceptor", "missile", "air_defence", None, None),
    ("cuas", "Counter-drone interceptor", "interceptor", "air_defence", 180_000, "yes"),
    ("loiter", "Loitering munition (anti-armour)", "munition", "drones", None, "yes"),
    ("fpv", "Small FPV drone", "drone", "drones", 1_500, None),
    ("radio", "Secure tactical radio", "set", "equipment", None, "yes"),
    ("nvg", "Night-vision set", "set", "equipment", None, "yes"),
]

# --------------------------------------------------------------------------- suppliers
# id, name, country, shared capacity per period (supplier units; None = none)
SUPPLIERS = [
    ("DE_RHW", "Rheinwerk Munition", "DE", 140_000),
    ("DE_ELB", "Elbe Ammunition (new plant)", "DE", None),
    ("FR_AQU", "Aquila Missiles", "FR", 1_800),
    ("PL_VIS", "Vistula Arsenal", "PL", None),
    ("PL_MAZ", "Mazovia Drones", "PL", 100_000),
    ("CZ_MOR", "Moravia Ordnance", "CZ", None),
    ("IT_ADR", "Adriatic Electronics", "IT", None),
    ("NO_FJD", "Fjord Aerospace", "NO", None),
    ("GB_THM", "Thames Dynamics", "GB", None),
    ("US_RED", "Redstone Aerospace", "US", None),
    ("US_LIB", "Liberty Ordnance", "US", None),
    ("US_MSA", "Mesa Autonomy", "US", None),
    ("US_HBR", "Harbor Electronics", "US", None),
    ("KR_HAN", "Hanbit Defense", "KR", None),
    ("JP_KIT", "Kitakami Heavy Industries", "JP", None),
]

# Chance each supplier fails over the horizon (Suppliers.failure_probability, read by
# `procure disrupt`): a new plant ramping up and single-site missile lines are the riskiest.
FAILURE = {
    "DE_RHW": 0.03, "DE_ELB": 0.12, "FR_AQU": 0.05, "PL_VIS": 0.04, "PL_MAZ": 0.08,
    "CZ_MOR": 0.04, "IT_ADR": 0.03, "NO_FJD": 0.05, "GB_THM": 0.04, "US_RED": 0.06,
    "US_LIB": 0.04, "US_MSA": 0.08, "US_HBR": 0.03, "KR_HAN": 0.05, "JP_KIT": 0.04,
}

# --------------------------------------------------------------------------- offers
# supplier, item, unit_price, capacity/period, capacity_use, min_order, setup_cost,
# first_period, discount.  None = blank (SPEC default).
OFFERS = [
    # ammunition
    ("DE_RHW", "shell155", 5_500, 100_000, 1.0, None, None, None, None),
    ("DE_RHW", "tank120", 7_900, 30_000, 1.5, None, None, None, None),
    ("DE_ELB", "shell155", 5_300, 350_000, None, None, 50_000_000, None, "all_units"),
    ("PL_VIS", "shell155", 5_900, 60_000, None, None, None, None, None),
    ("PL_VIS", "tank120", 8_600, 20_000, None, None, None, None, None),
    ("CZ_MOR", "shell155", 5_100, 80_000, None, None, None, None, None),
    ("US_LIB", "shell155", 5_800, 80_000, None, 60_000, None, 2027, None),
    ("US_LIB", "tank120", 7_600, 25_000, None, None, None, 2027, None),
    ("KR_HAN", "shell155", 4_300, 150_000, None, None, None, None, "all_units"),
    ("KR_HAN", "shell155k", 4_100, 60_000, None, None, None, None, "all_units"),
    ("KR_HAN", "tank120", 6_900, 30_000, None, None, None, None, None),
    ("JP_KIT", "shell155", 9_500, 15_000, None, None, None, None, None),
    # air defence
    ("FR_AQU", "sram", 460_000, 1_200, 1.0, None, None, None, None),
    ("FR_AQU", "lram", 5_600_000, 150, 5.0, None, None, None, None),
    ("NO_FJD", "sram", 430_000, 400, None, None, None, None, None),
    ("NO_FJD", "cuas", 75_000, 1_500, None, None, None, None, None),
    ("GB_THM", "sram", 480_000, 500, None, None, None, None, None),
    ("GB_THM", "cuas", 52_000, 1_500, None, None, None, None, None),
    ("US_RED", "sram", 410_000, 800, None, None, None, 2028, None),
    ("US_RED", "lram", 4_600_000, 200, None, None, None, None, "all_units"),
    ("US_MSA", "cuas", 42_000, 2_500, None, None, 15_000_000, 2027, None),
    ("PL_MAZ", "cuas", 60_000, 1_000, 10.0, None, None, None, None),
    ("KR_HAN", "sram", 380_000, 400, None, None, None, None, None),
    ("JP_KIT", "sram", 620_000, 250, None, None, None, None, None),
    ("JP_KIT", "lram", 7_200_000, 50, None, None, None, None, None),
    # drones
    ("PL_MAZ", "loiter", 95_000, 1_800, 20.0, None, None, None, None),
    ("PL_MAZ", "fpv", 420, 60_000, 1.0, None, None, None, None),
    ("US_MSA", "loiter", 115_000, 2_500, None, None, None, None, None),
    ("US_MSA", "fpv", 600, 80_000, None, None, None, None, None),
    ("KR_HAN", "loiter", 105_000, 800, None, None, None, None, None),
    ("GB_THM", "loiter", 140_000, 600, None, None, None, None, None),
    ("GB_THM", "fpv", 560, 40_000, None, None, None, None, "incremental"),
    # equipment
    ("IT_ADR", "radio", 25_000, 9_000, None, None, None, None, None),
    ("IT_ADR", "nvg", 7_200, 14_000, None, None, None, None, None),
    ("US_HBR", "radio", 21_000, 16_000, None, None, None, None, None),
    ("US_HBR", "nvg", 5_900, 30_000, None, None, None, None, None),
    ("JP_KIT", "radio", 30_000, 2_500, None, None, None, None, None),
    ("JP_KIT", "nvg", 8_800, 4_000, None, None, None, None, None),
]

# Surge (Offers.surge): extra units per year an offer can deliver in a crisis on top of
# what the plan buys (extra shifts, stock drawn down), within its capacity; about 10-25 %
# of a line's yearly capacity for ammunition and equipment, 5-10 % for missile lines,
# more for drones. Only the N-1 rules use it.
SURGE = {
    ("DE_RHW", "shell155"): 15_000, ("DE_ELB", "shell155"): 30_000, ("PL_VIS", "shell155"): 10_000,
    ("CZ_MOR", "shell155"): 15_000, ("US_LIB", "shell155"): 10_000, ("KR_HAN", "shell155"): 25_000,
    ("KR_HAN", "shell155k"): 10_000, ("JP_KIT", "shell155"): 2_000,
    ("DE_RHW", "tank120"): 3_000, ("PL_VIS", "tank120"): 2_000, ("US_LIB", "tank120"): 3_000,
    ("KR_HAN", "tank120"): 3_000,
    ("FR_AQU", "sram"): 100, ("NO_FJD", "sram"): 40, ("GB_THM", "sram"): 50, ("US_RED", "sram"): 60,
    ("KR_HAN", "sram"): 40, ("JP_KIT", "sram"): 20,
    ("FR_AQU", "lram"): 10, ("US_RED", "lram"): 15, ("JP_KIT", "lram"): 5,
    ("NO_FJD", "cuas"): 300, ("GB_THM", "cuas"): 300, ("US_MSA", "cuas"): 500, ("PL_MAZ", "cuas"): 200,
    ("PL_MAZ", "loiter"): 300, ("US_MSA", "loiter"): 400, ("KR_HAN", "loiter"): 150,
    ("GB_THM", "loiter"): 100,
    ("PL_MAZ", "fpv"): 15_000, ("US_MSA", "fpv"): 20_000, ("GB_THM", "fpv"): 10_000,
    ("IT_ADR", "radio"): 1_500, ("US_HBR", "radio"): 2_500, ("JP_KIT", "radio"): 300,
    ("IT_ADR", "nvg"): 2_000, ("US_HBR", "nvg"): 5_000, ("JP_KIT", "nvg"): 500,
}

# Per-period capacity overrides (ramp-ups): supplier, item, {period: capacity}
CAPACITY = [
    # the new shell plant ramps 25k -> 350k rounds a year
    ("DE_ELB", "shell155", {2026: 25_000, 2027: 100_000, 2028: 200_000, 2029: 300_000, 2030: 350_000}),
    # the US interceptor line is booked for years; slots open gradually
    ("US_RED", "lram", {2026: 100, 2027: 150}),
    # the Polish drone workshop scales up
    ("PL_MAZ", "fpv", {2026: 30_000, 2027: 45_000}),
]

# Volume discounts on the pooled quantity of an offer (over the horizon).  Every
# breakpoint lies above any single partner's total demand for the item, so only a
# pool reaches them (checked by tier_check()).
PRICE_TIERS = [
    ("DE_ELB", "shell155", 380_000, 5_035),  # 95 %
    ("DE_ELB", "shell155", 500_000, 4_770),  # 90 %
    ("KR_HAN", "shell155", 500_000, 3_870),  # 90 %
    ("KR_HAN", "shell155k", 180_000, 3_690),  # 90 %: Korea alone orders about 137,000
    ("US_RED", "lram", 700, 4_140_000),  # 90 %
    ("GB_THM", "fpv", 130_000, 504),  # incremental: units beyond 130,000 at 90 %
]

# --------------------------------------------------------------------------- demand
# Yearly base demand per partner (units per year); multiplied by the item's profile.
ITEM_ORDER = ("shell155", "shell155k", "tank120", "sram", "lram", "cuas", "loiter", "fpv", "radio",
              "nvg")
BASE_DEMAND = {
    #       shell155 shell155k tank120 sram lram cuas loiter   fpv radio   nvg
    "DE": (60_000, 0, 12_000, 300, 40, 400, 300, 16_000, 4_000, 8_000),
    "FR": (36_000, 0, 3_000, 200, 30, 300, 200, 10_000, 3_000, 5_000),
    "PL": (48_000, 0, 15_000, 400, 60, 600, 600, 24_000, 2_500, 6_000),
    "IT": (24_000, 0, 5_000, 150, 20, 200, 150, 6_000, 2_000, 3_000),
    "NL": (12_000, 0, 0, 100, 16, 200, 150, 8_000, 1_500, 2_000),
    "ES": (18_000, 0, 4_000, 120, 12, 150, 100, 5_000, 1_500, 3_000),
    "NO": (9_000, 0, 3_000, 80, 12, 200, 100, 5_000, 800, 1_500),
    "GB": (30_000, 0, 6_000, 200, 0, 300, 300, 12_000, 2_000, 4_000),
    "US": (40_000, 0, 0, 0, 0, 500, 500, 16_000, 0, 0),
    "JP": (12_000, 0, 4_000, 150, 30, 200, 100, 4_000, 1_500, 3_000),
    "KR": (0, 24_000, 8_000, 100, 24, 200, 200, 6_000, 1_000, 3_000),
    "AU": (10_000, 0, 3_000, 80, 12, 200, 200, 6_000, 1_200, 2_000),
}
# Yearly profile (2026..2030) and rounding step per item.
PROFILE = {
    "shell155": ((0.85, 1.0, 1.2, 1.3, 1.3), 500),
    "shell155k": ((0.85, 1.0, 1.2, 1.3, 1.3), 500),
    "tank120": ((0.9, 1.0, 1.0, 1.0, 1.0), 100),
    "sram": ((0.8, 1.0, 1.1, 1.2, 1.2), 1),
    "lram": ((0.6, 0.9, 1.1, 1.2, 1.2), 1),
    "cuas": ((0.7, 1.0, 1.2, 1.3, 1.4), 10),
    "loiter": ((0.8, 1.0, 1.2, 1.3, 1.4), 10),
    "fpv": ((0.6, 0.9, 1.1, 1.3, 1.4), 100),
    "radio": ((0.9, 1.0, 1.1, 1.0, 1.0), 50),
    "nvg": ((1.0, 1.0, 1.0, 0.9, 0.9), 100),
}

# --------------------------------------------------------------------------- transport
REGION = {c: "europe" for c in ("DE", "FR", "PL", "CZ", "IT", "NL", "ES", "NO", "GB", "SE")}
REGION.update({"US": "america", "JP": "asia", "KR": "asia", "AU": "asia"})


def distance_class(a: str, b: str) -> int:
    """1 within Europe, 2 transatlantic / transpacific / within Asia-Pacific,
    3 between Europe and Asia-Pacific."""
    ra, rb = REGION[a], REGION[b]
    if ra == rb:
        return 1 if ra == "europe" else 2
    return 3 if {ra, rb} == {"europe", "asia"} else 2


# EUR per unit by distance class (1, 2, 3); "" = every item without its own row.
TRANSPORT_COST = {
    "": (120, 350, 700),
    "shell155": (40, 160, 280),
    "shell155k": (40, 160, 280),
    "fpv": (15, 40, 70),
}

# --------------------------------------------------------------------------- blocs
EU = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
      "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")
NATO = ("AL", "BE", "BG", "CA", "HR", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IS",
        "IT", "LV", "LT", "LU", "ME", "NL", "MK", "NO", "PL", "PT", "RO", "SK", "SI", "ES",
        "SE", "TR", "GB", "US")
INDO_PACIFIC = ("AU", "JP", "KR", "NZ")

# --------------------------------------------------------------------------- substitutes
# item demanded, substitute accepted one for one, partner (None = every partner).
# Korea fields Korean-qualified 155 mm shells (shell155k, Hanbit's K-line); Australia has
# qualified them for its guns, so its 155 mm demand may be met with them: Korea's and
# Australia's orders together reach the K-line's tier, which Korea alone does not.
SUBSTITUTES = [
    ("shell155", "shell155k", "AU"),
]

# --------------------------------------------------------------------------- rules
# rule, partner, item, group, share, quantity, name
RULES = [
    *[
        ("min_value_share", p, None, "EU", 0.65, None, f"EU value share >= 65 % ({p})")
        for p in EU_PARTNERS
    ],
    ("min_share", "JP", "lram", "domestic", 0.5, None,
     "Japan: >= 50 % of long-range interceptors built in Japan"),
    ("min_share", "JP", "equipment", "domestic", 0.5, None,
     "Japan: >= 50 % of radios and night vision built in Japan"),
    ("min_share", "US", "ammunition", "domestic", 0.35, None,
     "Buy American: >= 35 % of US ammunition from US plants"),
    ("ban", "DE", "shell155", "KR", None, None, "Korean 155 mm not qualified for German guns (DE)"),
    ("ban", "NL", "shell155", "KR", None, None, "Korean 155 mm not qualified for Dutch guns (NL)"),
    ("ban", "KR", "lram", "JP_KIT", None, None, "Licence-built interceptors: no re-export (KR)"),
    ("ban", "AU", "lram", "JP_KIT", None, None, "Licence-built interceptors: no re-export (AU)"),
    ("max_share", None, "shell155", "each_supplier", 0.4, None,
     "Shells: no supplier above 40 % of the pool"),
    ("min_suppliers", None, "sram", None, None, 2, "Dual sourcing: short-range interceptors"),
    ("min_suppliers", None, "lram", None, None, 2, "Dual sourcing: long-range interceptors"),
    ("workshare", "PL", "ammunition", None, 0.5, None,
     "Poland: 50 % of ammunition value to Polish industry"),
    ("min_quantity", "NO", "cuas", "NO_FJD", None, 600,
     "Norway: keep the Fjord counter-drone line warm (>= 600)"),
    ("n_minus_1", None, "sram", None, 0.1, None,
     "N-1: short-range interceptors, <= 10 % unmet without any one supplier"),
]

SETTINGS = [("currency", "EUR"), ("time_limit", 60)]


# =========================================================================== tables
def demand_rows() -> list[tuple]:
    rows = []
    for p, *_ in PARTNERS:
        for k, item in enumerate(ITEM_ORDER):
            base = BASE_DEMAND[p][k]
            if base == 0:
                continue
            profile, step = PROFILE[item]
            for t, f in zip(PERIODS, profile, strict=True):
                q = int(round(base * f / step)) * step
                rows.append((p, item, t, q))
    return rows


def transport_rows() -> list[tuple]:
    countries = sorted({c for _, _, c, _ in SUPPLIERS})
    rows = []
    for item, costs in TRANSPORT_COST.items():
        for c in countries:
            for p, *_ in PARTNERS:
                if c == p:
                    continue  # domestic deliveries: no transport row (cost 0)
                rows.append((c, p, costs[distance_class(c, p) - 1], item or None))
    return rows


def tier_check() -> None:
    """Every tier breakpoint is above each single partner's horizon demand."""
    totals: dict[tuple[str, str], int] = {}
    for p, item, _, q in demand_rows():
        totals[p, item] = totals.get((p, item), 0) + q
    for s, item, qmin, _ in PRICE_TIERS:
        biggest = max(v for (p, i), v in totals.items() if i == item)
        assert qmin > biggest, (s, item, qmin, biggest)


def tables() -> dict[str, tuple[list[str], list[tuple]]]:
    """Sheet name -> (column names, rows), in workbook order."""
    tier_check()
    return {
        "Partners": (["partner", "name", "country", "budget"],
                     [(p, n, p, b) for p, n, b in PARTNERS]),
        "Items": (["item", "name", "unit", "category", "shortfall_penalty", "whole_units"],
                  list(ITEMS)),
        "Suppliers": (["supplier", "name", "country", "capacity", "failure_probability"],
                      [(*row, FAILURE.get(row[0])) for row in SUPPLIERS]),
        "Offers": (["supplier", "item", "unit_price", "capacity", "capacity_use", "min_order",
                    "setup_cost", "first_period", "discount", "surge"],
                   [(*row, SURGE.get((row[0], row[1]))) for row in OFFERS]),
        "Demand": (["partner", "item", "period", "quantity"], demand_rows()),
        "Capacity": (["supplier", "item", "period", "capacity"],
                     [(s, i, t, c) for s, i, caps in CAPACITY for t, c in caps.items()]),
        "PriceTiers": (["supplier", "item", "min_quantity", "unit_price"], list(PRICE_TIERS)),
        "Transport": (["from_country", "to_partner", "cost_per_unit", "item"], transport_rows()),
        "Blocs": (["bloc", "country"],
                  [("EU", c) for c in EU] + [("NATO", c) for c in NATO]
                  + [("IndoPacific", c) for c in INDO_PACIFIC]),
        "Substitutes": (["item", "substitute", "partner"], list(SUBSTITUTES)),
        "Rules": (["rule", "partner", "item", "group", "share", "quantity", "name"], list(RULES)),
        "Settings": (["key", "value"], list(SETTINGS)),
    }


# =========================================================================== writing
MONEY = "#,##0"
FORMATS = {
    "budget": MONEY,
    "shortfall_penalty": MONEY,
    "capacity": "#,##0",
    "unit_price": MONEY,
    "min_order": "#,##0",
    "setup_cost": MONEY,
    "quantity": "#,##0",
    "min_quantity": "#,##0",
    "cost_per_unit": MONEY,
    "capacity_use": "0.0##",
    "share": "0%",
}
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(f"{value:,.0f}") if float(value).is_integer() else len(str(value))
    return len(str(value))


def write_workbook(path: Path) -> Path:
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, (columns, rows) in tables().items():
        ws = wb.create_sheet(sheet)
        ws.append(columns)
        for row in rows:
            assert len(row) == len(columns), (sheet, row)
            ws.append(list(row))
        for j, col in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=j)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center")
            fmt = FORMATS.get(col)
            if col == "value" and sheet == "Settings":
                fmt = None
            if fmt:
                for r in range(2, len(rows) + 2):
                    ws.cell(row=r, column=j).number_format = fmt
            width = max([len(col)] + [_display_width(r[j - 1]) for r in rows])
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = ws.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    save_deterministic(wb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    outputs = [Path(a) for a in argv] or list(DEFAULT_OUTPUTS)
    for out in outputs:
        write_workbook(out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
