"""Survey files: every problem names file, line and reason."""
import pytest

from flows.definitions import SurveyError
from flows.definitions import bundled_survey
from flows.definitions import bundled_survey_paths
from flows.definitions import load_survey
from flows.definitions import parse_survey
from flows.model import QuestionType

from .conftest import SMALL_SURVEY

HEADER = """\
key: broken
spec_version: 1
default_language: nb
languages: [nb, en]
title: {nb: Tittel, en: Title}
scales:
  s: {min: 1, max: 6, dont_know: true, low: {nb: Lav, en: Low}, high: {nb: Høy, en: High}}
questions:
"""  # questions start on line 9

GOOD_QUESTION = """\
  - id: first
    type: yesno
    text: {nb: Første, en: First}
"""


def problems_for(tmp_path, body: str, header: str = HEADER) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(header + body, encoding="utf-8")
    with pytest.raises(SurveyError) as caught:
        load_survey(path)
    assert all(p.file == str(path) for p in caught.value.problems)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    "body, expected",
    [
        (GOOD_QUESTION + "  - id: second\n    type: scale\n    scale: s\n    show_if: {question: foo, equals: 'yes'}\n    text: {nb: A, en: A}\n",
         "15: question 'second' has show_if on unknown question 'foo'"),
        ("  - id: second\n    type: scale\n    scale: s\n    show_if: {question: first, equals: 'yes'}\n    text: {nb: A, en: A}\n" + GOOD_QUESTION.replace("first", "first"),
         "12: question 'second' has show_if on later question 'first' (it must come before)"),
        (GOOD_QUESTION + "  - id: second\n    type: scale\n    scale: s\n    show_if: {question: first, equals: maybe}\n    text: {nb: A, en: A}\n",
         "15: question 'second' show_if value 'maybe' is not an answer to 'first' (use yes, no)"),
        (GOOD_QUESTION + "  - id: first\n    type: yesno\n    text: {nb: B, en: B}\n",
         "12: question 'first' is defined twice (ids must be unique)"),
        ("  - id: Bad-Id\n    type: yesno\n    text: {nb: B, en: B}\n",
         "9: question 1 id 'Bad-Id' may only use a-z, 0-9 and _"),
        ("  - id: q\n    type: slider\n    text: {nb: B, en: B}\n",
         "10: question 'q' has unknown type 'slider' (use scale, choice, multi, yesno, number, text)"),
        ("  - id: q\n    type: yesno\n    text: {nb: B}\n",
         "11: question 'q' text has no 'en' translation"),
        ("  - id: q\n    type: yesno\n    text: {nb: B, en: B, de: B}\n",
         "11: question 'q' text has text in 'de', which is not in languages"),
        ("  - id: q\n    type: yesno\n    optinal: true\n    text: {nb: B, en: B}\n",
         "11: question 'q' has unknown key 'optinal' (did you mean 'optional'?)"),
        ("  - id: q\n    type: yesno\n",
         "9: question 'q' is missing 'text'"),
        ("  - id: q\n    type: scale\n    scale: nope\n    text: {nb: B, en: B}\n",
         "11: question 'q' uses unknown scale 'nope'"),
        ("  - id: q\n    type: scale\n    text: {nb: B, en: B}\n",
         "10: question 'q' of type scale needs 'scale' (the name of a scale)"),
        ("  - id: q\n    type: scale\n    scale: s\n    dont_know: true\n    text: {nb: B, en: B}\n",
         "12: question 'q' of type scale cannot have 'dont_know' (set dont_know on the scale)"),
        ("  - id: q\n    type: choice\n    text: {nb: B, en: B}\n    choices:\n      - {id: a, label: {nb: A, en: A}}\n      - {id: a, label: {nb: B, en: B}}\n",
         "14: question 'q' has choice 'a' twice"),
        ("  - id: q\n    type: choice\n    text: {nb: B, en: B}\n",
         "10: question 'q' needs 'choices'"),
        ("  - id: q\n    type: yesno\n    min: 3\n    text: {nb: B, en: B}\n",
         "11: question 'q' of type yesno cannot have 'min'"),
        ("  - id: q\n    type: number\n    min: 5\n    max: 1\n    text: {nb: B, en: B}\n",
         "9: question 'q' has min 5 not below max 1"),
        ("  - id: q\n    type: yesno\n    optional: maybe\n    text: {nb: B, en: B}\n",
         "11: question 'q' optional must be true or false"),
        ("  - id: q\n    type: scale\n    comment: true\n    scale: s\n    text: {nb: B, en: B}\n",
         "11: question 'q' of type scale cannot have 'comment'"),
        ("  - id: q\n    type: text\n    text: {nb: B, en: B}\n  - id: r\n    type: yesno\n    show_if: {question: q, equals: x}\n    text: {nb: B, en: B}\n",
         "14: question 'r' has show_if on text question 'q'"),
        ("  - id: q\n    type: yesno\n    text: {nb: B, en: B}\n  - id: r\n    type: yesno\n    show_if: {question: q}\n    text: {nb: B, en: B}\n",
         "14: question 'r' show_if needs exactly one of 'in', 'equals' or 'not_in'"),
        ("  - id: q\n    type: scale\n    scale: s\n    text: {nb: B, en: B}\n  - id: r\n    type: yesno\n    show_if: {question: q, in: [5, 9]}\n    text: {nb: B, en: B}\n",
         "15: question 'r' show_if value 9 is outside the scale of 'q'"),
    ],
)
def test_each_problem_names_its_line(tmp_path, body, expected):
    assert expected in problems_for(tmp_path, body)


