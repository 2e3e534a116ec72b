"""Compare page: saved scenarios against a baseline (``store.compare``).

One row per scenario with its deltas (cost, % change, unmet demand, suppliers used, binding
rules), the per-partner and per-supplier deltas coloured, the change of each scenario and a
waterfall from the baseline's cost to a scenario's through each partner's change, and the
comparison workbook to download. Nothing is solved here: the store keeps every plan.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from procure.analysis.scenario import Scenario
from procure.app import shared
from procure.charts import compare as charts

BASELINE_KEY = "procure_compare_baseline"
NAMES_KEY = "procure_compare_names"
FLASH_KEY = "procure_compare_flash"
#: red for a cost that rises, green for one that falls (text colours readable on white)
_UP = "background-color: #F5B7B1"
_DOWN = "background-color: #ABEBC6"
MONEY = "{:,.0f}"
CHANGE = "{:+,.0f}"


def render() -> None:
    st.title("Compare")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    with shared.guard("reading the scenario store"):
        saved = shared.scenario_store().list()
        baseline_panel(saved)
        if len(saved) < 2:
            st.info("Save at least two scenarios (one of them the baseline) on the Scenarios "
                    "page to compare them.")
            return
        comparison = choose(saved)
        if comparison is not None:
            for panel in PANELS:
                panel(comparison)


def baseline_panel(saved: pd.DataFrame) -> None:
    """Save the workbook in use, unchanged, as a baseline to compare scenarios with."""
    wb = shared.current_workbook()
    with st.expander("Save the workbook in use as a baseline", expanded=saved.empty):
        if not wb.ok:
            st.caption(f"{wb.name} has problems: see the Data page.")
            return
        with st.form("compare_baseline_form", border=False):
            name = st.text_input("Name", value="baseline", key="compare_baseline_name")
            replace = st.checkbox("If the name is taken, save this as its next version",
                                  key="compare_baseline_replace")
            if st.form_submit_button("Solve and save", icon=":material/save:"):
                with shared.guard(f"saving {name}"):
                    scenario = Scenario(base=wb.data, name=name.strip(),
                                        description=f"{wb.name} as it is")
                    options = shared.current_options(wb)
                    result = shared.solve_data(name, scenario.apply(), options)
                    version = shared.scenario_store().save(scenario, result, replace=replace)
                    st.session_state[FLASH_KEY] = f"{name} is saved (version {version})."
                    st.rerun()


def choose(saved: pd.DataFrame):
    """The baseline and the scenarios to compare with it; their comparison."""
    names = list(saved["name"])
    default = next((n for n in names if n.lower() == "baseline"), names[-1])
    # the choices start afresh when the saved names change (a new save, a deletion)
    tag = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:12]
    left, right = st.columns([1, 3])
    baseline = left.selectbox("Baseline", names, index=names.index(default),
                              key=f"{BASELINE_KEY}_{tag}")
    others = [n for n in names if n != baseline]
    chosen = right.multiselect("Scenarios", others, default=others,
                               key=f"{NAMES_KEY}_{tag}_{baseline}")
    if not chosen:
        st.info("Choose at least one scenario to compare with the baseline.")
        return None
    return shared.scenario_store().compare(baseline, chosen)


# --------------------------------------------------------------------------- panels


def coloured(table: pd.DataFrame, columns: list[str], *, good_is_down: bool = True,
             formats: dict[str, str] | None = None):
    """``table`` styled: a rise red and a fall green in ``columns`` (the other way round when
    ``good_is_down`` is False, e.g. a supplier's volume), numbers shown with ``formats``
    (column -> format string; money to the unit with thousands separators)."""
    def paint(value):
        if value is None or value != value or abs(value) < 1e-9:
            return ""
        return (_UP if value > 0 else _DOWN) if good_is_down else (_DOWN if value > 0 else _UP)

    present = [c for c in columns if c in table.columns]
    shown = {c: f for c, f in (formats or {}).items() if c in table.columns}
    return table.style.map(paint, subset=present).format(shown, na_rep="")


def summary_panel(comparison) -> None:
    st.subheader(f"Scenarios against {comparison.baseline}")
    table = comparison.scenarios.drop(columns=["binding_rule_names"], errors="ignore")
    st.dataframe(coloured(table, ["delta", "delta_pct"], formats={
                     "total_cost": MONEY, "delta": CHANGE, "delta_pct": "{:+.2f} %",
                     "unmet_demand": MONEY}),
                 hide_index=True, width="stretch",
                 column_config={"total_cost": f"total cost ({comparison.currency})",
                                "delta": "change", "delta_pct": "change %",
                                "unmet_demand": "unmet demand",
                                "suppliers_used": "suppliers used",
                                "binding_rules": "binding rules"})
    st.caption("One row per scenario, the baseline first: its cost and the change against the "
               "baseline (red: dearer, green: cheaper), the demand it leaves unmet, the "
               "suppliers it uses, the rules that bind, and why a scenario has no plan.")
    st.plotly_chart(charts.scenario_deltas(comparison.scenarios, comparison.baseline,
                                           comparison.currency),
                    width="stretch", key="compare_deltas")
    st.caption("Each scenario's change in total cost against the baseline.")


def waterfall_panel(comparison) -> None:
    names = [n for n in comparison.scenarios["scenario"] if n != comparison.baseline]
    st.subheader("From the baseline's cost to a scenario's")
    scenario = st.selectbox("Scenario", names, key="compare_waterfall_scenario")
    st.plotly_chart(charts.cost_waterfall(comparison.partners, comparison.scenarios, scenario,
                                          comparison.baseline, comparison.currency),
                    width="stretch", key="compare_waterfall")
    st.caption("The baseline's total cost, then each partner whose cost changes (proportional "
               "sharing: red pays more, green less), to the scenario's total cost.")


def partners_panel(comparison) -> None:
    delta_table("Per partner", comparison.partners, "partner", "baseline_total", comparison,
                good_is_down=True,
                caption=f"Each partner's cost ({comparison.currency}, proportional sharing) in "
                        "the baseline and its change in each scenario: red pays more, green "
                        "less.")


def suppliers_panel(comparison) -> None:
    delta_table("Per supplier", comparison.suppliers, "supplier", "baseline_quantity",
                comparison, good_is_down=False,
                caption="Each supplier's quantity over the horizon in the baseline and its "
                        "change in each scenario: green delivers more, red less.")


def delta_table(title: str, long: pd.DataFrame, key: str, base_value: str, comparison, *,
                good_is_down: bool, caption: str) -> None:
    """One row per partner (supplier): the baseline's value and each scenario's change."""
    st.subheader(title)
    wide = wide_deltas(long, key, base_value, comparison.baseline)
    deltas = [c for c in wide.columns if c.startswith("Δ")]
    st.dataframe(coloured(wide, deltas, good_is_down=good_is_down,
                          formats={comparison.baseline: MONEY, **dict.fromkeys(deltas, CHANGE)}),
                 hide_index=True, width="stretch")
    st.caption(caption)


def wide_deltas(long: pd.DataFrame, key: str, base_value: str, baseline: str) -> pd.DataFrame:
    """One row per partner (supplier): the baseline's value, then ``Δ <scenario>`` for each
    scenario but the baseline."""
    keys = list(dict.fromkeys(long[key]))
    out = pd.DataFrame({key: keys})
    base = long.drop_duplicates(key).set_index(key)[base_value]
    out[f"{baseline}"] = [base.get(k) for k in keys]
    for name in dict.fromkeys(long["scenario"]):
        if name == baseline:
            continue
        rows = long[long["scenario"] == name].set_index(key)["delta"]
        out[f"Δ {name}"] = [rows.get(k) for k in keys]
    return out


def download_panel(comparison) -> None:
    st.download_button(
        "Download the comparison workbook",
        data=lambda: shared.file_bytes(comparison.to_excel, "comparison.xlsx"),
        file_name=f"comparison-{comparison.baseline}.xlsx".replace(" ", "-"),
        mime=shared.XLSX_MIME, icon=":material/download:", key="compare_download",
        help="Sheets Scenarios, Partners and Suppliers with the deltas coloured, as "
             "`procure store compare --out` writes it.")


#: the page's panels, top to bottom
PANELS = (summary_panel, waterfall_panel, partners_panel, suppliers_panel, download_panel)


if __name__ == "__main__":
    render()
