"""Survey files: YAML text in, a validated model.Survey out, every problem with its line.

Nodes are read with yaml.compose so each problem can name file and line, and
keys and ids are taken as written: YAML 1.1 would otherwise read the
language code `no` or a choice id `yes` as a boolean.
"""
import re
from pathlib import Path

import yaml

from flows.languages import normalise
from flows.model import Question
from flows.model import Scale
from flows.model import Survey
from flows.yaml_limits import refuse_too_large
from flows.yaml_limits import refuse_unsafe_yaml
from flows.question_reader import QuestionReader
from flows.yamlreader import Problem
from flows.yamlreader import SurveyError

SPEC_VERSIONS = (1,)
SURVEYS = Path(__file__).resolve().parent / "surveys"

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")
# gettext locale names, as the catalogs in locales/ are named: "nb", "fa_AF", "sr_Latn".
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2}|_[A-Z][a-z]{3})?")
_TOP = {"key", "spec_version", "version", "default_language", "languages", "title", "intro", "outro", "scales", "questions"}
_SCALE = {"min", "max", "dont_know", "low", "high"}



def load_survey(path: str | Path) -> Survey:
    """Read and validate one survey file."""
    refuse_too_large(Path(path).stat().st_size, str(path))
    return parse_survey(Path(path).read_text(encoding="utf-8"), str(path))


def parse_survey(text: str, filename: str = "<survey>") -> Survey:
    """Validate survey YAML `text`; `filename` only names it in problems."""
    refuse_unsafe_yaml(text, filename)
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            tip = "; quote texts that contain '?', ':' or ',' inside { }" if "expected ',' or '}'" in str(error.problem) else ""
            raise SurveyError([Problem(filename, mark.line + 1 if mark else 1, f"not valid YAML: {error.problem}{tip}")]) from None
        except yaml.YAMLError as error:
            raise SurveyError([Problem(filename, 1, f"not valid YAML: {error}")]) from None
        if root is None:
            raise SurveyError([Problem(filename, 1, "the file is empty")])
        reader = _Reader(filename, loader)
        survey = reader.survey(root)
    finally:
        loader.dispose()
    if reader.problems:
        raise SurveyError(reader.problems)
    return survey


def bundled_survey_paths() -> list[Path]:
    """The survey files shipped in flows/surveys/."""
    return sorted(SURVEYS.glob("*.yaml"))


def bundled_survey(key: str) -> Survey:
    """The bundled survey with this key; KeyError if none."""
    for path in bundled_survey_paths():
        survey = load_survey(path)
        if survey.key == key:
            return survey
    raise KeyError(key)


class _Reader(QuestionReader):
    """Reads one survey file, collecting every problem instead of stopping at the first."""

    # Parts of a survey

    def survey(self, root) -> Survey | None:
        top = self.mapping(root, "the survey", _TOP, {"key", "spec_version", "default_language", "languages", "title", "questions"})
        if top is None:
            return None
        get = lambda key: top[key][1] if key in top else None  # noqa: E731
        key = self.identifier(get("key"), "key", _KEY) if "key" in top else None
        if "spec_version" in top:
            spec = self.integer(get("spec_version"), "spec_version")
            if spec is not None and spec not in SPEC_VERSIONS:
                self.problem(get("spec_version"), f"spec_version {spec} is not supported (only {', '.join(map(str, SPEC_VERSIONS))})")
        version = self.integer(get("version"), "version") if "version" in top else 1
        if version is not None and version < 1:
            self.problem(get("version"), "version must be 1 or more")
        self.languages = self.language_list(get("languages")) if "languages" in top else ()
        default = self.raw(get("default_language"), "default_language") if "default_language" in top else None
        if default is not None and self.languages and default not in self.languages:
            self.problem(get("default_language"), f"default_language '{default}' is not in languages")
        title = self.texts(get("title"), "title") if "title" in top else {}
        intro = self.texts(get("intro"), "intro") if "intro" in top else {}
        outro = self.texts(get("outro"), "outro") if "outro" in top else {}
        scales = self.scales(get("scales")) if "scales" in top else {}
        questions = self.questions(get("questions"), scales) if "questions" in top else ()
        if self.problems:
            return None
        return Survey(key=key, version=version, default_language=default, languages=self.languages, title=title, questions=questions, intro=intro, outro=outro)

    def language_list(self, node) -> tuple[str, ...]:
        languages = []
        for item in self.sequence(node, "languages"):
            code = self.raw(item, "a language")
            if code is None:
                continue
            if not _LANGUAGE.fullmatch(code):
                better = normalise(code)
                tip = f" (write '{better}')" if better and _LANGUAGE.fullmatch(better) else ""
                self.problem(item, f"language '{code}' is not a language code like 'nb', 'en' or 'fa_AF'{tip}")
            elif code in languages:
                self.problem(item, f"language '{code}' is listed twice")
            else:
                languages.append(code)
        if isinstance(node, yaml.SequenceNode) and not node.value:
            self.problem(node, "languages must list at least one language")
        return tuple(languages)

    def scales(self, node) -> dict[str, Scale]:
        entries = self.mapping(node, "scales", allowed=None) or {}
        scales = {}
        for name, (key_node, value_node) in entries.items():
            what = f"scale '{name}'"
            fields = self.mapping(value_node, what, _SCALE, {"min", "max"})
            if fields is None or not {"min", "max"} <= fields.keys():
                continue
            low, high = self.integer(fields["min"][1], f"{what} min"), self.integer(fields["max"][1], f"{what} max")
            if low is None or high is None:
                continue
            if low >= high:
                self.problem(value_node, f"{what} has min {low} not below max {high}")
                continue
            dont_know = self.boolean(fields["dont_know"][1], f"{what} dont_know") if "dont_know" in fields else False
            low_text = self.texts(fields["low"][1], f"{what} low") if "low" in fields else {}
            high_text = self.texts(fields["high"][1], f"{what} high") if "high" in fields else {}
            scales[name] = Scale(min=low, max=high, dont_know=dont_know, low=low_text, high=high_text)
        return scales

    def questions(self, node, scales: dict) -> tuple[Question, ...]:
        items = self.sequence(node, "questions")
        if isinstance(node, yaml.SequenceNode) and not items:
            self.problem(node, "questions must list at least one question")
        # All ids first, so show_if can tell "unknown" from "later".
        everywhere = {}
        for item in items:
            if isinstance(item, yaml.MappingNode):
                for key_node, value_node in item.value:
                    if getattr(key_node, "value", None) == "id" and isinstance(value_node, yaml.ScalarNode):
                        everywhere.setdefault(value_node.value, value_node)
        questions: list[Question] = []
        seen: set[str] = set()
        for index, item in enumerate(items, 1):
            question = self.question(item, index, scales, questions, everywhere, seen)
            if question is not None:
                questions.append(question)
        return tuple(questions)
