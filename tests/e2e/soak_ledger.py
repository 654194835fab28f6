"""The soak's ledger: messages expected, sent, duplicated and lost; answers expected, stored and linkable."""
import json
import logging
from collections import Counter
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from sqlalchemy import DateTime
from sqlalchemy import select
from sqlalchemy import text

from flows.definitions import bundled_survey
from flows.engine import resume
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from service.models import Base
from service.models import Conversation
from service.models import Invitation
from service.models import OutboxMessage
from service.models import PooledAnswerSet
from service.infra.runtime import Runtime
from tests.factories import NOW
from tests.e2e.soak_world import QUESTION
from tests.e2e.soak_world import answer_for

ANSWER_SIDE = ("responses", "answers", "answer_pool")


def answers_per_respondent() -> int:
    """How many answers the simulated respondent leaves, from the engine itself."""
    survey = bundled_survey("introduction-programme")
    state, reply = State(language="nb"), "Hei"
    while state.status.value not in ("completed", "opted_out"):
        sprint = resume(survey, state, Inbound(InboundKind.MESSAGE, reply), NOW)
        state = sprint.state
        if sprint.outbound and QUESTION.search(sprint.outbound[-1].text):
            reply = answer_for(sprint.outbound[-1].text)
    return len(state.answers)


class UnsureSends(logging.Handler):
    """What the outbox sweeper decided about rows left unsure, from workers/unsure_sends.py's log in this process.

    Counted from the log, not the rows: a finished conversation's rows are deleted (A1), counts and all.
    """

    KINDS = {
        "cannot say; sent again": "telegram_sent_again",
        "the provider had it": "sms_found",
        "sent again without asking": "sms_sent_again",
        "could not look up": "lookup_failed",
    }

    def __init__(self):
        super().__init__(logging.INFO)
        self.counts = Counter()
        self._logger = logging.getLogger("workers.unsure_sends")
        self._level = self._logger.level

    def __enter__(self):
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *_exc):
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def emit(self, record):
        for words, kind in self.KINDS.items():
            if words in str(record.msg):
                self.counts[kind] += 1


def messages(config, twilio, telegram, unsure: Counter) -> dict:
    """Outbox rows against what the doubles received: SMS by the ?ref= of each status callback, Telegram by chat and text."""
    with Runtime(config).session() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.kind, OutboxMessage.status)).all()
    sms_rows = {row.id: row.status for row in rows if row.channel == "sms"}
    chat_rows = [row for row in rows if row.channel == "telegram" and row.kind != "ack"]
    by_ref = Counter(int(parse_qs(urlsplit(m["status_callback"]).query)["ref"][0]) for m in list(twilio.messages))
    by_chat_text = Counter((m["chat"]["id"], m["text"]) for m in list(telegram.sent))
    expected = len(sms_rows) + len(chat_rows)
    sent = sum(1 for outbox_id in sms_rows if by_ref[outbox_id]) + min(len(by_chat_text), len(chat_rows))
    sms_duplicates = sum(count - 1 for count in by_ref.values() if count > 1)
    chat_duplicates = sum(count - 1 for count in by_chat_text.values() if count > 1)
    return {
        "expected": expected,
        "sent": sent,
        "duplicated": sms_duplicates + chat_duplicates,
        # An SMS row Twilio took twice (each create names its row in the callback URL's ?ref=): these must be none.
        "duplicated_confirmed": sms_duplicates,
        "duplicated_telegram": chat_duplicates,
        # Telegram cannot say whether it took a message its worker died waiting for: each one sent again is a possible duplicate.
        "telegram_sent_again_unsure": unsure["telegram_sent_again"],
        # SMS rows the sweeper found unsure: found in Twilio's list (not sent again), or sent again past the lookups' cap.
        "sms_found_unsure": unsure["sms_found"],
        "sms_sent_again_unsure": unsure["sms_sent_again"],
        "lookups_failed": unsure["lookup_failed"],
        "lost": expected - sent,
        "not_final": sum(1 for row in rows if row.status in ("pending", "sending")),
        "failed": sum(1 for row in rows if row.status in ("failed", "undelivered")),
    }


def answers(config, respondents: int, secrets: list[str]) -> dict:
    """Answer sets and answers kept on the answer side, and how many of its rows could be tied to a respondent."""
    runtime = Runtime(config)
    with runtime.session() as session:
        hashes = [value for row in session.execute(select(Invitation.address_hash, Invitation.code_hash)).all() for value in row if value]
        needles = [needle for needle in (*secrets, *hashes) if needle]
        rows = {table: session.execute(text(f"SELECT * FROM {table}")).mappings().all() for table in ANSWER_SIDE}
        pooled = [runtime.vault.decrypt_json(answers) for answers in session.scalars(select(PooledAnswerSet.answers_enc))]
        conversations = session.scalar(select(text("count(*)")).select_from(Conversation))
    per_set = answers_per_respondent()
    stored = len(rows["answers"]) + sum(len(answers) for answers in pooled)
    linkable = 0
    for table, table_rows in rows.items():
        for row in table_rows:
            linkable += _ties(row, needles)
    linkable += sum(_ties(answers, needles) for answers in pooled)
    linkable += _structural_links()
    return {
        "sets_expected": respondents,
        "sets_stored": len(rows["responses"]) + len(pooled),
        "expected": respondents * per_set,
        "stored": stored,
        "linkable": linkable,
        "conversations_left": conversations,
    }


def _ties(row, needles) -> int:
    """1 if any value of the row holds a phone, chat id, code or keyed hash of a respondent."""
    blob = json.dumps(dict(row) if hasattr(row, "keys") else row, default=str)
    return int(any(needle in blob for needle in needles))


def _structural_links() -> int:
    """Columns that could tie an answer to a respondent or a time: keys towards dispatch, timestamps."""
    links = 0
    for table_name in ANSWER_SIDE:
        table = Base.metadata.tables[table_name]
        links += sum(1 for key in table.foreign_keys if key.column.table.name not in ANSWER_SIDE)
        links += sum(1 for column in table.columns if isinstance(column.type, DateTime))
    return links
