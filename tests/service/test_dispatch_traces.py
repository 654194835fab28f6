"""The dispatch side tells nothing of a respondent's path: not the questions asked, the re-asks, nor the finishing hour (A1)."""
from datetime import timedelta

from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text

from service.dispatch.closing import close
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.surveys import survey_of
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import say
from workers.schedule import purge_conversation_traces
from workers.send_rows import record_sent

ANSWER_SIDE = {"responses", "answers", "answer_pool"}
# 10:00 UTC is 12:00 in Oslo; the respondents finish at 12:37:41.
FINISHED = NOW + timedelta(minutes=37, seconds=41)
BRANCH, BRANCHED = "interpreter_used", "interpreter_quality"


def _settle_pending(runtime, at=NOW):
    """The provider accepts every pending row, through the send path's own recording of a send."""
    with runtime.transaction() as session:
        ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")).all()
        for outbox_id in ids:
            record_sent(session.connection(), outbox_id, f"SM{outbox_id:032d}", at)


def _pending_question(runtime, phone):
    """The question and options of the last message to `phone` before it settles (the test reads it as the phone would)."""
    with runtime.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)).all()
    mine = [row for row in rows if row.address_enc and runtime.vault.decrypt(row.address_enc) == phone]
    return (mine[-1].question_id, mine[-1].options) if mine else (None, None)


def _answer_to_the_end(runtime, phone, interpreter: str, invalid_once: bool, start=NOW, finish=FINISHED):
    """Answer every question; `interpreter` at the branch ("1" yes asks one more question), one invalid answer if asked."""
    say(runtime, phone, "Hei", now=start)
    for _step in range(40):
        question_id, options = _pending_question(runtime, phone)
        _settle_pending(runtime, finish)
        if question_id is None and options is None:
            with runtime.session() as session:
                status = session.scalar(select(Invitation.status).where(Invitation.address_hash == runtime.vault.address_hash("sms", phone)))
            if status == "completed":
                return
        if invalid_once:
            invalid_once = False
            say(runtime, phone, "banan", now=start)
            continue
        offered = [option["reply"] for option in options or () if option["reply"] != "-"]
        answer = interpreter if question_id == BRANCH else (offered[0] if offered else "Fint")
        say(runtime, phone, answer, now=finish)
    raise AssertionError("the survey did not finish")


def _dispatch_values(session):
    """Every value of every dispatch table, by table."""
    names = [name for name in inspect(session.bind).get_table_names() if name not in ANSWER_SIDE and name != "alembic_version"]
    return {name: session.execute(text(f"SELECT * FROM {name}")).mappings().all() for name in names}


def test_dispatch_rows_tell_neither_branch_nor_re_ask_nor_finishing_hour(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        branched, _ = invite(session, runtime, campaign, phone="+4792000001")
        straight, _ = invite(session, runtime, campaign, phone="+4792000002")
        campaign_id, ids = campaign.id, (branched.id, straight.id)
        question_ids = {question.id for question in survey_of(campaign.survey_version).questions}
    # One says yes to the interpreter (one question more) and gives an invalid answer first; the other neither.
    _answer_to_the_end(runtime, "+4792000001", interpreter="1", invalid_once=True)
    _answer_to_the_end(runtime, "+4792000002", interpreter="2", invalid_once=False)
    purge_conversation_traces()

    def dispatch_of_each():
        with runtime.session() as session:
            tables = _dispatch_values(session)
        by_invitation = {}
        for invitation_id in ids:
            by_invitation[invitation_id] = {
                name: sorted(
                    str({key: value for key, value in row.items() if key not in ("id", "invitation_id", "code_hash", "address_enc", "address_hash", "provider_id", "created_at")})
                    for row in rows
                    if row.get("invitation_id", row.get("id") if name == "invitations" else None) == invitation_id
                )
                for name, rows in tables.items()
            }
        return tables, by_invitation

    for stage in ("completed", "closed"):
        tables, by_invitation = dispatch_of_each()
        # Row for row, column for column, the two respondents look alike on the dispatch side.
        assert by_invitation[ids[0]] == by_invitation[ids[1]], stage
        for name, rows in tables.items():
            for row in rows:
                for column, value in row.items():
                    assert str(value) not in question_ids, f"{stage}: {name}.{column} names question {value}"
                    assert not (isinstance(value, str) and any(f'"{q}"' in value for q in question_ids)), f"{stage}: {name}.{column}"
        with runtime.session() as session:
            finished = session.scalars(select(Invitation.completed_at).where(Invitation.id.in_(ids))).all()
            # Nothing of a finished conversation is left on the outbox: its replies went with it.
            left = session.scalars(select(OutboxMessage.kind).where(OutboxMessage.invitation_id.in_(ids))).all()
        assert all((t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0) for t in finished), finished
        assert set(left) <= {"invitation", "reminder"}, left
        if stage == "completed":
            with runtime.transaction() as session:
                close(session, session.get(Campaign, campaign_id), FINISHED + timedelta(hours=1), runtime)


# Same Monday: 07:05-07:31 and 13:40-14:02 UTC (09:05 and 15:40 in Oslo).
EARLY = (NOW - timedelta(hours=2, minutes=55), NOW - timedelta(hours=2, minutes=29))
LATE = (NOW + timedelta(hours=3, minutes=40), NOW + timedelta(hours=4, minutes=2))
# Columns that name the row or the address, not the respondent's path; an invitation's creation is the administrator's.
OWN = {"id", "invitation_id", "code_hash", "address_enc", "address_hash", "provider_id"}


def test_two_respondents_finishing_at_different_hours_of_a_day_look_alike(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        early, _ = invite(session, runtime, campaign, phone="+4792000011")
        late, _ = invite(session, runtime, campaign, phone="+4792000012")
        campaign_id, ids = campaign.id, (early.id, late.id)
    _answer_to_the_end(runtime, "+4792000011", interpreter="2", invalid_once=False, start=EARLY[0], finish=EARLY[1])
    _answer_to_the_end(runtime, "+4792000012", interpreter="2", invalid_once=False, start=LATE[0], finish=LATE[1])
    purge_conversation_traces()

    def of_each():
        with runtime.session() as session:
            tables = _dispatch_values(session)
        return [
            {
                name: sorted(
                    str({key: value for key, value in row.items() if key not in OWN and (name, key) != ("invitations", "created_at")})
                    for row in rows
                    if row.get("invitation_id", row.get("id") if name == "invitations" else None) == invitation_id
                )
                for name, rows in tables.items()
            }
            for invitation_id in ids
        ]

    first, second = of_each()
    assert first == second, "completed"
    assert first["invitations"], "the invitations were compared"
    with runtime.transaction() as session:
        close(session, session.get(Campaign, campaign_id), LATE[1] + timedelta(hours=1), runtime)
    purge_conversation_traces()
    first, second = of_each()
    assert first == second, "closed"
