"""After close no gap or order in the outbox ids counts a conversation's messages (A1)."""
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy import select

from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderSend
from service.models import utcnow
from tests.service.api_data import PHONES
from tests.service.api_data import make_world
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.test_campaign_lifecycle import add
from tests.service.test_campaign_lifecycle import create
from tests.service.test_campaign_lifecycle import launch
from workers.reminders import sweep_reminders
from workers.schedule import close_due_campaigns
from workers.schedule import purge_conversation_traces
from workers.send_rows import record_sent

DAY = timedelta(days=1)
# Mid-morning in Oslo, so every reminder falls inside the sending window whenever the test runs.
NOW = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)


def _settle(runtime, now):
    """The provider accepts every pending row, through the send path's own recording."""
    with runtime.transaction() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.invitation_id).where(OutboxMessage.status == "pending")).all()
        for outbox_id, kind, invitation_id in rows:
            record_sent(session.connection(), outbox_id, f"SM{outbox_id:032d}", now, invitation_id if kind == "invitation" else None)


def _kept(runtime, campaign_id):
    with runtime.session() as session:
        invitations = select(Invitation.id).where(Invitation.campaign_id == campaign_id)
        return session.execute(
            select(OutboxMessage.id, OutboxMessage.invitation_id, OutboxMessage.kind, OutboxMessage.created_at)
            .where(or_(OutboxMessage.campaign_id == campaign_id, OutboxMessage.invitation_id.in_(invitations)))
            .order_by(OutboxMessage.id)
        ).all()


def test_kept_rows_are_numbered_without_gaps_in_invitation_order_after_close(runtime):
    world = make_world(runtime)
    closes_at = NOW + 14 * DAY
    campaign_id = create(runtime, world, closes_at=closes_at)
    add(runtime, campaign_id, [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES])
    launch(runtime, campaign_id, NOW)
    _settle(runtime, NOW)
    # The first completes on day 1, between the invitations and the first reminders; the second between two reminder waves.
    say(runtime, PHONES[0], "Hei", now=NOW + DAY)
    answer_all(runtime, PHONES[0])
    _settle(runtime, NOW + DAY)
    assert sweep_reminders(NOW + 3 * DAY) == 3
    _settle(runtime, NOW + 3 * DAY)
    say(runtime, PHONES[1], "Hei", now=NOW + 4 * DAY)
    answer_all(runtime, PHONES[1])
    _settle(runtime, NOW + 4 * DAY)
    assert sweep_reminders(NOW + 7 * DAY) == 2
    _settle(runtime, NOW + 7 * DAY)
    purge_conversation_traces()
    before = [row.id for row in _kept(runtime, campaign_id)]
    assert before != list(range(before[0], before[0] + len(before))), "the deleted replies left gaps"

    assert close_due_campaigns(closes_at) == 1
    purge_conversation_traces()
    kept = _kept(runtime, campaign_id)
    ids = [row.id for row in kept]
    assert len(kept) == len(PHONES) + 3 + 2, "invitations and reminders stay, for progress"
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert [row.invitation_id for row in kept] == sorted(row.invitation_id for row in kept)
    with runtime.session() as session:
        linked = set(session.scalars(select(ReminderSend.outbox_id)))
    assert linked == {row.id for row in kept if row.kind == "reminder"}, "reminder records follow their rows"
