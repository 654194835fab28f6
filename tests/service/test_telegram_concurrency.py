"""One update at a time per chat: concurrent first messages and double taps, on SQLite and PostgreSQL."""
import threading

from sqlalchemy import func
from sqlalchemy import select

from service.infra import db
from service.models import Conversation
from service.models import Invitation
from service.models import OutboxMessage
from service.channels.telegram_updates import handle_update
from tests import factories
from tests.doubles import telegram_updates as updates
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401

CHAT = 5550010
THREADS = 4


def together(runtime, payloads):
    """Apply the updates from parallel threads released at once; returns their results."""
    barrier = threading.Barrier(len(payloads))
    results, errors = [None] * len(payloads), []

    def apply(position, payload):
        barrier.wait()
        try:
            results[position] = handle_update(runtime, payload, factories.NOW)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(n, p)) for n, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


def state(runtime):
    with runtime.session() as session:
        rows = session.scalars(select(Conversation)).all()
        assert len(rows) == 1
        return runtime.vault.decrypt_json(rows[0].state_enc)


def test_concurrent_first_messages_open_one_conversation(tg_runtime):
    with tg_runtime.transaction() as session:
        invitation, code = factories.invite(session, tg_runtime, factories.open_campaign(session))
        invitation_id = invitation.id
    db.dispose_all()
    together(tg_runtime, [updates.start(CHAT, code) for _ in range(THREADS)])
    current = state(tg_runtime)
    assert current["status"] == "active" and current["answers"] == {} and current["attempts"] == 0
    with tg_runtime.session() as session:
        assert session.get(Invitation, invitation_id).status == "started"
        # One welcome with the first question; the others see the survey under way and are shown it again.
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == THREADS


def test_a_double_tap_answers_once(tg_runtime, telegram_api):
    with tg_runtime.transaction() as session:
        _, code = factories.invite(session, tg_runtime, factories.open_campaign(session))
    handle_update(tg_runtime, updates.start(CHAT, code), factories.NOW)
    first = state(tg_runtime)["position"]
    question = {"message_id": 1, "chat": updates.private_chat(CHAT), "date": updates.DATE, "text": "1/13 ...",
                "reply_markup": {"inline_keyboard": [[{"text": "4", "callback_data": f"{first}:3"}], [{"text": "5", "callback_data": f"{first}:4"}]]}}
    db.dispose_all()
    results = together(tg_runtime, [updates.callback(CHAT, question, f"{first}:{3 + n % 2}") for n in range(THREADS)])
    current = state(tg_runtime)
    assert len(current["answers"]) == 1 and current["position"] != first
    assert sorted(call["method"] for call in results) == ["editMessageReplyMarkup"] * (THREADS - 1) + ["editMessageText"]
