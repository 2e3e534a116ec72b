"""Bad scenario files: one test per kind of mistake. Each names the file, the key (``capacity[2]
.supplier`` is key supplier of the second [[capacity]] table) and the value, suggests the
nearest valid name where one is close, and the CLI exits 2 without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import procure
from procure import InputError, Scenario
from procure.cli.main import main as cli_main
from procure.data.writer import write_workbook

try:
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from tiny import rule, tiny

ROOT = Path(__file__).resolve().parent.parent


def base_data() -> procure.ProcureData:
    """Partners PL and DE; suppliers DE_ELB (DE, shell155 capacity 100) and KR_HAN (KR, shell155
    unlimited); two rules named alike (rows 2 and 3) and one named 'Cap KR'."""
    return tiny(
        offers=[dict(supplier="DE_ELB", item="shell155", unit_price=5, capacity=100),
                dict(supplier="KR_HAN", item="shell155", unit_price=4)],
        demand=[("PL", "shell155", 2026, 50), ("DE", "shell155", 2026, 40)],
        suppliers={"DE_ELB": "DE", "KR_HAN": "KR"},
        items={"shell155": {"category": "ammunition"}},
        rules=[rule("max_share", partner="PL", item="shell155", group="KR", share=0.9,
                    name="Twin"),
               rule("max_share", partner="DE", item="shell155", group="KR", share=0.9,
                    name="Twin"),
               rule("max_quantity", group="KR_HAN", quantity=80, name="Cap KR")],
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios")
    write_workbook(base_data(), path / "base.xlsx")
    (path / "broken.xlsx").write_text("not a workbook")
    return path


def write(folder: Path, body: str, name: str = "bad.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip())
    return path


HEAD = 'name = "bad"\nbase = "base.xlsx"\n'


def problems_of(path: Path) -> list[procure.Problem]:
    with pytest.raises(InputError) as info:
        Scenario.from_toml(path)
    for p in info.value.problems:
        if p.where == "file":
            assert p.sheet == path.name, p
    return info.value.problems


def only(problems, column: str) -> procure.Problem:
    found = [p for p in problems if p.column == column]
    assert found, [str(p) for p in problems]
    return found[0]


def cli_fails(capsys, path: Path, key: str) -> None:
    """``procure scenario check`` exits 2, names the file and the key, and (with --json) prints
    the problems as one JSON object."""
    code = cli_main(["scenario", "check", str(path)])
    out = capsys.readouterr()
    assert code == 2
    assert path.name in out.err and key in out.err and "Traceback" not in out.err
    code = cli_main(["scenario", "check", str(path), "--json"])
    out = capsys.readouterr()
    assert code == 2
    report = json.loads(out.out)
    assert report["status"] == "input_error"
    assert any(p["column"] == key for p in report["problems"])


def test_unknown_partner(folder, capsys):
    path = write(folder, HEAD + 'remove_partners = ["PL", "pl_"]\n')
    p = only(problems_of(path), "remove_partners[2]")
    assert p.value == "pl_" and "'PL'" in p.fix
    cli_fails(capsys, path, "remove_partners[2]")


def test_unknown_supplier_suggests_the_nearest(folder, capsys):
    path = write(folder, HEAD + '[[capacity]]\nsupplier = "DE_EBL"\nfactor = 0\n')
    p = only(problems_of(path), "capacity[1].supplier")
    assert p.value == "DE_EBL" and "did you mean 'DE_ELB'" in p.fix
    cli_fails(capsys, path, "capacity[1].supplier")


def test_unknown_country(folder):
    path = write(folder, HEAD + '[[capacity]]\ncountry = "DE"\nfactor = 0.5\n'
                 '[[capacity]]\ncountry = "FR"\nfactor = 0\n')
    p = only(problems_of(path), "capacity[2].country")
    assert p.value == "FR" and "no supplier" in p.message


def test_unknown_item(folder):
    path = write(folder, HEAD + '[[price]]\nitem = "shell150"\nfactor = 1.1\n')
    p = only(problems_of(path), "price[1].item")
    assert "did you mean 'shell155'" in p.fix


def test_unknown_period(folder):
    path = write(folder, HEAD + '[[demand]]\nperiod = 2027\nfactor = 1.1\n')
    p = only(problems_of(path), "demand[1].period")
    assert p.value == "2027" and "2026" in p.fix


def test_unknown_rule_name(folder, capsys):
    path = write(folder, HEAD + 'rules_off = ["Cap Kr"]\n[[rule]]\nname = "Rules!9"\n'
                 'quantity = 5\n')
    problems = problems_of(path)
    assert "did you mean 'Cap KR'" in only(problems, "rules_off[1]").fix
    assert "no rule in Rules row 9" in only(problems, "rule[1].name").message
    cli_fails(capsys, path, "rules_off[1]")


def test_a_rule_name_two_rules_share(folder):
    path = write(folder, HEAD + 'rules_off = ["Twin"]\n')
    p = only(problems_of(path), "rules_off[1]")
    assert "2 rules share this name" in p.message and "Rules!2" in p.fix


def test_unknown_keys_top_and_nested(folder, capsys):
    path = write(folder, HEAD + 'remove_partner = ["PL"]\n[[capacity]]\nsuplier = "DE_ELB"\n'
                 'factor = 0\n')
    problems = problems_of(path)
    assert "did you mean 'remove_partners'" in only(problems, "remove_partner").fix
    assert "did you mean 'supplier'" in only(problems, "capacity[1].suplier").fix
    cli_fails(capsys, path, "capacity[1].suplier")


def test_wrong_types(folder, capsys):
    path = write(folder, '''
        name = "bad"
        base = "base.xlsx"
        remove_partners = "PL"
        rules_off = [3]

        [capacity]
        supplier = "DE_ELB"
        factor = 0

        [[demand]]
        factor = "1.2"

        [solver]
        time_limit = "fast"
    ''')
    problems = problems_of(path)
    assert "must be a list" in only(problems, "remove_partners").message
    assert "[[capacity]]" in only(problems, "capacity").message
    assert "must be a number" in only(problems, "demand[1].factor").message
    assert only(problems, "solver.time_limit").value == "fast"
    assert "must be text" in only(problems, "rules_off[1]").message
    cli_fails(capsys, path, "demand[1].factor")


def test_negative_factor(folder):
    path = write(folder, HEAD + '[[price]]\nfactor = -0.1\n')
    assert "must be >= 0" in only(problems_of(path), "price[1].factor").message


def test_factor_above_zero_on_unlimited_capacity(folder, capsys):
    """KR_HAN's offer has no capacity: 0.5 of unlimited is not a number; 0 is fine."""
    path = write(folder, HEAD + '[[capacity]]\nsupplier = "KR_HAN"\nfactor = 0.5\n')
    p = only(problems_of(path), "capacity[1].factor")
    assert "unlimited" in p.message and "KR_HAN/shell155" in p.message
    cli_fails(capsys, path, "capacity[1].factor")
    ok = write(folder, HEAD + '[[capacity]]\nsupplier = "KR_HAN"\nfactor = 0\n', "ok.toml")
    assert Scenario.from_toml(ok).apply().offers["capacity"].iloc[1] == 0


