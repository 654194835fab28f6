"""The reminder sweep on a controllable clock: when, to whom, never twice, and what survives a crash."""
import threading
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from sqlalchemy import select
from sqlalchemy import update

from flows.model import State
from flows.model import Status
from service.dispatch import closing
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.models import ReminderSend
from service.progress.rates import progress
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.workers.reminder_world import DAY
from tests.workers.reminder_world import LAUNCH
from tests.workers.reminder_world import drain
from tests.workers.reminder_world import invitation
from tests.workers.reminder_world import launched
from tests.workers.reminder_world import phone
from tests.workers.reminder_world import rows
from tests.workers.reminder_world import sends
from workers import reminders as reminder_sweep
from workers import send as send_worker
from workers.reminders import sweep_reminders
from workers.schedule import sweep_outbox


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_the_first_reminder_goes_three_days_after_and_only_once(send_runtime, twilio_api):
    _campaign_id, [first, *_] = launched(send_runtime)
    assert drain(send_runtime, LAUNCH) == {"sent": 3}
    assert invitation(send_runtime, first).next_reminder_at == LAUNCH + 3 * DAY

    assert sweep_reminders(LAUNCH + 3 * DAY - timedelta(minutes=1)) == 0
    assert sweep_reminders(LAUNCH + 3 * DAY) == 3
    assert sweep_reminders(LAUNCH + 3 * DAY + timedelta(minutes=1)) == 0
    reminder = rows(send_runtime)[0]
    assert "2. november" in reminder.body and "STOP" in reminder.body
    assert drain(send_runtime, LAUNCH + 3 * DAY) == {"sent": 3}
    assert len(twilio_api.messages) == 6
    sent = invitation(send_runtime, first)
    assert (sent.reminder_count, sent.next_reminder_at) == (1, LAUNCH + 7 * DAY)
    assert sends(send_runtime) == 3


def test_the_whole_policy_three_reminders_and_a_last_chance(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1, language="en")
    drain(send_runtime, LAUNCH)
    moments = [LAUNCH + days * DAY for days in (3, 7, 10)] + [utc(2026, 10, 31, 8, 0)]  # 2 days before 2 Nov, 09:00 CET
    for moment in moments:
        assert sweep_reminders(moment) == 1, moment
        drain(send_runtime, moment)
    assert sweep_reminders(utc(2026, 11, 2, 9, 0)) == 0
    bodies = [message["body"] for message in twilio_api.messages]
    assert len(bodies) == 5 and bodies[-1].startswith("Last chance")
    assert invitation(send_runtime, only).next_reminder_at is None


def test_a_launch_at_night_invites_at_nine_and_reminds_from_there(send_runtime, twilio_api):
    night = utc(2026, 10, 5, 20, 0)  # 22:00 in Oslo
    _campaign_id, [only] = launched(send_runtime, count=1, at=night)
    [row] = rows(send_runtime, "invitation")
    assert row.not_before == utc(2026, 10, 6, 7, 0)
    # The queued job finds it not yet due; the sweeper leaves it until the window opens.
    assert drain(send_runtime, night) == {"skipped": 1}
    assert sweep_outbox(utc(2026, 10, 6, 6, 0)) == 0
    assert sweep_outbox(utc(2026, 10, 6, 7, 1)) == 1
    assert drain(send_runtime, utc(2026, 10, 6, 7, 1)) == {"sent": 1}
    assert invitation(send_runtime, only).next_reminder_at == utc(2026, 10, 9, 7, 0)


def test_a_sweep_after_hours_waits_for_the_morning(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1)
    late = utc(2026, 10, 8, 19, 30)  # 21:30 in Oslo; the reminder was due at noon but the workers were down
    assert sweep_reminders(late) == 0
    assert invitation(send_runtime, only).next_reminder_at == utc(2026, 10, 9, 7, 0)
    assert sweep_reminders(utc(2026, 10, 9, 7, 0)) == 1


