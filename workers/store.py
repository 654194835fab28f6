"""Completed answers move to the anonymous answer side through a mixing pool (A3).

A completed answer set first waits, encrypted, in the pool. Only when at
least `mix_batch` sets of a campaign are waiting (or the campaign closes)
are they written to `responses`, shuffled, with fresh random ids, so neither
the order of rows nor the moment of writing tells who finished when.
"""
import random

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service import results_cache
from service import runtime as runtimes
from service.models import Answer
from service.models import Campaign
from service.models import PooledAnswerSet
from service.models import Response
from service.models import ResponseCount
from service.models import random_id
from service.queue import after_commit
from service.surveys import survey_of

_shuffle = random.SystemRandom().shuffle


def pool_answers(session, runtime, invitation, answers: dict, complete: bool, flush: bool = True):
    """Put one answer set in the pool, carrying only what the answer side may hold.

    `flush=False` when the caller queues one forced flush for many sets (closing).
    """
    session.add(
        PooledAnswerSet(
            campaign_id=invitation.campaign_id,
            unit_id=invitation.unit_id,
            group_id=invitation.group_id,
            language=invitation.language,
            complete=complete,
            answers_enc=runtime.vault.encrypt_json(answers),
        )
    )
    if flush:
        after_commit(session, flush_pool, invitation.campaign_id)


def flush_pool(campaign_id: int, force: bool = False) -> int:
    """Job: write the campaign's pooled sets once there are enough (or all, if forced)."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        written = write_pooled(session, runtime, campaign_id, minimum=1 if force else runtime.config.mix_batch)
        if written:
            # Readers keep the previous table until warm_results has computed the new one.
            results_cache.mark_warming(runtime, campaign_id)
            after_commit(session, warm_results, campaign_id)
    return written


def warm_results(campaign_id: int):
    """Job: compute the campaign's protected results for its current responses, so no reader waits for them."""
    runtime = runtimes.current()
    config = runtime.config
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return
        offered = survey_of(campaign.survey_version).languages
        languages = [language for language in dict.fromkeys([campaign.default_language, *(campaign.languages or [])])
                     if language in offered]
        results_cache.warm(session, runtime, campaign, languages, min_cell=config.min_cell, min_comments=config.min_comments)


def write_pooled(session, runtime, campaign_id: int, minimum: int) -> int:
    """Move pooled sets to responses in random order; nothing if fewer than `minimum` wait."""
    query = select(PooledAnswerSet).where(PooledAnswerSet.campaign_id == campaign_id)
    if session.bind.dialect.name == "postgresql":
        # Two flushes at once must not write the same set twice.
        query = query.with_for_update(skip_locked=True)
    pooled = list(session.scalars(query))
    if len(pooled) < minimum:
        return 0
    _shuffle(pooled)
    responses = [
        Response(
            id=random_id(),
            campaign_id=entry.campaign_id,
            unit_id=entry.unit_id,
            group_id=entry.group_id,
            language=entry.language,
            complete=entry.complete,
        )
        for entry in pooled
    ]
    session.add_all(responses)
    # Answers reference responses by foreign key only, so write responses first.
    session.flush()
    for response, entry in zip(responses, pooled):
        answers = runtime.vault.decrypt_json(entry.answers_enc)
        session.add_all(
            Answer(response_id=response.id, question_id=question_id, value=value, number=_number(value))
            for question_id, value in answers.items()
        )
    session.execute(delete(PooledAnswerSet).where(PooledAnswerSet.id.in_([p.id for p in pooled])))
    count_responses(session, campaign_id, len(pooled))
    return len(pooled)


def count_responses(session, campaign_id: int, added: int):
    """Add `added` to the campaign's response counter, in the transaction that wrote them."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(ResponseCount).values(campaign_id=campaign_id, responses=added)
    session.execute(statement.on_conflict_do_update(
        index_elements=[ResponseCount.campaign_id], set_={"responses": ResponseCount.responses + added},
    ))


def _number(value):
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float)) else None