def test_missing_base(folder, capsys):
    path = write(folder, 'name = "no base"\n')
    assert "is required" in only(problems_of(path), "base").message
    path = write(folder, 'name = "lost"\nbase = "nowhere/demo.xlsx"\n', "lost.toml")
    p = only(problems_of(path), "base")
    assert p.value == "nowhere/demo.xlsx" and "not found" in p.message
    assert str(folder) in p.message  # relative to the scenario file's folder
    cli_fails(capsys, path, "base")


def test_unreadable_base(folder):
    path = write(folder, 'name = "broken"\nbase = "broken.xlsx"\n')
    problems = problems_of(path)
    assert "the base workbook has 1 problem" in only(problems, "base").message
    assert any("not a valid .xlsx" in p.message for p in problems)


def test_toml_syntax_error(folder, capsys):
    path = write(folder, 'name = "x\nbase = "base.xlsx"\n')
    (p,) = problems_of(path)
    assert "not valid TOML" in p.message and "line 1" in p.message
    code = cli_main(["scenario", "check", str(path)])
    assert code == 2 and path.name in capsys.readouterr().err


def test_missing_name_and_required_keys(folder):
    path = write(folder, 'base = "base.xlsx"\n[[capacity]]\nsupplier = "DE_ELB"\n'
                 '[[rule]]\nshare = 0.5\n')
    problems = problems_of(path)
    for key in ("name", "capacity[1].factor", "rule[1].name"):
        assert "is required" in only(problems, key).message


def test_rule_changes_that_do_not_fit_the_rule(folder):
    path = write(folder, HEAD + '''
        rules_off = ["Cap KR"]
        [[rule]]
        name = "Rules!2"
        quantity = 5
        [[rule]]
        name = "Cap KR"
        quantity = 50
        [[rule]]
        name = "Rules!3"
        share = 1.5
    ''')
    problems = problems_of(path)
    assert "has no quantity" in only(problems, "rule[1].quantity").message
    assert "turned off by rules_off" in only(problems, "rule[2].name").message
    assert "[0, 1]" in only(problems, "rule[3].share").message


def test_added_rule_with_unknown_ids_is_named_by_its_key(folder):
    """The ids of an added rule are checked by validating the data again; the problem names
    the [[add_rule]] table, not a row of a sheet the user never wrote."""
    path = write(folder, HEAD + '[[add_rule]]\nrule = "ban"\npartner = "XX"\ngroup = "KR"\n'
                 '[[add_rule]]\nrule = "min_share"\ngroup = "KR"\n')
    problems = problems_of(path)
    assert "no partner" in only(problems, "add_rule[1].partner").message
    assert "needs a share" in only(problems, "add_rule[2].share").message


def test_every_mistake_at_once(folder):
    path = write(folder, '''
        name = "many"
        base = "base.xlsx"
        remove_partners = ["XX"]
        rules_off = ["nope"]
        [[capacity]]
        supplier = "KR_HAN"
        factor = 2
        [[price]]
        supplier = "ZZ"
        factor = 1
        [[demand]]
        partner = "PL"
        factor = -1
    ''')
    columns = {p.column for p in problems_of(path)}
    assert columns == {"remove_partners[1]", "rules_off[1]", "capacity[1].factor",
                       "price[1].supplier", "demand[1].factor"}


def test_a_scenario_built_in_code_names_itself():
    s = Scenario(base=base_data(), name="in code", capacity=[{"supplier": "nope", "factor": 0}])
    (p,) = s.problems()
    assert p.where == "scenario" and p.sheet == "in code"
    assert str(p).startswith("scenario 'in code', key 'capacity[1].supplier'")
    with pytest.raises(InputError):
        s.apply()


def test_cli_exits_2_without_a_traceback(folder):
    """A real process: the list of problems on stderr, exit code 2 (``scenario check`` is
    checked in process by the tests above, through the same handler)."""
    path = write(folder, HEAD + '[[capacity]]\nsupplier = "DE_EBL"\nfactor = 0\n', "cli.toml")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "procure.cli", "scenario", "run", str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "file 'cli.toml', key 'capacity[1].supplier'" in done.stderr
