"""`svar surveys check` refuses hostile YAML with one sentence naming file, line and reason."""
import pytest
from click.testing import CliRunner

from flows.definitions import bundled_survey_paths
from flows.yaml_limits import MAX_BYTES
from tests.flows.test_cli import command

GOOD = bundled_survey_paths()[0].read_text(encoding="utf-8")
HEAD = "key: b\nspec_version: 1\ndefault_language: nb\nlanguages: [nb]\n"


@pytest.fixture(scope="module")
def surveys():
    return command("surveys", "surveys")


def check(surveys, tmp_path, text: str):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(surveys, ["check", str(path)])
    return path, result


@pytest.mark.parametrize("text, line, reason", [
    (HEAD + "title: !!python/object/apply:os.system ['echo owned']\n", 5, "YAML tags"),
    (HEAD + "title: !!python/object:collections.OrderedDict {}\n", 5, "YAML tags"),
    (HEAD + "title: !custom {nb: T}\n", 5, "YAML tags"),
    (HEAD + "title: {nb: T}\nquestions: !!set {a: null}\n", 6, "YAML tags"),
    (HEAD + "title: {nb: \"T\x00\"}\n", 5, "NUL byte"),
    (HEAD + "title: &a {nb: T}\nx: *a\n", 5, "anchors and aliases"),
    (HEAD + "title: " + "[" * 5000 + "]" * 5000 + "\n", 5, "nests deeper than"),
    (HEAD + "title:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(1, 60)), 25, "nests deeper than"),
])
def test_hostile_yaml_is_refused_with_a_sentence(surveys, tmp_path, text, line, reason):
    path, result = check(surveys, tmp_path, text)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    [sentence] = result.output.strip().splitlines()
    assert sentence.startswith(f"{path}:{line}: ") and reason in sentence, sentence


def test_an_oversized_file_is_refused_before_parsing(surveys, tmp_path):
    path, result = check(surveys, tmp_path, GOOD + "#" * (MAX_BYTES + 1) + "\n")
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:1: the file is ") and "more than the" in result.output


def test_a_real_survey_still_passes(surveys, tmp_path):
    _path, result = check(surveys, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
