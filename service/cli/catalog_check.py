"""`svar translate check`: what would stop a catalog or a survey from speaking correctly.

Errors (exit 1): a shipped language without a catalog or missing a message
the code uses; a translation whose placeholders differ from its source; plural
forms other than Babel's rule for the language, or a plural form left empty;
a survey text missing in one of the survey's languages, or a survey language
Svar has no catalog for. Warnings: catalogs no native speaker has checked,
typography that would force UCS-2 in a GSM-7 language, obsolete messages.

The admin view speaks nb, da and en only: messages used nowhere but in it
are required in those three catalogs.
"""
from dataclasses import dataclass
from pathlib import Path

from flows.definitions import SurveyError
from flows.definitions import bundled_survey_paths
from flows.definitions import load_survey
from flows.i18n import LOCALES
from flows.languages import GSM7_FRIENDLY
from flows.languages import SHIPPED
from flows.segments import gsm_safe

from .catalogs import REVIEW_MARK
from .catalogs import ROOT
from .catalogs import catalog_path
from .catalogs import extract
from .catalogs import placeholder_problem
from .catalogs import plural_forms
from .catalogs import read_catalog
from .catalogs import strings_of

ADMIN_LANGUAGES = ("nb", "da", "en")
_ADMIN_PLACES = ("service/admin/", "service/templates/admin/")


@dataclass(frozen=True)
class Finding:
    where: str
    message: str
    error: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {'error' if self.error else 'warning'}: {self.message}"


def check(locales: Path = LOCALES, surveys=None, template=None) -> list[Finding]:
    """Every problem of the catalogs in `locales` and of the survey files."""
    template = template if template is not None else extract(ROOT)
    findings = []
    for language in SHIPPED:
        findings.extend(check_catalog(language, template, locales))
    findings.extend(check_surveys(surveys or bundled_survey_paths(), locales))
    return findings


def check_catalog(language: str, template, locales: Path = LOCALES) -> list[Finding]:
    path = catalog_path(language, locales)
    where = _shown(path)
    if not path.is_file():
        return [Finding(where, f"no catalog for shipped language '{language}' (run `svar translate update`)")]
    try:
        catalog = read_catalog(path, language)
    except Exception as error:  # a hand-edited file can fail in many ways; report, never crash
        return [Finding(where, f"cannot read the catalog: {error}")]
    found = []
    if REVIEW_MARK in (catalog.header_comment or ""):
        found.append(Finding(where, "machine-translated, needs native review", error=False))
    expected = plural_forms(language)
    header = dict(catalog.mime_headers).get("Plural-Forms", "")
    if _squeeze(header) != _squeeze(expected):
        found.append(Finding(where, f"Plural-Forms is '{header}', Babel's rule is '{expected}'"))
    for message in template:
        if not message.id:
            continue
        if language not in ADMIN_LANGUAGES and _admin_only(message):
            continue
        translated = catalog.get(message.id, message.context)
        label = _label(message.id)
        if translated is None:
            found.append(Finding(where, f"missing message {label} (run `svar translate update`)"))
            continue
        strings = strings_of(translated)
        if isinstance(message.id, (tuple, list)) and len(strings) != catalog.num_plurals:
            found.append(Finding(where, f"{label} has {len(strings)} plural forms, {language} needs {catalog.num_plurals}"))
        elif not all(strings):
            found.append(Finding(where, f"untranslated {label}"))
        elif translated.fuzzy:
            found.append(Finding(where, f"fuzzy (unchecked) translation of {label}"))
        problem = placeholder_problem(translated)
        if problem:
            found.append(Finding(where, f"{label}: {problem}"))
        # Only texts that go out as SMS; the admin view is a web page.
        if language in GSM7_FRIENDLY and not _admin_only(message) and any(gsm_safe(s) != s for s in strings if s):
            found.append(Finding(where, f"{label}: typographic characters force UCS-2 (use straight quotes, '-', '...')", error=False))
    in_code = {_key(m) for m in template if m.id}
    obsolete = [m for m in catalog if m.id and _key(m) not in in_code]
    if obsolete:
        found.append(Finding(where, f"{len(obsolete)} obsolete message(s) (run `svar translate update`)", error=False))
    return found


def check_surveys(paths, locales: Path = LOCALES) -> list[Finding]:
    """Each survey loads (every text in every listed language) and each of its languages has a catalog."""
    found = []
    for path in paths:
        try:
            survey = load_survey(path)
        except SurveyError as error:
            found.extend(Finding(f"{problem.file}:{problem.line}", problem.message) for problem in error.problems)
            continue
        for language in survey.languages:
            if language != "en" and not catalog_path(language, locales).is_file():
                found.append(Finding(_shown(Path(path)), f"language '{language}' has no catalog in locales/: prompts would be in English"))
    return found


def _admin_only(message) -> bool:
    return bool(message.locations) and all(place.startswith(_ADMIN_PLACES) for place, _ in message.locations)


def _key(message):
    return (message.id[0] if isinstance(message.id, (tuple, list)) else message.id, message.context)


def _label(message_id) -> str:
    text = message_id[0] if isinstance(message_id, (tuple, list)) else message_id
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _squeeze(text: str) -> str:
    return "".join(text.split()).rstrip(";")


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
