"""The workbook contract as data: one entry per sheet and column.

This module is the single source of truth for what a planner's workbook may
hold (docs/model.md, section 1).  Reading, validation, the blank template and the app's
help are all driven from :data:`SHEETS`; nothing else in the package lists
column names by hand.

Column kinds
------------
``id``      text identifier; a number cell ``2026`` and a text cell ``"2026"``
            are the same id.
``period``  a period label (an id that must be one of the Demand periods).
``number``  a finite real number.
``text``    free text (names, units).
``choice``  one of ``choices`` (matched case-insensitively).
``integer`` a whole number.
``yesno``   yes or no (also TRUE/FALSE, 1/0), read as a bool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ColumnKind = Literal["id", "period", "number", "text", "choice", "integer", "yesno"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = False
    default: Any = None
    unit: str = ""
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: sheet whose key this id must name (``None``: free id)
    references: str | None = None
    #: True when the column is an addition to the contract (documented in docs/spec-extensions.md)
    extension: bool = False

    @property
    def default_text(self) -> str:
        if self.required:
            return "required"
        if self.default is None:
            return "none"
        if self.kind == "yesno":
            return "yes" if self.default else "no"
        return str(self.default)


@dataclass(frozen=True)
class Sheet:
    name: str
    required: bool
    columns: tuple[Column, ...]
    #: columns whose combination must be unique in the sheet
    key: tuple[str, ...] = ()
    description: str = ""
    extension: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


RULE_TYPES: tuple[str, ...] = (
    "ban",
    "min_share",
    "max_share",
    "min_value_share",
    "max_value_share",
    "workshare",
    "min_quantity",
    "max_quantity",
    "min_suppliers",
    "max_suppliers",
    "n_minus_1",
)
SHARE_RULES = ("min_share", "max_share", "min_value_share", "max_value_share")
QUANTITY_RULES = ("min_quantity", "max_quantity")
COUNT_RULES = ("min_suppliers", "max_suppliers")
#: groups that expand to one constraint per supplier / per country
EACH_GROUPS = ("each_supplier", "each_country")
EACH_GROUP_RULES = ("max_share", "max_value_share", "max_quantity", "n_minus_1")
#: values a yes/no cell may hold (case-insensitive), and what they mean
YES_NO = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False,
          "y": True, "n": False}
DISCOUNT_KINDS = ("all_units", "incremental")
SETTING_KEYS = ("time_limit", "mip_gap", "currency")
#: value of each setting when the Settings sheet does not give it
#: None: not applied (no time limit; the solver's own default gap, 1e-4 for HiGHS)
SETTING_DEFAULTS: dict[str, Any] = {"time_limit": None, "mip_gap": None, "currency": "EUR"}
#: what each setting means and accepts (template help, error messages)
SETTING_HELP: dict[str, str] = {
    "time_limit": "solver time limit in seconds (a number > 0)",
    "mip_gap": "relative optimality gap at which the solver may stop (a number in [0, 1))",
    "currency": "currency label used in reports (text, e.g. EUR)",
}


SHEETS: dict[str, Sheet] = {
    s.name: s
    for s in (
        Sheet(
            "Partners",
            True,
            (
                Column("partner", "id", True, description="Partner id (a nation or agency), e.g. PL."),
                Column("name", "text", description="Display name."),
                Column("country", "id", default="the partner id",
                       description="Country code; decides which suppliers are domestic and the workshare."),
                Column("budget", "number", minimum=0, unit="currency",
                       description="Cap on the partner's purchase value (at base prices) plus transport. Blank: no cap."),
            ),
            key=("partner",),
            description="The nations pooling their demand.",
        ),
        Sheet(
            "Items",
            True,
            (
                Column("item", "id", True, description="Item id, e.g. shell155."),
                Column("name", "text", description="Display name."),
                Column("unit", "text", description="Unit of quantity, e.g. round, missile."),
                Column("category", "id",
                       description="Category; a rule's item may name a category to cover all its items."),
                Column("shortfall_penalty", "number", minimum=0, unit="currency per unit",
                       description="Cost of each unit of demand left unmet. Blank: demand is hard."),
                Column("whole_units", "yesno", default=False, choices=("yes", "no"),
                       description="yes: delivered in whole units only (interceptors, radios, "
                       "vehicles); its demand must be whole numbers."),
            ),
            key=("item",),
            description="What is bought.",
        ),
        Sheet(
            "Suppliers",
            True,
            (
                Column("supplier", "id", True, description="Supplier id."),
                Column("name", "text", description="Display name."),
                Column("country", "id", True, description="Country code of the supplier."),
                Column("capacity", "number", minimum=0, unit="supplier units per period",
                       description="Capacity shared by all the supplier's items, per period. Blank: none."),
                Column("failure_probability", "number", minimum=0, maximum=1, extension=True,
                       description="Chance the supplier fails over the horizon, for `procure "
                       "disrupt`. Blank: the --probability given there."),
            ),
            key=("supplier",),
            description="Who makes it.",
        ),
        Sheet(
            "Offers",
            True,
            (
                Column("supplier", "id", True, references="Suppliers", description="Supplier making the offer."),
                Column("item", "id", True, references="Items", description="Item offered."),
                Column("unit_price", "number", True, minimum=0, unit="currency per unit",
                       description="Base unit price (the tier at min_quantity 0)."),
                Column("capacity", "number", minimum=0, unit="units per period",
                       description="Capacity for this item per period. Blank: unlimited."),
                Column("capacity_use", "number", default=1.0, minimum=0,
                       unit="supplier units per unit",
                       description="Units of the supplier's shared capacity one unit of this item uses."),
                Column("min_order", "number", default=0.0, minimum=0, unit="units",
                       description="If the offer is used at all, at least this pooled quantity over the horizon."),
                Column("setup_cost", "number", default=0.0, minimum=0, unit="currency",
                       description="Fixed cost paid once if the offer is used."),
                Column("first_period", "period", default="the first period",
                       description="First period in which the supplier can deliver (lead time)."),
                Column("discount", "choice", default="all_units", choices=DISCOUNT_KINDS,
                       description="How PriceTiers apply: all_units (one price for all units) or incremental."),
                Column("surge", "number", default=0.0, minimum=0, unit="units per period",
                       description="Extra units per period the offer can deliver in a crisis on top "
                       "of its planned deliveries (within its capacity); used only by n_minus_1 rules."),
            ),
            key=("supplier", "item"),
            description="Which supplier offers which item, at what price and capacity.",
        ),
        Sheet(
            "Demand",
            True,
            (
                Column("partner", "id", True, references="Partners"),
                Column("item", "id", True, references="Items"),
                Column("period", "period", True, description="Period label, e.g. 2027."),
                Column("quantity", "number", True, minimum=0, unit="units"),
            ),
            key=("partner", "item", "period"),
            description="What each partner needs, when.",
        ),
        Sheet(
            "Capacity",
            False,
            (
                Column("supplier", "id", True, references="Suppliers"),
                Column("item", "id", True, references="Items"),
                Column("period", "period", True),
                Column("capacity", "number", True, minimum=0, unit="units",
                       description="Overrides Offers.capacity for that period."),
            ),
            key=("supplier", "item", "period"),
            description="Per-period capacity of an offer (ramp-up, planned outages).",
        ),
        Sheet(
            "PriceTiers",
            False,
            (
                Column("supplier", "id", True, references="Suppliers"),
                Column("item", "id", True, references="Items"),
                Column("min_quantity", "number", True, minimum=0, unit="units",
                       description="Pooled quantity over the horizon from which this price applies (> 0)."),
                Column("unit_price", "number", True, minimum=0, unit="currency per unit"),
            ),
            key=("supplier", "item", "min_quantity"),
            description="Volume discounts on the pooled quantity of an offer.",
        ),
        Sheet(
            "Transport",
            False,
            (
                Column("from_country", "id", True, description="Country of the supplier."),
                Column("to_partner", "id", True, references="Partners"),
                Column("cost_per_unit", "number", True, minimum=0, unit="currency per unit"),
                Column("item", "id", default="every item", references="Items",
                       description="Item; blank: every item without its own row."),
            ),
            key=("from_country", "to_partner", "item"),
            description="Transport cost per unit from a supplier country to a partner.",
        ),
        Sheet(
            "Blocs",
            False,
            (
                Column("bloc", "id", True, description="Bloc name, e.g. EU."),
                Column("country", "id", True, description="Member country."),
            ),
            key=("bloc", "country"),
            description="Country memberships (EU, NATO, ...) a rule's group may name.",
        ),
        Sheet(
            "Substitutes",
            False,
            (
                Column("item", "id", True, references="Items",
                       description="The item demanded."),
                Column("substitute", "id", True, references="Items",
                       description="A variant the partner accepts for it, one for one (e.g. a "
                       "shell qualified to another national standard)."),
                Column("partner", "id", references="Partners",
                       description="The partner that accepts it. Blank: every partner."),
            ),
            key=("item", "substitute", "partner"),
            description="Which partners accept which variants for an item (interoperable standards).",
        ),
        Sheet(
            "Rules",
            False,
            (
                Column("rule", "choice", True, choices=RULE_TYPES, description="Rule type (docs/model.md, section 3)."),
                Column("partner", "id", references="Partners",
                       description="Partner; blank: the whole pool (every partner for ban and workshare)."),
                Column("item", "id", description="Item id, else a category; blank: every item."),
                Column("group", "id",
                       description="Supplier id, country, bloc, domestic, each_supplier or each_country."),
                Column("share", "number", minimum=0, maximum=1,
                       description="Fraction in [0, 1] (n_minus_1: the largest unmet fraction tolerated)."),
                Column("quantity", "number", minimum=0,
                       description="Units (min/max_quantity) or number of suppliers (min/max_suppliers)."),
                Column("name", "text", extension=True,
                       description="Label used in reports and diagnoses. Blank: generated from the rule."),
            ),
            description="Sovereignty and security-of-supply rules.",
        ),
        Sheet(
            "Settings",
            False,
            (
                Column("key", "choice", True, choices=SETTING_KEYS),
                Column("value", "text", True),
            ),
            key=("key",),
            description="time_limit (seconds), mip_gap (relative), currency.",
        ),
    )
}

#: Sheet order in the template and in reports.
SHEET_ORDER: tuple[str, ...] = tuple(SHEETS)
