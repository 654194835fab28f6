"""Nothing on the dispatch side says who was nudged, that is who started and went quiet (A1)."""
from datetime import timedelta

from sqlalchemy import select

from service.dispatch.closing import close
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderSend
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from workers.reminders import sweep_reminders
from workers.schedule import purge_conversation_traces
from workers.send_rows import record_sent

# Monday 12:00 in Oslo; the nudge goes 25 hours later, inside Tuesday's sending window.
NUDGE_AT = NOW + timedelta(hours=25)
NUDGED, STRAIGHT, STALLED, SILENT = "+4792100001", "+4792100002", "+4792100003", "+4792100004"


def _settle(runtime, kinds, now):
    """The provider accepts the pending rows of these kinds, through the send path's own recording."""
    with runtime.transaction() as session:
        ids = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == "pending", OutboxMessage.kind.in_(kinds))
        ).all()
        for outbox_id in ids:
            record_sent(session.connection(), outbox_id, f"SM{outbox_id:032d}", now)


def _traces(runtime, invitation_id) -> dict:
    """What the dispatch side keeps of one invitation, without its own ids and times."""
    with runtime.session() as session:
        invitation = session.get(Invitation, invitation_id)
        sends = session.scalars(select(ReminderSend).where(ReminderSend.invitation_id == invitation_id)).all()
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == invitation_id)).all()
        return {
            "invitation": (invitation.status, invitation.reminder_count, invitation.completed_after),
            "reminder_sends": sorted((send.number, send.kind) for send in sends),
            "outbox": sorted((row.kind, row.status, row.question_id, str(row.options)) for row in rows),
        }


def test_no_trace_of_a_nudge_after_completion_or_close(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        invitations = {phone: invite(session, runtime, campaign, phone=phone)[0] for phone in (NUDGED, STRAIGHT, STALLED, SILENT)}
        for invitation in invitations.values():
            # Invited now, as a launch would: the first reminder is due in three days.
            invitation.invited_at, invitation.next_reminder_at = NOW, NOW + timedelta(days=3)
        session.flush()
        ids = {phone: invitation.id for phone, invitation in invitations.items()}
        campaign_id = campaign.id
    # STRAIGHT answers at once; NUDGED and STALLED start and go quiet; SILENT never answers.
    say(runtime, STRAIGHT, "Hei", now=NOW)
    answer_all(runtime, STRAIGHT)
    for phone in (NUDGED, STALLED):
        say(runtime, phone, "Hei", now=NOW)
    _settle(runtime, ("reply",), NOW)
    assert sweep_reminders(NUDGE_AT) == 2
    with runtime.session() as session:
        assert sorted(session.scalars(select(ReminderSend.kind))) == ["nudge", "nudge"], "the nudges went out"
    # The provider takes the nudges; NUDGED answers the repeated question and goes on to the end.
    _settle(runtime, ("reminder",), NUDGE_AT)
    say(runtime, NUDGED, "Hei", now=NUDGE_AT)
    answer_all(runtime, NUDGED)
    _settle(runtime, ("reply", "reminder"), NUDGE_AT)
    purge_conversation_traces()
    assert _traces(runtime, ids[NUDGED]) == _traces(runtime, ids[STRAIGHT]), "completed: nudged or not, alike"

    # The first reminder: STALLED hears it inside the conversation, SILENT as a plain reminder.
    assert sweep_reminders(NOW + timedelta(days=3)) == 2
    _settle(runtime, ("reminder",), NOW + timedelta(days=3))
    with runtime.transaction() as session:
        close(session, session.get(Campaign, campaign_id), NOW + timedelta(days=3, hours=1), runtime)
    purge_conversation_traces()
    assert _traces(runtime, ids[NUDGED]) == _traces(runtime, ids[STRAIGHT]), "closed: nudged or not, alike"
    stalled, silent = _traces(runtime, ids[STALLED]), _traces(runtime, ids[SILENT])
    # Their status says started or not (progress counts it); the reminders say no more than that.
    assert (stalled["reminder_sends"], stalled["outbox"]) == (silent["reminder_sends"], silent["outbox"])
    with runtime.session() as session:
        assert session.scalars(select(ReminderSend).where(ReminderSend.kind == "nudge")).all() == []