@pytest.mark.parametrize(
    "header, expected",
    [
        (HEADER.replace("spec_version: 1", "spec_version: 2"), "2: spec_version 2 is not supported (only 1)"),
        (HEADER.replace("default_language: nb", "default_language: sv"), "3: default_language 'sv' is not in languages"),
        (HEADER.replace("title: {nb: Tittel, en: Title}", "title: {nb: Tittel}"), "5: title has no 'en' translation"),
        (HEADER.replace("min: 1, max: 6", "min: 6, max: 1"), "7: scale 's' has min 6 not below max 1"),
        (HEADER.replace("low: {nb: Lav, en: Low}", "low: {nb: Lav}"), "7: scale 's' low has no 'en' translation"),
        (HEADER.replace("key: broken", "kee: broken"), "1: the survey has unknown key 'kee' (did you mean 'key'?)"),
        (HEADER.replace("key: broken\n", ""), "1: the survey is missing 'key'"),
        (HEADER.replace("languages: [nb, en]", "languages: [nb, en, nb]"), "4: language 'nb' is listed twice"),
        (HEADER.replace("version", "version") + "  - id: a\n    type: yesno\n    text: {nb: A, en: A}\nversion: zero\n", "12: version must be a whole number"),
    ],
)
def test_top_level_problems(tmp_path, header, expected):
    body = "" if "version: zero" in header else GOOD_QUESTION
    assert expected in problems_for(tmp_path, body, header)


def test_invalid_yaml_names_the_line(tmp_path):
    found = problems_for(tmp_path, GOOD_QUESTION + "  - id: x\n    type: yesno\n\ttext: tab\n")
    assert len(found) == 1 and found[0].startswith("14: not valid YAML")


def test_unquoted_question_mark_in_flow_mapping_gets_a_tip(tmp_path):
    # The commonest authoring slip: PyYAML refuses `{nb: Hvordan?, en: How?}`.
    found = problems_for(tmp_path, "  - id: q\n    type: yesno\n    text: {nb: Hvordan?, en: How?}\n")
    assert found[0].startswith("11: not valid YAML") and "quote" in found[0]


def test_all_problems_are_reported_at_once(tmp_path):
    body = "  - id: q\n    type: slider\n    text: {nb: B}\n  - id: q\n    type: yesno\n    text: {nb: B, en: B}\n"
    found = problems_for(tmp_path, body)
    assert len(found) == 3
    assert [int(p.split(":")[0]) for p in found] == sorted(int(p.split(":")[0]) for p in found)


def test_error_message_is_file_line_reason(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(HEADER + "  - id: a\n    type: yesno\n    show_if: {question: foo, equals: 'yes'}\n    text: {nb: A, en: A}\n", encoding="utf-8")
    with pytest.raises(SurveyError) as caught:
        load_survey(path)
    assert str(caught.value) == f"{path}:11: question 'a' has show_if on unknown question 'foo'"


def test_small_survey_parses_into_the_model():
    survey = parse_survey(SMALL_SURVEY, "small.yaml")
    assert survey.key == "small" and survey.version == 3
    assert [q.type for q in survey.questions][:2] == [QuestionType.SCALE, QuestionType.YESNO]
    condition = survey.question("interpreter_quality").show_if
    assert (condition.question, condition.values, condition.negate) == ("interpreter", ("yes",), False)
    assert survey.question("children").min == 0 and survey.question("children").optional
    assert survey.question("comment").comment


def test_version_defaults_to_one():
    survey = parse_survey(HEADER + GOOD_QUESTION, "v.yaml")
    assert survey.version == 1


def test_yaml_booleans_do_not_eat_ids_or_language_codes():
    # `no` is Norwegian's language code and `yes` a natural choice id; YAML 1.1 reads both as booleans.
    text = HEADER.replace("[nb, en]", "[no, en]").replace("nb:", "no:").replace("default_language: nb", "default_language: no")
    body = "  - id: q\n    type: choice\n    text: {no: B, en: B}\n    choices:\n      - {id: yes, label: {no: Ja, en: Yes}}\n      - {id: no, label: {no: Nei, en: No}}\n"
    survey = parse_survey(text + body, "no.yaml")
    assert survey.languages == ("no", "en")
    assert [c.id for c in survey.question("q").choices] == ["yes", "no"]


def test_not_in_negates():
    body = GOOD_QUESTION + "  - id: b\n    type: yesno\n    show_if: {question: first, not_in: ['no']}\n    text: {nb: B, en: B}\n"
    condition = parse_survey(HEADER + body, "n.yaml").question("b").show_if
    assert condition.negate and condition.values == ("no",)


def test_bundled_surveys_load():
    paths = bundled_survey_paths()
    assert [p.name for p in paths] == ["introduction-programme.yaml"]
    survey = bundled_survey("introduction-programme")
    assert set(survey.languages) >= {"nb", "en"}
    scales = [q for q in survey.questions if q.type == QuestionType.SCALE]
    assert len(scales) >= 10
    assert sum(q.background for q in survey.questions) in (2, 3)
    assert any(q.show_if for q in survey.questions)
    assert any(q.type == QuestionType.YESNO for q in survey.questions)
    assert [q.id for q in survey.questions if q.comment and q.optional] == ["comment"]


def test_unknown_bundled_key():
    with pytest.raises(KeyError):
        bundled_survey("nope")
