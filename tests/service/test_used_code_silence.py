"""A used code from a stranger is a wrong code, over SMS and Telegram: same bytes, same queries, about the same time (A7)."""
import statistics
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from service.infra import db
from service.conversation.inbound import InboundMessage
from service.conversation.runner import handle_inbound
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import last_reply

OWNER = {"sms": "+4791111111", "telegram": "7000001"}
WRONG = "ABCD-EFGH"
_ids = iter(range(10**6))


def stranger(channel: str, n: int) -> str:
    return f"+4795{n:06d}" if channel == "sms" else f"81{n:06d}"


def send(runtime, channel, address, text, deep_link=False):
    message = InboundMessage(channel=channel, external_id=f"X{next(_ids):032d}", address=address,
                             text=text if not deep_link else f"/start {text}", code=text if deep_link else None)
    handle_inbound(runtime, message, NOW)


@contextmanager
def statements(runtime):
    """The SQL the block runs, without its parameters."""
    engine = db.engine_for(runtime.config.database_url, runtime.config.db_lock_timeout)
    seen = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def used_code(runtime, channel: str) -> str:
    """The code of an invitation sent to OWNER on `channel` and answered."""
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _invitation, code = invite(session, runtime, campaign, phone=OWNER[channel], channel=channel, language="en",
                                   status="completed")
    return code


# Typed over SMS, typed in Telegram, and Telegram's deep link t.me/<bot>?start=CODE.
@pytest.mark.parametrize("channel, deep_link", [("sms", False), ("telegram", False), ("telegram", True)])
def test_a_used_code_and_a_wrong_code_get_the_same_bytes_and_the_same_queries(runtime, channel, deep_link):
    code = used_code(runtime, channel)
    with statements(runtime) as used_sql:
        send(runtime, channel, stranger(channel, 1), code, deep_link)
    with statements(runtime) as wrong_sql:
        send(runtime, channel, stranger(channel, 2), WRONG, deep_link)
    used, wrong = last_reply(runtime, stranger(channel, 1)), last_reply(runtime, stranger(channel, 2))
    assert used.body.encode("utf-8") == wrong.body.encode("utf-8")
    assert (used.options, used.invitation_id, used.campaign_id, used.kind) == (wrong.options, wrong.invitation_id, wrong.campaign_id, wrong.kind)
    # Same code path: the same statements, in the same order; no extra lookup a stranger could time.
    assert used_sql == wrong_sql
    # The owner alone hears that it was answered.
    send(runtime, channel, OWNER[channel], code, deep_link)
    assert last_reply(runtime, OWNER[channel]).body != wrong.body


def test_a_used_code_takes_about_as_long_as_a_wrong_one(runtime):
    channel = "sms"
    code = used_code(runtime, channel)
    timings = {"used": [], "wrong": []}
    for n in range(40):
        # Interleaved, so a slow moment of the machine falls on both.
        for kind, text in (("used", code), ("wrong", WRONG)):
            start = time.perf_counter()
            send(runtime, channel, stranger(channel, 100 + 2 * n + (kind == "wrong")), text)
            timings[kind].append(time.perf_counter() - start)
    used, wrong = statistics.median(timings["used"]), statistics.median(timings["wrong"])
    # Roughly: the medians within a third of each other (each try writes a reply and commits; a
    # difference a stranger could see over SMS would be a query more, not microseconds).
    assert abs(used - wrong) <= max(used, wrong) / 3, (used, wrong)
