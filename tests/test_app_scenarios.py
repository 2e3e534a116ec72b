"""The Scenarios page through AppTest: a scenario built with the page's widgets is the same
``procure.Scenario`` a TOML file describes, and the page shows its engine's numbers."""

from __future__ import annotations

import warnings

import pytest

import procure
from procure.app import scenarios as page
from procure.app.shared import WORKBOOK_KEY

try:
    from tests import app_helpers as ui
except ImportError:  # tests/ is not a package
    import app_helpers as ui



@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    """Each test's own scenario store."""
    return ui.private_store(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def demo():
    return procure.datasets.load_demo()


def open_scenarios():
    at = ui.open_page(ui.app(), "scenarios")
    ui.no_exception(at)
    return at


def solve_button(at):
    return next(b for b in at.button if b.label == "Solve the scenario")


def added(rows: list[dict]) -> dict:
    """An editor's state with rows added (what a user typing them leaves)."""
    return {"edited_rows": {}, "deleted_rows": [], "added_rows": rows}


def test_a_scenario_built_with_widgets_is_solved_like_procure_scenario(demo):
    at = open_scenarios()
    version = 0  # a new session's builder
    at.text_input(key=f"scenario_name_{version}").set_value("Japan leaves, Elbe lost")
    at.multiselect(key=f"scenario_remove_{version}").set_value(["JP"])
    at.session_state[f"scenario_capacity_{version}"] = added([{"supplier": "DE_ELB", "factor": 0.0}])
    at.session_state[f"scenario_demand_{version}"] = added(
        [{"partner": "PL", "item": "shell155", "factor": 1.1, "round": "up"}])
    solve_button(at).click()
    at.run()
    ui.no_exception(at)
    expected = procure.Scenario(
        base=demo, name="Japan leaves, Elbe lost", remove_partners=["JP"],
        capacity=[{"supplier": "DE_ELB", "factor": 0}],
        demand=[{"partner": "PL", "item": "shell155", "factor": 1.1, "round": "up"}],
        solver={"time_limit": 60, "mip_gap": procure.engine.backends.DEFAULT_MIP_GAP},
    ).solve()
    baseline = procure.solve(demo)
    assert ui.metric(at, "Total cost") == ui.full_units(expected.total_cost)
    delta = next(m.delta for m in at.metric if m.label == "Total cost")
    assert delta == ui.full_units(expected.total_cost - baseline.total_cost)
    changes = "\n".join(ui.texts(at.markdown))
    assert "partners leave: JP" in changes and "supplier DE_ELB" in changes
    # the builder starts again from the scenario just solved
    kept = at.session_state[page.DRAFT_KEY][1]
    assert kept["remove_partners"] == ["JP"] and kept["capacity"] == [
        {"supplier": "DE_ELB", "factor": 0.0}]


def test_a_scenario_mistake_is_listed_and_nothing_is_solved():
    at = open_scenarios()
    at.text_input(key="scenario_name_0").set_value("Too much")
    at.session_state["scenario_rule_0"] = added([{"name": "EU value share >= 65 % (DE)",
                                                  "share": 1.5}])
    at.session_state["scenario_demand_0"] = added([{"partner": "PL", "factor": -1.0}])
    solve_button(at).click()
    at.run()
    ui.no_exception(at)
    assert not at.metric
    problems = next(d.value for d in at.dataframe if "fix" in d.value.columns)
    keys = set(problems["column"])
    assert {"demand[1].factor", "rule[1].share"} <= keys, problems
    assert page.SOLVED_KEY not in at.session_state


def test_an_example_file_loads_into_the_builder_and_solves_as_the_file_does():
    at = open_scenarios()
    example = page.EXAMPLES / "shell-crisis.toml"
    at.selectbox(key="scenario_example").set_value(example)
    at.button(key="scenario_load_example").click().run()
    ui.no_exception(at)
    assert ui.texts(at.success) == ["shell-crisis.toml is loaded: check it below, then solve it."]
    version, keys = at.session_state[page.DRAFT_KEY]
    assert keys["name"] == "Shell crisis" and keys["capacity"] == [{"supplier": "DE_ELB",
                                                                    "factor": 0}]
    solve_button(at).click()
    at.run()
    ui.no_exception(at)
    from_file = procure.Scenario.from_toml(example).solve()
    assert ui.metric(at, "Total cost") == ui.full_units(from_file.total_cost)


def test_a_solved_scenario_opens_on_every_page():
    at = open_scenarios()
    at.text_input(key="scenario_name_0").set_value("Korea leaves")
    at.multiselect(key="scenario_remove_0").set_value(["KR"])
    solve_button(at).click()
    at.run()
    total = ui.metric(at, "Total cost")
    at.button(key="scenario_use").click().run()
    ui.no_exception(at)
    wb = at.session_state[WORKBOOK_KEY]
    assert wb.name == "Korea leaves" and wb.origin == "scenario"
    assert "KR" not in set(wb.data.demand["partner"])
    assert [t.value for t in at.title] == ["Plan"]
    assert ui.metric(at, "Total cost") == total


def test_toml_of_the_builder_round_trips(demo):
    scenario = procure.Scenario(base=demo, name="x", remove_partners=["JP"],
                                capacity=page.entries(page.change_frame(
                                    "capacity", [{"country": "KR", "factor": 0.5}])))
    again = procure.Scenario.from_toml_text(scenario.to_toml(), base=demo)
    assert again.to_dict() == scenario.to_dict()
    assert again.capacity == [{"country": "KR", "factor": 0.5}]


def test_a_row_added_with_a_blank_number_keeps_its_dtype_and_leaves_the_blank_out():
    """What the editor does when a user adds a row and leaves its factor blank (pandas 3.1
    warned of turning a float64 column to object for it; pandas 4 will refuse)."""
    frame = page.change_frame("capacity", [{"supplier": "DE_ELB", "factor": 0.5}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame.loc[len(frame)] = {"supplier": None, "country": "KR", "item": None, "period": None,
                                 "factor": None}
    assert str(frame["factor"].dtype) == "Float64"
    assert page.entries(frame) == [{"supplier": "DE_ELB", "factor": 0.5}, {"country": "KR"}]


def save_button(at):
    return next(b for b in at.button if b.label == "Save to the store")


def build_and_save(at, name: str, partners: list[str], *, replace: bool = False):
    version = at.session_state[page.DRAFT_KEY][0] if page.DRAFT_KEY in at.session_state else 0
    at.text_input(key=f"scenario_name_{version}").set_value(name)
    at.multiselect(key=f"scenario_remove_{version}").set_value(partners)
    solve_button(at).click()
    at.run()
    if replace:
        at.checkbox(key="scenario_replace").check()
    save_button(at).click()
    at.run()
    ui.no_exception(at)
    return at


def restart() -> None:
    """What a restart of the app drops: the process's caches (the store is opened again)."""
    import streamlit as st

    from procure.app import shared

    shared._open_store.clear()
    st.cache_data.clear()


def test_saved_scenarios_survive_a_restart_and_are_compared(demo, store):
    at = build_and_save(open_scenarios(), "Japan leaves", ["JP"])
    assert "Japan leaves is saved (version 1)." in ui.texts(at.success)
    at.switch_page(ui.PAGES["compare"]).run()
    next(b for b in at.button if b.label == "Solve and save").click()
    at.run()
    ui.no_exception(at)
    assert ui.texts(at.success) == ["baseline is saved (version 1)."]

    restart()
    again = open_scenarios()  # a new session on a new process: only the store remembers
    listed = next(d.value for d in again.dataframe if "saved_at" in d.value.columns)
    assert set(listed["name"]) == {"Japan leaves", "baseline"}
    again.selectbox(key="scenario_saved_name").set_value("Japan leaves").run()
    assert any("partners leave: JP" in m for m in ui.texts(again.markdown))
    again.button(key="scenario_saved_load").click().run()
    assert again.session_state[page.DRAFT_KEY][1]["remove_partners"] == ["JP"]

    again.switch_page(ui.PAGES["compare"]).run()
    ui.no_exception(again)
    table = next(d.value for d in again.dataframe if "delta_pct" in d.value.columns)
    assert list(table["scenario"]) == ["baseline", "Japan leaves"]
    expected = procure.Scenario(base=demo, name="Japan leaves", remove_partners=["JP"]).solve(
        time_limit=60)
    baseline = procure.solve(demo)
    assert table["total_cost"].tolist() == pytest.approx([baseline.total_cost,
                                                          expected.total_cost])
    assert table["delta"].iloc[1] == pytest.approx(expected.total_cost - baseline.total_cost)
    partners = next(d.value for d in again.dataframe if "partner" in d.value.columns)
    assert partners["Δ Japan leaves"].sum() == pytest.approx(table["delta"].iloc[1])
    jp = partners.set_index("partner").loc["JP"]
    assert jp["Δ Japan leaves"] == pytest.approx(-jp["baseline"])  # Japan pays nothing
    assert [b.label for b in again.get("download_button")] == ["Download the comparison workbook"]


def test_a_taken_name_is_refused_unless_saved_as_a_new_version():
    at = build_and_save(open_scenarios(), "Korea leaves", ["KR"])
    at = build_and_save(at, "Korea leaves", ["KR", "AU"])
    refused = [e for e in ui.texts(at.error) if "already has a scenario named 'Korea leaves'" in e]
    assert refused and refused[0].startswith("The scenario store refused while saving")
    at = build_and_save(at, "Korea leaves", ["KR", "AU"], replace=True)
    assert "Korea leaves is saved (version 2)." in ui.texts(at.success)
    listed = next(d.value for d in at.dataframe if "saved_at" in d.value.columns)
    assert listed.set_index("name").loc["Korea leaves", "version"] == 2


def test_a_saved_scenario_is_deleted():
    at = build_and_save(open_scenarios(), "Norway leaves", ["NO"])
    at.button(key="scenario_saved_delete").click().run()
    ui.no_exception(at)
    assert "Norway leaves is deleted from the store." in ui.texts(at.success)
    assert any("No scenario is saved yet" in i for i in ui.texts(at.info))


def test_an_infeasible_scenario_says_why(demo):
    """Poland's shells x 20 cannot be delivered: the scenario's diagnosis is listed."""
    at = open_scenarios()
    at.text_input(key="scenario_name_0").set_value("Polish shells x 20")
    at.session_state["scenario_demand_0"] = added([{"partner": "PL", "item": "shell155",
                                                    "factor": 20.0}])
    solve_button(at).click()
    at.run()
    ui.no_exception(at)
    expected = procure.Scenario(base=demo, name="Polish shells x 20", demand=[
        {"partner": "PL", "item": "shell155", "factor": 20}]).solve(time_limit=60)
    assert expected.status == procure.Status.INFEASIBLE
    assert expected.message in ui.texts(at.error)
    bullets = "\n".join(ui.texts(at.markdown))
    assert expected.diagnosis.conflicts[0].message in bullets
    assert not [m for m in at.metric if m.label == "Total cost"]
