"""No path from a stored answer back to a phone number, code, order or time (A1-A4)."""
import logging

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import DateTime
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text

from service.infra import runtime as runtimes
from service.models import Answer
from service.models import Base
from service.models import PooledAnswerSet
from service.models import Response
from service.infra.runtime import Runtime
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.release_support import interim_release

ANSWER_SIDE = {"responses", "answers", "answer_pool"}
SECRET_COMMENT = "Saksbehandleren min Xylofon-Ingrid var flink"


def test_the_answer_side_has_no_key_time_or_sequence_towards_dispatch():
    for table_name in ANSWER_SIDE:
        table = Base.metadata.tables[table_name]
        for key in table.foreign_keys:
            assert key.column.table.name in ANSWER_SIDE, f"{table_name}.{key.parent.name} points at dispatch"
        for column in table.columns:
            assert not isinstance(column.type, DateTime), f"{table_name}.{column.name} is a timestamp"
            if column.primary_key and column.name == "id":
                assert not column.autoincrement or column.type.python_type is str, f"{table_name}.id is a sequence"


@pytest.fixture
def finished(config, redis, caplog):
    """Ten respondents complete in a known order; the pool is flushed."""
    caplog.set_level(logging.DEBUG)
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    phones = [f"+47920000{n:02d}" for n in range(10)]
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        codes = [invite(session, runtime, campaign, phone=phone)[1] for phone in phones]
    for phone in phones:
        say(runtime, phone, "Hei")
        answer_all(runtime, phone, text_answer=f"{SECRET_COMMENT} {phone[-2:]}")
    assert interim_release(campaign.id) == 10
    return runtime, campaign, phones, codes


def _all_rows(session, table_name):
    return session.execute(text(f"SELECT * FROM {table_name}")).mappings().all()


def _readable(runtime, value):
    """A column value as text, decrypted where it is ciphertext."""
    value = str(value)
    try:
        return runtime.vault.decrypt(value)
    except (InvalidToken, ValueError, TypeError):
        return value


def test_answers_hold_nothing_that_identifies_a_respondent(finished):
    runtime, _campaign, phones, codes = finished
    identifying = set(phones) | {code.replace("-", "") for code in codes} | set(codes)
    identifying |= {runtime.vault.address_hash("sms", phone) for phone in phones}
    with runtime.session() as session:
        for table_name in ANSWER_SIDE:
            for row in _all_rows(session, table_name):
                for value in row.values():
                    shown = _readable(runtime, value)
                    assert not any(secret in shown for secret in identifying), f"{table_name} holds {shown!r}"


def test_the_dispatch_side_keeps_no_answer(finished):
    runtime, *_ = finished
    with runtime.session() as session:
        tables = [name for name in inspect(session.bind).get_table_names() if name not in ANSWER_SIDE]
        for table_name in tables:
            for row in _all_rows(session, table_name):
                for value in row.values():
                    assert SECRET_COMMENT not in _readable(runtime, value), f"{table_name} keeps a comment"


def test_stored_order_does_not_follow_completion_order(finished):
    runtime, *_ = finished
    with runtime.session() as session:
        # Physical order as a reader without ORDER BY would see it.
        stored = [row.value for row in session.execute(
            select(Answer.value).where(Answer.question_id == "comment")
        )]
    finishing_order = [f"{SECRET_COMMENT} {n:02d}" for n in range(10)]
    assert sorted(stored) == finishing_order
    assert stored != finishing_order, "answers were written in the order people finished (1 in 3.6 million by chance)"


def test_responses_carry_random_ids_and_the_pool_is_emptied(finished):
    runtime, *_ = finished
    with runtime.session() as session:
        ids = session.scalars(select(Response.id)).all()
        assert len(ids) == 10 and all(len(i) == 32 for i in ids)
        assert ids != sorted(ids) or len(set(ids)) == 10
        assert session.scalars(select(PooledAnswerSet)).all() == []


def test_logs_carry_no_phone_number_code_or_answer(finished, caplog):
    _runtime, _campaign, phones, codes = finished
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [*phones, *codes, SECRET_COMMENT]:
        assert secret not in logged
