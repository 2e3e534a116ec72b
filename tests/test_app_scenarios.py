"""The Scenarios page through AppTest: a scenario built with the page's widgets is the same
``procure.Scenario`` a TOML file describes, and the page shows its engine's numbers."""

from __future__ import annotations

import pytest

import procure
from procure.app import scenarios as page
from procure.app.shared import WORKBOOK_KEY

try:
    from tests import app_helpers as ui
except ImportError:  # tests/ is not a package
    import app_helpers as ui


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