def test_a_reminder_written_before_the_window_shut_is_held_at_send(send_runtime, twilio_api):
    launched(send_runtime, count=1)
    drain(send_runtime, LAUNCH)
    sweep_reminders(LAUNCH + 3 * DAY)
    evening = utc(2026, 10, 8, 18, 0)  # 20:00 in Oslo: the job ran late
    assert drain(send_runtime, evening) == {"waiting": 1}
    [row] = rows(send_runtime)
    assert (row.status, row.not_before, row.attempts) == ("pending", utc(2026, 10, 9, 7, 0), 0)
    assert len(twilio_api.messages) == 1


def test_nobody_who_completed_or_opted_out_is_reminded(send_runtime, twilio_api):
    campaign_id, [done, stopped, elsewhere, waiting] = launched(send_runtime, count=4)
    drain(send_runtime, LAUNCH)
    say(send_runtime, phone(0), "hei", now=LAUNCH + DAY)
    answer_all(send_runtime, phone(0))
    say(send_runtime, phone(1), "STOP", now=LAUNCH + DAY)
    with send_runtime.transaction() as session:
        organisation_id = session.get(Campaign, campaign_id).organisation_id
        # STOP to another of the organisation's campaigns holds here too.
        session.add(OptOut(organisation_id=organisation_id, address_hash=send_runtime.vault.address_hash("sms", phone(2))))
    assert sweep_reminders(LAUNCH + 3 * DAY) == 1
    assert [row.invitation_id for row in rows(send_runtime)] == [waiting]
    for invitation_id in (done, stopped, elsewhere):
        assert invitation(send_runtime, invitation_id).next_reminder_at is None


def test_a_completion_between_sweep_and_send_stops_the_reminder(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1, language="en")
    drain(send_runtime, LAUNCH)
    sweep_reminders(LAUNCH + 3 * DAY)
    # The respondent answers while the reminder waits in the queue.
    say(send_runtime, phone(0), "hello", now=LAUNCH + 3 * DAY)
    answer_all(send_runtime, phone(0))
    before = len(twilio_api.messages)
    outcome = drain(send_runtime, LAUNCH + 3 * DAY + timedelta(minutes=1))
    assert outcome.get("failed") == 1
    reminder = next(row for row in rows(send_runtime) if row.invitation_id == only)
    assert (reminder.status, reminder.error_code, reminder.body) == ("failed", "completed", None)
    sent = [message["body"] for message in twilio_api.messages[before:]]
    assert not any(body.startswith("Reminder") for body in sent)
    # Attributed to the invitation: the reminder never went.
    assert invitation(send_runtime, only).completed_after == 0


def test_nothing_goes_after_closing(send_runtime, twilio_api):
    campaign_id, _ids = launched(send_runtime, count=2)
    drain(send_runtime, LAUNCH)
    sweep_reminders(LAUNCH + 3 * DAY)
    with send_runtime.transaction() as session:
        # A worker claimed one just before the close; the other still waits.
        first = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).first()
        first.status = "sending"
    with send_runtime.transaction() as session:
        closing.close(session, session.get(Campaign, campaign_id), LAUNCH + 3 * DAY)
    assert {row.status for row in rows(send_runtime)} == {"failed", "sending"}
    assert sweep_reminders(LAUNCH + 7 * DAY) == 0
    # The sweeper gives the claimed row back; the send worker refuses it for the closed campaign.
    sweep_outbox(LAUNCH + 3 * DAY + timedelta(minutes=10))
    drain(send_runtime, LAUNCH + 3 * DAY + timedelta(minutes=10))
    assert [row.status for row in rows(send_runtime)] == ["failed", "failed"]
    assert len(twilio_api.messages) == 2


def test_progress_attributes_completions_to_the_last_reminder_sent(send_runtime, twilio_api):
    campaign_id, _ids = launched(send_runtime, count=4)
    drain(send_runtime, LAUNCH)
    say(send_runtime, phone(0), "hei", now=LAUNCH + DAY)
    answer_all(send_runtime, phone(0))
    sweep_reminders(LAUNCH + 3 * DAY)
    drain(send_runtime, LAUNCH + 3 * DAY)
    for n in (1, 2):
        say(send_runtime, phone(n), "hei", now=LAUNCH + 4 * DAY)
        answer_all(send_runtime, phone(n))
    with send_runtime.session() as session:
        report = progress(session, session.get(Campaign, campaign_id))
    assert report["completed_after"] == [{"reminders": 0, "completed": 1}, {"reminders": 1, "completed": 2}]
    assert report["units"][0]["completed_after"] == report["completed_after"]


