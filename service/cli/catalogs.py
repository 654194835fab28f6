"""The gettext workflow: extract messages, update and compile the catalogs in locales/.

Messages come from Python (flows/, service/) and the admin templates, as
babel.cfg maps them; survey texts live in the survey files and are extracted
to locales/surveys.pot for translators to read. Catalogs are written sorted,
with file locations only, so a diff shows what changed and nothing else.
"""
from datetime import datetime
from datetime import timezone
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po

from flows.definitions import bundled_survey_paths
from flows.definitions import load_survey
from flows.i18n import DOMAIN
from flows.i18n import LOCALES
from flows.i18n import placeholders
from flows.languages import english_name

ROOT = LOCALES.parent
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
SURVEY_TEMPLATE = LOCALES / "surveys.pot"
PROJECT = "Svar"
# Written at the top of every catalog a native speaker has not checked; `check` warns about them.
REVIEW_MARK = "Review: machine-translated, needs native review"


def catalog_path(language: str, locales: Path = LOCALES) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog_languages(locales: Path = LOCALES) -> list[str]:
    """The languages with a catalog, sorted."""
    return sorted(path.parent.parent.name for path in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def extract(root: Path = ROOT) -> Catalog:
    """Every message in the code and templates babel.cfg maps, with file locations."""
    with (root / "babel.cfg").open(encoding="utf-8") as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    catalog = Catalog(project=PROJECT, charset="utf-8", creation_date=datetime.now(timezone.utc))
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, directory_filter=_wanted_directory
    ):
        catalog.add(message, None, [(Path(filename).as_posix(), None)], auto_comments=comments, context=context)
    return catalog


def _wanted_directory(dirpath: str) -> bool:
    name = Path(dirpath).name
    return not name.startswith((".", "_")) and name not in {"node_modules", "var", "svar.egg-info"}


def survey_catalog(paths=None) -> Catalog:
    """Every text of the survey files, keyed by survey and place, in each survey's default language."""
    catalog = Catalog(project=PROJECT, charset="utf-8", creation_date=datetime.now(timezone.utc))
    for path in paths or bundled_survey_paths():
        survey = load_survey(path)
        location = [(Path(path).relative_to(ROOT).as_posix() if Path(path).is_relative_to(ROOT) else str(path), None)]
        for place, texts in survey_texts(survey):
            source = texts.get(survey.default_language)
            if source:
                catalog.add(source, None, location, context=f"{survey.key}:{place}")
    return catalog


def survey_texts(survey):
    """(place, texts) for every translatable text of `survey`, in file order."""
    for name in ("title", "intro", "outro"):
        if getattr(survey, name):
            yield name, getattr(survey, name)
    seen_scales = set()
    for question in survey.questions:
        yield f"{question.id}.text", question.text
        for choice in question.choices:
            yield f"{question.id}.{choice.id}", choice.label
        if question.scale is not None and id(question.scale) not in seen_scales:
            seen_scales.add(id(question.scale))
            for end in ("low", "high"):
                if getattr(question.scale, end):
                    yield f"{question.id}.scale.{end}", getattr(question.scale, end)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a .po/.pot sorted, with file locations and no line numbers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    write_po(buffer, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True, width=76)
    path.write_bytes(buffer.getvalue())


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=language, domain=DOMAIN)


def new_catalog(language: str) -> Catalog:
    """An empty catalog for `language` with Babel's plural forms and the review mark."""
    catalog = Catalog(locale=language, project=PROJECT, domain=DOMAIN, charset="utf-8", fuzzy=False)
    catalog.language_team = f"{english_name(language)} <svar@localhost>"
    catalog.header_comment = f"# {english_name(language)} translations for {PROJECT}.\n# {REVIEW_MARK}\n#"
    return catalog


def update(template: Catalog, language: str, locales: Path = LOCALES) -> tuple[int, int]:
    """Bring one catalog in line with `template`; returns (messages, untranslated)."""
    path = catalog_path(language, locales)
    catalog = read_catalog(path, language) if path.is_file() else new_catalog(language)
    before, created = _snapshot(catalog), catalog.creation_date
    # Fuzzy guesses from similar messages could reach respondents (catalogs compile with fuzzy): none.
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    if path.is_file() and _snapshot(catalog) == before:
        catalog.creation_date = created  # nothing changed: no date-only diff
    # Babel's plural rule for the language, whatever an older header said.
    catalog.mime_headers = [("Plural-Forms", plural_forms(language))]
    write_catalog(catalog, path)
    messages = [m for m in catalog if m.id]
    untranslated = [m for m in messages if not _translated(m)]
    return len(messages), len(untranslated)


def _snapshot(catalog: Catalog) -> list:
    return [(m.id, m.string, m.context, sorted(m.locations), sorted(m.flags)) for m in catalog if m.id]


def plural_forms(language: str) -> str:
    """Babel's Plural-Forms header for `language` (Arabic: six forms, the fifth for 100-102)."""
    plural = get_plural(language)
    return f"nplurals={plural.num_plurals}; plural={plural.plural_expr};"


def strings_of(message) -> tuple:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def placeholder_problem(message) -> str | None:
    """Why a translation's %(name)s placeholders do not fit its source, or None."""
    if isinstance(message.id, (tuple, list)):
        expected = placeholders(message.id[0]) | placeholders(message.id[1])
        optional = {"n"}  # a form may spell the count out: "one question"
    else:
        expected, optional = placeholders(message.id), set()
    for text in strings_of(message):
        if not text:
            continue
        found = placeholders(text)
        if found - expected:
            return f"unknown placeholder(s) {', '.join(sorted('%(' + p + ')s' for p in found - expected))}"
        if (expected - optional) - found:
            return f"missing placeholder(s) {', '.join(sorted('%(' + p + ')s' for p in (expected - optional) - found))}"
        if expected and _stray_percent(text):
            return "a stray % (write %% for a percent sign)"
    return None


def _stray_percent(text: str) -> bool:
    try:
        text % {name: "" for name in placeholders(text)}
    except (ValueError, TypeError, KeyError):
        return True
    return False


def _translated(message) -> bool:
    strings = strings_of(message)
    return bool(strings) and all(strings) and not message.fuzzy


def compile_all(locales: Path = LOCALES) -> dict[str, int]:
    """Write every catalog's .mo; broken messages are left out, so English shows instead."""
    written = {}
    for language in catalog_languages(locales):
        path = catalog_path(language, locales)
        catalog = read_catalog(path, language)
        for message in [m for m in catalog if m.id and placeholder_problem(m)]:
            catalog.delete(message.id, message.context)
        with path.with_suffix(".mo").open("wb") as fp:
            write_mo(fp, catalog, use_fuzzy=True)
        written[language] = sum(1 for m in catalog if m.id and _translated(m))
    return written
