"""Scenarios page: build a what-if question without touching Excel, solve it, keep it.

A scenario is a ``procure.Scenario`` on the session's workbook, the same object a TOML file
describes (partners out, rules off, capacity, prices and demand scaled, rules changed, rules
added). The builder is a form whose widgets start from a *draft* (the scenario's keys as a
dict) held in session_state; loading an example, a TOML file or a saved scenario replaces the
draft. Like the other pages, it is a list of panels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from procure.analysis.scenario import Scenario
from procure.analysis.scenario.changes import rule_names
from procure.analysis.scenario.keys import CHANGE_KEYS, ENTRY_KEYS, ROUNDING, Key
from procure.app import shared
from procure.data.errors import InputError
from procure.data.schema import EACH_GROUPS, RULE_TYPES
from procure.data.tables import ProcureData
from procure.engine.results import Result

DRAFT_KEY = "procure_scenario_draft"
SOLVED_KEY = "procure_scenario_solved"
FLASH_KEY = "procure_scenario_flash"
#: the ready-made scenarios of the repository (written for the demo)
EXAMPLES = Path(__file__).resolve().parents[2] / "models"
MAX_TOML_BYTES = 1 << 20
#: what each change table is called on the page
CHANGE_TITLES = {
    "capacity": "Capacity: multiply a supplier's or a country's capacity (0: lost)",
    "price": "Prices: multiply unit prices (and every tier price)",
    "demand": "Demand: multiply demand",
    "rule": "Rules changed: a new share or quantity for a rule, by name",
    "add_rule": "Rules added: a new row of the Rules sheet",
}


def render() -> None:
    st.title("Scenarios")
    wb = shared.current_workbook()
    shared.workbook_caption(wb)
    if not shared.require_valid(wb):
        return
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    load_panel(wb)
    scenario = builder_panel(wb)
    if scenario is not None:
        solve_scenario(wb, scenario)
    held = solved(wb)
    if held is not None:
        for panel in PANELS:
            panel(wb, *held)
    saved_panel(wb)


# --------------------------------------------------------------------------- the draft


def empty_draft() -> dict[str, Any]:
    return {"name": "", "description": "", "remove_partners": [], "rules_off": [],
            **{k: [] for k in CHANGE_KEYS}, "solver": {}}


def draft() -> tuple[int, dict[str, Any]]:
    """(version, the scenario's keys): what the builder's widgets start from."""
    return st.session_state.get(DRAFT_KEY, (0, empty_draft()))


def set_draft(keys: dict[str, Any]) -> None:
    """Start the builder from ``keys`` (a scenario's ``to_dict()``); its widgets start afresh."""
    version, _ = draft()
    st.session_state[DRAFT_KEY] = (version + 1, {**empty_draft(), **keys})


# --------------------------------------------------------------------------- loading


def load_panel(wb: shared.Workbook) -> None:
    """Start from a ready-made example or from a scenario file (.toml)."""
    with st.expander("Start from an example or a scenario file"):
        left, right = st.columns(2)
        examples = sorted(EXAMPLES.glob("*.toml")) if EXAMPLES.is_dir() else []
        if examples:
            with left:
                chosen = st.selectbox("Example (written for the demo)", examples,
                                      format_func=lambda p: p.stem.replace("-", " "),
                                      key="scenario_example")
                if st.button("Load the example", key="scenario_load_example"):
                    with shared.guard(f"loading {chosen.name}"):
                        load_toml(wb, chosen.read_text(encoding="utf-8"), chosen.name)
        with right:
            upload = st.file_uploader("Scenario file (.toml)", type=["toml"],
                                      key="scenario_upload",
                                      help="The same file `procure scenario run` reads. Its "
                                           "changes apply to the workbook in use; its base "
                                           "path is not read.")
            if upload is not None and st.button("Load the file", key="scenario_load_file"):
                with shared.guard(f"loading {upload.name}"):
                    if upload.size > MAX_TOML_BYTES:
                        st.error(f"{upload.name} is larger than 1 MB: not a scenario file.")
                    else:
                        text = upload.getvalue().decode("utf-8", errors="replace")
                        load_toml(wb, text, upload.name)


def load_toml(wb: shared.Workbook, text: str, source: str) -> None:
    """A scenario file's changes, checked against the workbook in use, into the builder."""
    try:
        scenario = Scenario.from_toml_text(text, source=source, base=wb.data)
    except InputError as exc:
        shared.show_problems(exc.problems, f"{source} does not apply to {wb.name}")
        return
    set_draft(scenario.to_dict())
    st.session_state[FLASH_KEY] = f"{source} is loaded: check it below, then solve it."
    st.rerun()


# --------------------------------------------------------------------------- the builder


def choices(data: ProcureData) -> dict[str, list[str]]:
    """The values each id key of a change may take, from the workbook in use."""
    items = list(data.items["item"])
    categories = sorted({c for c in data.items["category"] if isinstance(c, str)} - set(items))
    suppliers = list(data.suppliers["supplier"])
    countries = sorted(set(data.suppliers["country"]))
    blocs = sorted(set(data.blocs["bloc"])) if len(data.blocs) else []
    return {
        "supplier": suppliers, "country": countries, "item": items + categories,
        "period": list(data.periods), "partner": list(data.partners["partner"]),
        "name": list(rule_names(data.rules)),
        "group": suppliers + [c for c in countries if c not in suppliers] + blocs
                 + ["domestic", *EACH_GROUPS],
    }


def change_columns(key: str, options: dict[str, list[str]]) -> dict:
    """Editor columns of a change table, from the scenario file's own key list."""
    config = {}
    for name, spec in ENTRY_KEYS[key].items():
        config[name] = _column(name, spec, options, key)
    return config


def _column(name: str, spec: Key, options: dict[str, list[str]], key: str):
    text = spec.help + (" (required)" if spec.required else "")
    if spec.kind == "choice":
        values = list(RULE_TYPES) if name == "rule" else list(spec.choices or ROUNDING)
        return st.column_config.SelectboxColumn(name, options=values, help=text,
                                                required=spec.required)
    if name in options and (spec.kind == "id" or (key == "rule" and name == "name")):
        return st.column_config.SelectboxColumn(name, options=options[name], help=text,
                                                required=spec.required)
    if spec.kind in ("factor", "share", "quantity", "positive", "gap"):
        return st.column_config.NumberColumn(name, help=text, required=spec.required,
                                             min_value=0.0,
                                             max_value=1.0 if spec.kind == "share" else None)
    return st.column_config.TextColumn(name, help=text, required=spec.required)


def change_frame(key: str, entries: list[dict]) -> pd.DataFrame:
    """A change table's rows as the editor shows them (one column per key)."""
    columns = list(ENTRY_KEYS[key])
    rows = [{c: e.get(c) for c in columns} for e in entries if isinstance(e, dict)]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = [c for c, k in ENTRY_KEYS[key].items() if k.kind in ("factor", "share", "quantity")]
    return shared.editable_numbers(frame, numeric).astype(
        {c: object for c in columns if c not in numeric})


def entries(frame: pd.DataFrame) -> list[dict]:
    """The editor's rows as scenario entries: blank cells left out, empty rows dropped."""
    out = []
    for row in frame.to_dict(orient="records"):
        entry = {k: _plain(v) for k, v in row.items() if not _blank(v)}
        if entry:
            out.append(entry)
    return out


def _blank(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (
        isinstance(v, str) and not v.strip())


def _plain(v):
    """A cell as a plain Python value (numpy scalars from the editor are not TOML)."""
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    return v.strip() if isinstance(v, str) else v


def builder_panel(wb: shared.Workbook) -> Scenario | None:
    """The form: every change a scenario file can hold. Returns the scenario on Solve."""
    version, keys = draft()
    data = wb.data
    options = choices(data)
    base_options = shared.current_options(wb)
    solver = keys.get("solver") or {}
    head, button = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader("Build a scenario")
    if button.button("New scenario", key=f"scenario_new_{version}", icon=":material/add:",
                     help="Empty the builder (the solved scenario stays below)."):
        set_draft(empty_draft())
        st.rerun()
    with st.form(f"scenario_form_{version}"):
        left, right = st.columns([1, 2])
        name = left.text_input("Name", value=keys.get("name", ""), key=f"scenario_name_{version}",
                               placeholder="e.g. Japan leaves",
                               help="Required; unique in the store (saving it again makes a "
                                    "new version).")
        description = right.text_input("Description", value=keys.get("description", ""),
                                       key=f"scenario_description_{version}")
        left, right = st.columns(2)
        partners = [p for p in keys.get("remove_partners", []) if p in options["partner"]]
        remove = left.multiselect("Partners out", options["partner"], default=partners,
                                  key=f"scenario_remove_{version}",
                                  help="Their demand and the rules of their own go; pool-wide quantity rules "
                                       "shrink with the demand that stays.")
        off = [n for n in keys.get("rules_off", []) if n in options["name"]]
        rules_off = right.multiselect("Rules off", options["name"], default=off,
                                      key=f"scenario_rules_off_{version}")
        edited = {}
        for key in CHANGE_KEYS:
            st.markdown(f"**{CHANGE_TITLES[key]}**")
            edited[key] = st.data_editor(
                change_frame(key, keys.get(key, [])), key=f"scenario_{key}_{version}",
                num_rows="dynamic", width="stretch", hide_index=True,
                column_config=change_columns(key, options))
        left, right = st.columns(2)
        limit = left.number_input(
            "Time limit (seconds, 0 = none)", min_value=0.0, step=10.0,
            value=float(solver.get("time_limit", base_options.time_limit or 0.0)),
            key=f"scenario_time_limit_{version}")
        current = float(solver.get("mip_gap", base_options.mip_gap))
        gap = right.selectbox("Optimality gap", shared.gap_choices(current),
                              index=shared.gap_choices(current).index(current),
                              format_func=shared.gap_label, key=f"scenario_gap_{version}")
        submitted = st.form_submit_button("Solve the scenario", type="primary",
                                          icon=":material/play_arrow:")
    if not submitted:
        return None
    solver = {"mip_gap": float(gap)}
    if limit:
        solver["time_limit"] = float(limit)
    return Scenario(base=data, name=name.strip(), description=description.strip(),
                    remove_partners=remove, rules_off=rules_off,
                    **{key: entries(edited[key]) for key in CHANGE_KEYS}, solver=solver)


def scenario_options(scenario: Scenario, wb: shared.Workbook) -> shared.SolveOptions:
    solver = scenario.solver or {}
    base = shared.current_options(wb)
    return shared.SolveOptions(solver.get("time_limit"), float(solver.get("mip_gap",
                                                                          base.mip_gap)))


def solve_scenario(wb: shared.Workbook, scenario: Scenario) -> None:
    """Apply and solve; the scenario and its plan are kept for this session and workbook."""
    with shared.guard(f"solving the scenario {scenario.name or ''}".strip()):
        try:
            data = scenario.apply()
        except InputError as exc:
            st.session_state.pop(SOLVED_KEY, None)
            shared.show_problems(exc.problems, "The scenario cannot be solved")
            return
        set_draft(scenario.to_dict())
        options = scenario_options(scenario, wb)
        result = shared.solve_data(scenario.name, data, options)
        st.session_state[SOLVED_KEY] = (wb.fingerprint, scenario, data, result)
        st.rerun()  # the builder starts again from the scenario just solved


def solved(wb: shared.Workbook) -> tuple[Scenario, ProcureData, Result] | None:
    held = st.session_state.get(SOLVED_KEY)
    if held is None or held[0] != wb.fingerprint:
        return None
    return held[1], held[2], held[3]


# --------------------------------------------------------------------------- panels


def result_panel(wb: shared.Workbook, scenario: Scenario, data: ProcureData,
                 result: Result) -> None:
    """The scenario's plan against the workbook's own."""
    st.subheader(f"Scenario: {scenario.name}")
    if scenario.description:
        st.caption(scenario.description)
    changes = scenario.changes()
    st.markdown("\n".join(f"- {c}" for c in changes) if changes else "No changes: the "
                "workbook as it is.")
    if not result.has_plan:
        st.error(result.message)
        if result.diagnosis is not None:
            st.markdown("\n".join(f"- {c.message}" for c in result.diagnosis.conflicts
                                  + result.diagnosis.binding))
        return
    (st.success if result.status.value == "optimal" else st.warning)(result.message)
    baseline = shared.solve_plan(wb)
    cur = result.currency
    columns = [st.container()] + st.columns(2) + st.columns(2)  # sums shown in full
    for column, part in zip(columns, ("total_cost", "purchase", "setup", "transport",
                                      "shortfall"), strict=True):
        value = getattr(result, part)
        base = getattr(baseline, part) if baseline.has_plan else None
        delta = None if base is None else value - base
        column.metric(part.replace("_", " ").capitalize(), shared.money(value, cur),
                      delta=None if delta is None else shared.money(delta, cur),
                      delta_color="inverse")
    if baseline.has_plan:
        st.caption(f"Deltas against {wb.name} as it is ({shared.money(baseline.total_cost, cur)}).")


def actions_panel(wb: shared.Workbook, scenario: Scenario, data: ProcureData,
                  result: Result) -> None:
    """Keep it: its TOML, or make it the workbook every page shows."""
    left, right = st.columns(2)
    left.download_button("Download its TOML", data=scenario.to_toml(),
                         file_name=f"{slug(scenario.name)}.toml", mime="application/toml",
                         icon=":material/download:", key="scenario_download_toml",
                         help="The scenario file: `procure scenario run` reads it (point its "
                              "base at the workbook).")
    if right.button("Open it on every page", key="scenario_use", icon=":material/open_in_new:",
                    help="The scenario's data becomes the workbook in use: the Plan and Nation "
                         "view pages show its plan; the Data page has its tables."):
        shared.use_workbook(shared.Workbook.from_data(scenario.name, "scenario", data))
        st.switch_page(shared.PAGE_FILES["plan"])


def save_panel(wb: shared.Workbook, scenario: Scenario, data: ProcureData,
               result: Result) -> None:
    """Keep the scenario and its plan in the store (they survive a reload and a restart)."""
    with st.form("scenario_save_form", border=True):
        st.markdown("**Keep it in the scenario store**")
        left, right = st.columns(2)
        author = left.text_input("Author (optional)", key="scenario_author")
        replace = right.checkbox("If the name is taken, save this as its next version",
                                 key="scenario_replace",
                                 help="Earlier versions are kept; without this, a name that "
                                      "exists is refused.")
        if st.form_submit_button("Save to the store", icon=":material/save:"):
            with shared.guard(f"saving {scenario.name}"):
                version = shared.scenario_store().save(scenario, result, author=author.strip(),
                                                       replace=replace)
                st.session_state[FLASH_KEY] = f"{scenario.name} is saved (version {version})."
                st.rerun()


def saved_panel(wb: shared.Workbook) -> None:
    """The scenarios in the store: load one, open it, download its file, delete it."""
    st.subheader("Saved scenarios")
    with shared.guard("reading the scenario store"):
        store = shared.scenario_store()
        saved = store.list()
        if saved.empty:
            st.info("No scenario is saved yet: solve one above, then save it.")
            return
        st.dataframe(shared.to_units(saved, ["total_cost"]), hide_index=True, width="stretch",
                     column_config={
            "total_cost": st.column_config.NumberColumn("total cost", format="localized"),
            "saved_at": st.column_config.DatetimeColumn("saved at", format="YYYY-MM-DD HH:mm")})
        name = st.selectbox("Scenario", list(saved["name"]), key="scenario_saved_name")
        stored = store.load(name)
        scenario = stored.scenario
        changes = scenario.changes()
        st.markdown(f"**{stored.name}** (version {stored.version}"
                    + (f", by {stored.author}" if stored.author else "") + "): "
                    + ("; ".join(changes) if changes else "no changes") + ".")
        same_base = shared.fingerprint(scenario.base_data) == wb.fingerprint
        if not same_base:
            st.caption(f"It was saved on another workbook than {wb.name}: loading it into the "
                       "builder applies its changes to the workbook in use; opening it uses "
                       "the workbook it was saved with.")
        a, b, c, d = st.columns(4)
        if a.button("Load into the builder", key="scenario_saved_load"):
            set_draft(scenario.to_dict())
            st.session_state[FLASH_KEY] = f"{name} is loaded into the builder."
            st.rerun()
        if b.button("Open it on every page", key="scenario_saved_open"):
            shared.use_workbook(shared.Workbook.from_data(name, "scenario", scenario.apply()))
            st.switch_page(shared.PAGE_FILES["plan"])
        c.download_button("Download its TOML", data=stored.definition,
                          file_name=f"{slug(name)}.toml", mime="application/toml",
                          key="scenario_saved_toml")
        with d.popover("Delete", icon=":material/delete:"):
            st.markdown(f"Delete every version of **{name}** from the store?")
            if st.button("Delete it", key="scenario_saved_delete", type="primary"):
                store.delete(name)
                st.session_state[FLASH_KEY] = f"{name} is deleted from the store."
                st.rerun()


def slug(name: str) -> str:
    text = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(part for part in text.split("-") if part) or "scenario"


#: the panels shown under the builder once a scenario is solved
PANELS = (result_panel, actions_panel, save_panel)


if __name__ == "__main__":
    render()