def test_mid_survey_the_engine_says_how_many_questions_are_left(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1, language="en")
    drain(send_runtime, LAUNCH)
    say(send_runtime, phone(0), "hello", now=LAUNCH + DAY)
    say(send_runtime, phone(0), "5", now=LAUNCH + DAY)
    with send_runtime.session() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.invitation_id == only))
        before = State.from_dict(send_runtime.vault.decrypt_json(conversation.state_enc))
    assert sweep_reminders(LAUNCH + 3 * DAY) == 1
    [reminder] = rows(send_runtime)
    assert "questions left" in reminder.body and reminder.body.endswith("Please answer by November 2. Send STOP to opt out.")
    assert reminder.options  # the question again, with its buttons
    with send_runtime.session() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.invitation_id == only))
        after = State.from_dict(send_runtime.vault.decrypt_json(conversation.state_enc))
    assert (after.status, after.position, after.answers) == (Status.ACTIVE, before.position, before.answers)
    assert invitation(send_runtime, only).reminder_count == 1


def test_someone_answering_right_now_is_not_interrupted(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1)
    drain(send_runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    say(send_runtime, phone(0), "hei", now=due - timedelta(minutes=10))
    assert sweep_reminders(due) == 0
    assert invitation(send_runtime, only).next_reminder_at == due + timedelta(minutes=50)
    assert sweep_reminders(due + timedelta(minutes=50)) == 1


def test_a_stalled_respondent_is_nudged_once(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1, language="en")
    drain(send_runtime, LAUNCH)
    say(send_runtime, phone(0), "hello", now=LAUNCH + timedelta(hours=1))
    assert sweep_reminders(LAUNCH + timedelta(hours=20)) == 0
    assert sweep_reminders(LAUNCH + timedelta(hours=25)) == 1
    assert sweep_reminders(LAUNCH + timedelta(hours=49)) == 0
    [nudge] = rows(send_runtime)
    assert "questions left" in nudge.body
    with send_runtime.session() as session:
        assert session.scalars(select(ReminderSend.number)).all() == [0]
    # The nudge is no step of the schedule: the 3-day reminder still comes.
    assert invitation(send_runtime, only).reminder_count == 0
    assert sweep_reminders(LAUNCH + 3 * DAY) == 1


def test_redis_flushed_mid_wave_loses_and_duplicates_nothing(send_runtime, twilio_api):
    _campaign_id, ids = launched(send_runtime, count=20)
    drain(send_runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    assert sweep_reminders(due) == 20
    send_runtime.redis.flushall()  # the queued send jobs (and the pace) are gone
    assert sweep_reminders(due + timedelta(minutes=1)) == 0
    assert sweep_outbox(due + timedelta(minutes=2)) == 20
    assert drain(send_runtime, due + timedelta(minutes=2)) == {"sent": 20}
    assert len(rows(send_runtime)) == 20 and sends(send_runtime) == 20
    to = [message["to"] for message in twilio_api.messages]
    assert len(to) == 40 and sorted(set(to)) == sorted(phone(n) for n in range(20))


def test_a_sweep_killed_mid_batch_leaves_no_trace_and_the_next_does_it_all(send_runtime, twilio_api, monkeypatch):
    _campaign_id, ids = launched(send_runtime, count=10)
    drain(send_runtime, LAUNCH)
    written = []
    real = reminder_sweep.reminder_row

    def dies_on_the_sixth(*args, **kwargs):
        if len(written) == 5:
            raise SystemExit("worker killed")
        written.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(reminder_sweep, "reminder_row", dies_on_the_sixth)
    with pytest.raises(SystemExit):
        sweep_reminders(LAUNCH + 3 * DAY)
    assert rows(send_runtime) == [] and sends(send_runtime) == 0
    assert invitation(send_runtime, ids[0]).reminder_count == 0
    monkeypatch.setattr(reminder_sweep, "reminder_row", real)
    assert sweep_reminders(LAUNCH + 3 * DAY) == 10
    assert drain(send_runtime, LAUNCH + 3 * DAY) == {"sent": 10}


def test_a_lost_schedule_update_cannot_send_twice(send_runtime, twilio_api):
    _campaign_id, [only] = launched(send_runtime, count=1)
    drain(send_runtime, LAUNCH)
    sweep_reminders(LAUNCH + 3 * DAY)
    with send_runtime.transaction() as session:
        # As if the invitation's schedule were restored from before the sweep.
        session.execute(update(Invitation).values(reminder_count=0, next_reminder_at=LAUNCH + 3 * DAY))
    assert sweep_reminders(LAUNCH + 3 * DAY + timedelta(minutes=5)) == 0
    assert len(rows(send_runtime)) == 1
    assert invitation(send_runtime, only).next_reminder_at == LAUNCH + 7 * DAY


def test_a_batch_mixing_lost_schedules_and_new_reminders_writes_only_the_new(send_runtime, twilio_api):
    _campaign_id, ids = launched(send_runtime, count=6)
    drain(send_runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    with send_runtime.transaction() as session:
        session.execute(update(Invitation).where(Invitation.id.in_(ids[3:])).values(next_reminder_at=due + timedelta(hours=1)))
    assert sweep_reminders(due) == 3
    with send_runtime.transaction() as session:
        # The first three lose their schedule update; the others come due: one batch of both.
        session.execute(update(Invitation).where(Invitation.id.in_(ids[:3])).values(reminder_count=0, next_reminder_at=due))
    assert sweep_reminders(due + timedelta(hours=1)) == 3
    assert sorted(row.invitation_id for row in rows(send_runtime)) == sorted(ids) and sends(send_runtime) == 6
    with send_runtime.session() as session:
        linked = session.execute(
            select(ReminderSend.invitation_id, OutboxMessage.invitation_id)
            .join(OutboxMessage, OutboxMessage.id == ReminderSend.outbox_id)
        ).all()
    assert len(linked) == 6 and all(record == row for record, row in linked)
    assert {invitation(send_runtime, ident).reminder_count for ident in ids} == {1}
    assert drain(send_runtime, due + timedelta(hours=1)) == {"sent": 6}


def test_a_worker_killed_between_claim_and_send(send_runtime, twilio_api):
    launched(send_runtime, count=1)
    drain(send_runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    sweep_reminders(due)
    [reminder] = rows(send_runtime)
    assert send_worker._claim(send_runtime, reminder.id, due) not in ("skipped", "failed")
    send_runtime.redis.flushall()  # the worker died holding the row; its job is gone too
    assert sweep_outbox(due + timedelta(minutes=4)) == 0
    assert sweep_outbox(due + timedelta(minutes=6)) == 1
    assert drain(send_runtime, due + timedelta(minutes=6)) == {"sent": 1}
    assert [row.status for row in rows(send_runtime)] == ["sent"]
    assert len(twilio_api.messages) == 2


def test_sweeps_running_at_once_write_each_reminder_once(send_runtime, twilio_api):
    _campaign_id, ids = launched(send_runtime, count=60)
    drain(send_runtime, LAUNCH)
    counts, errors = [], []

    def sweep():
        try:
            counts.append(sweep_reminders(LAUNCH + 3 * DAY))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(counts) == 60
    assert len(rows(send_runtime)) == 60 and sends(send_runtime) == 60


@pytest.mark.skipif("not __import__('os').environ.get('TEST_DATABASE_URL')", reason="row locks need PostgreSQL")
def test_a_completion_holding_the_row_is_skipped_not_reminded(send_runtime, twilio_api):
    _campaign_id, [busy, free] = launched(send_runtime, count=2)
    drain(send_runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    with send_runtime.transaction() as session:
        # The runner is completing this respondent right now: it holds the invitation row.
        locked = session.scalar(select(Invitation).where(Invitation.id == busy).with_for_update())
        assert sweep_reminders(due) == 1
        locked.status = "completed"
    assert [row.invitation_id for row in rows(send_runtime)] == [free]
    assert sweep_reminders(due + timedelta(minutes=1)) == 0
