"""Exports cannot carry formulas: text a spreadsheet would run is exported as text (issue 15, item 8)."""
import csv
import io

import pytest

from service.answer_side.spreadsheet_cells import safe_cell
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units
from tests.service.test_exports import export_csv
from tests.service.test_exports import export_zip

FORMULA_UNIT = '=HYPERLINK("http://x","y")'
DDE_GROUP = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize("text", [FORMULA_UNIT, DDE_GROUP, "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u3000=1", "＝1+1", "－1+1"])
def test_formula_text_becomes_plain_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-3", "-0.5", -3, -2.5, 7, None, "Alna", "a=b", "e-post"])
def test_figures_and_ordinary_text_are_left_alone(value):
    assert safe_cell(value) == value


def formula_like(cell: str) -> bool:
    first = cell.lstrip(" ")[:1]
    return bool(first) and first in "=+-@\t\r" and not cell.lstrip("-").replace(".", "").isdigit()


def world_with_formula_names(runtime):
    world = campaign_with_units(runtime, areas={"Nord": [FORMULA_UNIT, "Bjerke"]}, groups=(DDE_GROUP, "Spor 2"))
    add_answers(runtime, world, FORMULA_UNIT, DDE_GROUP, [answer_set(overall=4)] * 12)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=5)] * 12)
    return world


def test_csv_export_writes_unit_and_group_names_as_text(runtime):
    world = world_with_formula_names(runtime)
    rows = export_csv(runtime, world.campaign_id)
    units = {row["unit"] for row in rows}
    groups = {row["group"] for row in rows}
    assert "'" + FORMULA_UNIT in units and FORMULA_UNIT not in units
    assert "'" + DDE_GROUP in groups and DDE_GROUP not in groups
    assert not any(formula_like(cell) for row in rows for cell in row.values())


def test_flow_results_csv_writes_names_as_text(runtime):
    world = world_with_formula_names(runtime)
    body = export_zip(runtime, world.campaign_id).read("responses.csv").decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert not any(formula_like(cell) for row in rows for cell in row)


def test_an_xlsx_written_through_safe_cell_holds_text_not_formulas(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    hostile = [FORMULA_UNIT, DDE_GROUP, "@SUM(A1)", "  =1+1"]
    book = openpyxl.Workbook()
    book.active.append([safe_cell(text) for text in hostile] + [safe_cell(-3), safe_cell(2.5)])
    book.save(tmp_path / "export.xlsx")
    row = next(openpyxl.load_workbook(tmp_path / "export.xlsx").active.iter_rows())
    assert [cell.data_type for cell in row] == ["s"] * len(hostile) + ["n", "n"]
    assert [cell.value for cell in row[:len(hostile)]] == ["'" + text for text in hostile]
    assert [cell.value for cell in row[len(hostile):]] == [-3, 2.5]
