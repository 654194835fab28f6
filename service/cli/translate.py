"""`svar translate extract|update|compile|check`: the gettext workflow of locales/."""
import sys
from pathlib import Path

import click

from flows.i18n import LOCALES
from flows.languages import SHIPPED

from . import catalogs
from .catalog_check import check as check_all


@click.group()
def translate():
    """Translation catalogs (locales/) and survey texts."""


@translate.command()
def extract():
    """Write locales/messages.pot from the code and templates, locales/surveys.pot from the survey files."""
    template = catalogs.extract()
    catalogs.write_catalog(template, catalogs.TEMPLATE)
    surveys = catalogs.survey_catalog()
    catalogs.write_catalog(surveys, catalogs.SURVEY_TEMPLATE)
    click.echo(f"{catalogs.TEMPLATE.relative_to(catalogs.ROOT)}: {sum(1 for m in template if m.id)} messages")
    click.echo(f"{catalogs.SURVEY_TEMPLATE.relative_to(catalogs.ROOT)}: {sum(1 for m in surveys if m.id)} survey texts")


@translate.command()
@click.option("--init", "new", multiple=True, help="Also start a catalog for this language (e.g. --init ckb).")
def update(new):
    """Bring every catalog in line with locales/messages.pot (run extract first)."""
    if not catalogs.TEMPLATE.is_file():
        raise click.UsageError("no locales/messages.pot: run `svar translate extract` first")
    template = catalogs.read_catalog(catalogs.TEMPLATE)
    for language in sorted(set(SHIPPED) | set(catalogs.catalog_languages()) | set(new)):
        total, untranslated = catalogs.update(template, language)
        note = f", {untranslated} to translate" if untranslated else ""
        click.echo(f"{language}: {total} messages{note}")


@translate.command(name="compile")
def compile_():
    """Write the .mo files; a message with broken placeholders is left out (English shows instead)."""
    for language, count in catalogs.compile_all().items():
        click.echo(f"{language}: {count} messages compiled")


@translate.command()
@click.option("--locales", "locales", type=click.Path(file_okay=False, path_type=Path), default=None, help="Catalogs to check (default: locales/).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.argument("surveys", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(locales, strict, surveys):
    """Fail if a shipped language lacks a message, a placeholder differs, plural forms are wrong or a survey text is missing."""
    findings = check_all(locales or LOCALES, surveys=list(surveys) or None)
    errors = [f for f in findings if f.error or strict]
    for finding in findings:
        click.echo(str(finding), err=True)
    warnings = len(findings) - len([f for f in findings if f.error])
    click.echo(f"{len(errors)} error(s), {warnings} warning(s)")
    sys.exit(1 if errors else 0)
