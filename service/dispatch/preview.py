"""Before launch: every message of a campaign in each language, its SMS segments, and the cost.

The texts are the real ones: the invitation as service/dispatch/invitations.py writes
it, the reminder as the sweeper writes it (both with a sample code where the
send sets the real one in), and a whole conversation driven through the
engine (intro and first question, each question, the thank-you, the reminder
in progress), so the preview can never drift from what respondents get.
"""
from datetime import datetime
from datetime import timezone

from sqlalchemy import func
from sqlalchemy import select

from flows.engine import resume
from flows.languages import english_name
from flows.languages import native_name
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import QuestionType
from flows.model import State
from flows.model import Status
from flows.model import Survey
from flows.reminders import REMINDER
from flows.segments import count

from ..outbox.code_slots import render
from ..surveys import offered_languages
from .invitations import invitation_text
from ..models import Campaign
from ..models import Invitation
from ..reminders.sending import CampaignContext
from ..surveys import survey_of
from ..surveys import survey_title

# A code of the real length and grouping; the preview never draws or shows a real one.
SAMPLE_CODE = "ABCD-EFGH"
# The engine wants a clock for deadlines; no preview text depends on it.
_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


def campaign_preview(session, campaign: Campaign) -> dict:
    """Per language: each message with its encoding and segments; SMS invitations and their cost."""
    survey = survey_of(campaign.survey_version)
    invited = dict(
        session.execute(
            select(Invitation.language, func.count())
            .where(Invitation.campaign_id == campaign.id, Invitation.channel == "sms")
            .group_by(Invitation.language)
        ).all()
    )
    # The reminder to someone who has not started is the sweeper's, not the engine's.
    context = CampaignContext.load(session, campaign)
    languages = []
    for language in offered_languages(campaign):
        title = survey_title(survey, language, campaign.default_language)
        messages = [_message("invitation", invitation_text(campaign.organisation.name, title, SAMPLE_CODE, language))]
        # As sent, with a code in its slot: segments count the text the provider bills, not the stored one.
        reminder = _message("reminder", render(context.reminder_text(REMINDER, language), SAMPLE_CODE))
        messages.extend(reminder if m["kind"] == "reminder" else m for m in conversation_messages(survey, language))
        invitation_segments = messages[0]["segments"]
        conversation = sum(m["segments"] for m in messages if m["kind"] in ("question", "thank_you"))
        invitations = invited.get(language, 0)
        languages.append(
            {
                "language": language,
                "name": native_name(language),
                "english_name": english_name(language),
                "encoding": "UCS-2" if any(m["encoding"] == "UCS-2" for m in messages) else "GSM-7",
                "messages": messages,
                "invitations": invitations,
                "invitation_segments": invitation_segments,
                "conversation_segments": conversation,
                "cost_segments": {
                    "invitations": invitations * invitation_segments,
                    "if_everyone_answers": invitations * (invitation_segments + conversation),
                },
            }
        )
    return {
        "campaign_id": campaign.id,
        "survey": {"key": survey.key, "version": survey.version},
        "sample_code": SAMPLE_CODE,
        "languages": languages,
        "totals": {
            "invitations": sum(entry["invitations"] for entry in languages),
            "invitation_segments": sum(entry["cost_segments"]["invitations"] for entry in languages),
            "segments_if_everyone_answers": sum(entry["cost_segments"]["if_everyone_answers"] for entry in languages),
        },
    }


def conversation_messages(survey: Survey, language: str) -> list[dict]:
    """What the engine sends in `language`: questions (the first with the intro), thank-you, reminders."""
    found = [_message("reminder", _only(resume(survey, State(language=language), Inbound(InboundKind.REMINDER), _NOW)))]
    state = State(language=language)
    sprint = resume(survey, state, Inbound(InboundKind.MESSAGE, SAMPLE_CODE), _NOW)
    while sprint.state.status == Status.ACTIVE:
        current = survey.question(sprint.state.position)
        found.append(_message("question", _only(sprint), current.id))
        if current.id == survey.questions[0].id:
            reminded = resume(survey, sprint.state, Inbound(InboundKind.REMINDER), _NOW)
            found.append(_message("reminder_in_progress", _only(reminded), current.id))
        sprint = resume(survey, sprint.state, Inbound(InboundKind.MESSAGE, _valid_answer(current)), _NOW)
    found.append(_message("thank_you", _only(sprint)))
    # Questions first, as respondents meet them; reminders after.
    return sorted(found, key=lambda m: m["kind"].startswith("reminder"))


def _valid_answer(question) -> str:
    """An answer every parser accepts, choosing "yes" so that show_if follow-ups are previewed too."""
    if question.type == QuestionType.SCALE:
        return str(question.scale.min)
    if question.type in (QuestionType.CHOICE, QuestionType.MULTI):
        return "1"
    if question.type == QuestionType.YESNO:
        return "yes"
    if question.type == QuestionType.NUMBER:
        return str(int(question.min)) if question.min is not None else "1"
    return "ok"


def _only(sprint) -> str:
    return "\n".join(o.text for o in sprint.outbound)


def _message(kind: str, text: str, question_id: str | None = None) -> dict:
    entry = {"kind": kind, "text": text, **count(text).to_dict()}
    if question_id is not None:
        entry["question_id"] = question_id
    return entry
