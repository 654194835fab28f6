"""`svar simulate SURVEY --lang L`: a conversation with the engine in the terminal."""
import json
import sys
from datetime import datetime
from datetime import timezone
from pathlib import Path

import click

from flows.definitions import SurveyError
from flows.definitions import bundled_survey
from flows.definitions import load_survey
from flows.engine import resume
from flows.languages import ASK
from flows.model import MENU_DUE
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.model import Status


@click.command()
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--lang", "language", default=None, help="Respondent language (default: the survey's); 'ask' starts with the language menu.")
@click.option("--skip-background", is_flag=True, help="As for a small group: no background questions.")
@click.option("--skip-comments", is_flag=True, help="As for a small group: no comment questions.")
def simulate(survey_ref, language, skip_background, skip_comments):
    """Answer SURVEY (a bundled survey key or a file) line by line; answers print as JSON at the end."""
    try:
        survey = load_survey(survey_ref) if Path(survey_ref).is_file() else bundled_survey(survey_ref)
    except KeyError:
        raise click.UsageError(f"no bundled survey '{survey_ref}' and no such file") from None
    except SurveyError as error:
        raise click.ClickException(str(error)) from None
    language = language or survey.default_language
    # "ask" starts with the language menu, as a paper code printed for anyone does.
    menu = MENU_DUE if language == ASK else None
    language = survey.default_language if menu else language
    if language not in survey.languages:
        click.echo(f"note: the survey has no '{language}', it will speak {survey.default_language}", err=True)
    state = State(language=language, skip_background=skip_background, skip_comments=skip_comments, language_menu=menu)
    click.echo(f"-- {survey.key} v{survey.version} in {language}; type your replies, Ctrl-D to end --", err=True)
    for line in _lines():
        sprint = resume(survey, state, Inbound(kind=InboundKind.MESSAGE, text=line), datetime.now(timezone.utc))
        state = sprint.state
        for outbound in sprint.outbound:
            click.echo(outbound.text)
            click.echo("")
        events = ", ".join(e.type.value + (f" {e.question_id}" if e.question_id else "") for e in sprint.events)
        if events:
            click.echo(f"   [{events}]", err=True)
        if state.status in (Status.COMPLETED, Status.OPTED_OUT):
            break
    click.echo(json.dumps({"status": state.status.value, "answers": dict(state.answers)}, ensure_ascii=False, indent=2))


def _lines():
    """Lines typed by the user; the prompt goes to stderr so stdout stays a clean transcript."""
    while True:
        if sys.stdin.isatty():
            click.echo("> ", nl=False, err=True)
        line = sys.stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")
