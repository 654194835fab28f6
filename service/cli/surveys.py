"""`svar surveys check PATH...`: validate survey files before they are deployed."""
import sys
from pathlib import Path

import click

from flows.definitions import SurveyError
from flows.definitions import bundled_survey_paths
from flows.definitions import load_survey


@click.group()
def surveys():
    """Survey definition files."""


@surveys.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def check(paths):
    """Check survey files (or folders of them); with no PATH, the bundled surveys."""
    files = _expand(paths) if paths else bundled_survey_paths()
    if not files:
        raise click.UsageError("no survey files found")
    failed = False
    for path in files:
        try:
            survey = load_survey(path)
        except SurveyError as error:
            failed = True
            for problem in error.problems:
                click.echo(str(problem), err=True)
            continue
        except (OSError, UnicodeDecodeError) as error:
            failed = True
            click.echo(f"{path}:1: cannot read the file: {error}", err=True)
            continue
        languages = ", ".join(survey.languages)
        click.echo(f"ok: {path} ({survey.key} v{survey.version}, {len(survey.questions)} questions, languages {languages})")
    sys.exit(1 if failed else 0)


def _expand(paths) -> list[Path]:
    files = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path])
    return files
