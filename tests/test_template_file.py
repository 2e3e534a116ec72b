"""The shipped blank template is what the schema writes today."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import procure

SHIPPED = Path(__file__).resolve().parents[1] / "sample_data" / "template.xlsx"


def _values(path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_shipped_template_matches_the_schema(tmp_path):
    fresh = procure.write_template(tmp_path / "template.xlsx")
    assert _values(SHIPPED) == _values(fresh), (
        "sample_data/template.xlsx is stale: regenerate it with `procure template sample_data/template.xlsx`")
