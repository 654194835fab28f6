"""`svar surveys check` and `svar simulate`, driven through click's test runner."""
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.definitions import bundled_survey_paths

CLI = Path(__file__).resolve().parents[2] / "service" / "cli"


def command(module: str, name: str):
    # Load just this module: service/cli/__init__.py imports every command family,
    # and these two depend on nothing but click and flows.
    spec = importlib.util.spec_from_file_location(f"_svar_cli_{module}", CLI / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return getattr(loaded, name)


@pytest.fixture(scope="module")
def surveys():
    return command("surveys", "surveys")


@pytest.fixture(scope="module")
def simulate():
    return command("simulate", "simulate")


def test_check_reports_ok(surveys):
    path = str(bundled_survey_paths()[0])
    result = CliRunner().invoke(surveys, ["check", path])
    assert result.exit_code == 0, result.output
    assert result.output == f"ok: {path} (introduction-programme v2, 17 questions, languages nb, nn, da, sv, en, ar, so, ti, fa, fa_AF, uk, pl)\n"


def test_check_reports_each_problem_and_fails(surveys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: b\nspec_version: 1\ndefault_language: nb\nlanguages: [nb]\ntitle: {nb: T}\nquestions:\n  - id: a\n    type: slider\n    text: {nb: A}\n", encoding="utf-8")
    result = CliRunner().invoke(surveys, ["check", str(broken), str(bundled_survey_paths()[0])])
    assert result.exit_code == 1
    assert f"{broken}:8: question 'a' has unknown type 'slider'" in result.output
    assert "ok: " in result.output


def test_simulate_runs_a_conversation_and_prints_answers(simulate):
    replies = ["ABCD-EFGH"] + ["5"] * 10 + ["nei", "4", "2", "vet ikke", "1", "-"]
    result = CliRunner().invoke(simulate, ["introduction-programme", "--lang", "nb"], input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.output
    assert "1/17 Hvor fornøyd er du med informasjonen" in result.output
    final = json.loads(result.stdout[result.stdout.rindex("\n{\n"):])
    assert final["status"] == "completed"
    assert final["answers"]["interpreter_used"] == "no" and final["answers"]["track"] == "dont_know"
    assert final["answers"]["comment"] is None


def test_simulate_stops_at_eof(simulate):
    result = CliRunner().invoke(simulate, [str(bundled_survey_paths()[0]), "--lang", "en"], input="hi\n3\n")
    assert result.exit_code == 0
    final = json.loads(result.stdout[result.stdout.rindex("\n{\n"):])
    assert final == {"status": "active", "answers": {"information_start": 3}}


def test_simulate_unknown_survey(simulate):
    result = CliRunner().invoke(simulate, ["nope"])
    assert result.exit_code == 2 and "no bundled survey 'nope'" in result.output
