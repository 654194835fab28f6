"""Releases (A3): the pool goes to the answer side only at close, or in an interim release of >= k per changed group.

Between releases nothing on the answer side changes, and each release after the
first holds back the groups it changes by 1 to k-1 answers, with their
complements (results.change_holds): comparing two sets of results isolates
no fewer than k answers in any group. A release writes its
sets in shuffled order with fresh random ids; the tables keep no insertion
order (WITHOUT ROWID on SQLite), so neither order nor time links a set to
whoever finished when.
"""
import random
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import results
from ..models import MODES
from ..models import Answer
from ..models import Campaign
from ..models import PooledAnswerSet
from ..models import Release
from ..models import ReleaseRequest
from ..models import Response
from ..models import RespondentGroup
from ..models import ResponseCount
from ..models import Unit
from ..models import random_id
from ..models import utcnow

_shuffle = random.SystemRandom().shuffle
RELEASE_JOB = "workers.store.release_pool"


def release_group(unit_id: int, group_id: int | None) -> tuple:
    """The leaf group results are broken down by; add a breakdown (such as mode) here and releases follow."""
    return (unit_id, group_id)


def answer_mode(channel: str) -> str:
    """The mode a set was answered on: its conversation's channel (a paper code answered by SMS is sms)."""
    # The simulator stands in for a phone's SMS.
    return channel if channel in MODES else "sms"


def pool_answers(session, runtime, invitation, answers: dict, complete: bool, mode: str):
    """Put one answer set in the pool, carrying only what the answer side may hold."""
    session.add(
        PooledAnswerSet(
            campaign_id=invitation.campaign_id,
            unit_id=invitation.unit_id,
            group_id=invitation.group_id,
            language=invitation.language,
            mode=answer_mode(mode),
            complete=complete,
            answers_enc=runtime.vault.encrypt_json(answers),
        )
    )


@dataclass(frozen=True)
class Waiting:
    """What an interim release waits for: pooled sets per group, and how many more each short group needs."""

    pooled: dict
    short: dict

    @property
    def ready(self) -> bool:
        return bool(self.pooled) and not self.short

    @property
    def missing(self) -> int:
        return sum(self.short.values())


def waiting(session, campaign_id: int, k: int) -> Waiting:
    """Whether every group that would change gains at least k answers (a group gaining 3 blocks the release)."""
    rows = session.execute(
        select(PooledAnswerSet.unit_id, PooledAnswerSet.group_id).where(PooledAnswerSet.campaign_id == campaign_id)
    ).all()
    return _tally(rows, k)


def _tally(rows, k: int) -> Waiting:
    """Pooled sets per release group, and the groups short of k."""
    pooled = Counter(release_group(unit_id, group_id) for unit_id, group_id in rows)
    return Waiting(dict(pooled), {group: k - count for group, count in pooled.items() if count < k})


def request_interim(session, campaign: Campaign, k: int) -> Waiting:
    """Record an administrator's request for an interim release; what it waits for. Raises ValueError if it cannot be."""
    if campaign.status != "open":
        raise ValueError("only an open campaign has interim releases; a closed one is released in full")
    if session.get(ReleaseRequest, campaign.id) is None:
        session.add(ReleaseRequest(campaign_id=campaign.id, requested_on=utcnow().date()))
        session.flush()
    return waiting(session, campaign.id, k)


def release_state(session, campaign: Campaign, k: int) -> dict:
    """When results will next change, for the API and the progress page: at close, or what an interim release waits for."""
    state = waiting(session, campaign.id, k)
    names = {unit.id: unit.name for unit in session.scalars(select(Unit).where(Unit.id.in_([u for u, _ in state.short])))}
    groups = {group.id: group.name for group in session.scalars(
        select(RespondentGroup).where(RespondentGroup.id.in_([g for _, g in state.short if g is not None])))}
    short = [
        {"unit_id": unit_id, "unit": names.get(unit_id), "group_id": group_id, "group": groups.get(group_id), "more": more}
        for (unit_id, group_id), more in sorted(state.short.items(), key=lambda item: (item[0][0], item[0][1] or 0))
    ]
    releases = session.scalar(select(func.count()).select_from(Release).where(Release.campaign_id == campaign.id))
    requested = pending_request(session, campaign.id)
    return {
        "next_release": "interim_requested" if requested else ("done" if campaign.status == "closed" and not state.pooled else "at_close"),
        "min_answers_per_group": k,
        "waiting_for": short if requested else [],
        "more_answers_needed": state.missing if requested else 0,
        "releases": releases,
    }


def pending_request(session, campaign_id: int) -> bool:
    """Whether an interim release has been asked for and not yet gone out."""
    return session.get(ReleaseRequest, campaign_id) is not None


def release(session, runtime, campaign_id: int) -> int:
    """Write the campaign's pool to the answer side if a release is due; how many sets went (0 if none)."""
    campaign_query = select(Campaign).where(Campaign.id == campaign_id)
    if session.bind.dialect.name == "postgresql":
        # One release of a campaign at a time: a second worker skips rather than writes a set twice.
        # (SQLite has one writer, so the transaction alone serialises it.)
        campaign_query = campaign_query.with_for_update(skip_locked=True, of=Campaign)
    campaign = session.scalar(campaign_query)
    if campaign is None:
        return 0
    pooled = list(session.scalars(select(PooledAnswerSet).where(PooledAnswerSet.campaign_id == campaign_id)))
    if campaign.status == "closed":
        kind = "close"
    elif pending_request(session, campaign_id):
        # Judged on the very sets written, not on a count taken before a completion slipped in.
        if not _tally([(entry.unit_id, entry.group_id) for entry in pooled], runtime.config.min_cell).ready:
            return 0
        kind = "interim"
    else:
        return 0
    if pooled:
        number = (session.scalar(select(func.max(Release.number)).where(Release.campaign_id == campaign_id)) or 0) + 1
        # After a first release, what this one adds is read by comparing the two: protect that change too.
        before = results.snapshot(session, campaign) if number > 1 else None
        _write(session, runtime, pooled)
        held = results.change_holds(session, campaign, runtime.config.min_cell, before) if before else None
        session.add(Release(campaign_id=campaign_id, number=number, released_on=utcnow().date(), sets=len(pooled),
                            kind=kind, held=held or None))
    session.execute(delete(ReleaseRequest).where(ReleaseRequest.campaign_id == campaign_id))
    return len(pooled)


def _write(session, runtime, pooled: list):
    """Move pooled sets to responses in random order with fresh ids, and count them."""
    _shuffle(pooled)
    responses = [
        Response(id=random_id(), campaign_id=entry.campaign_id, unit_id=entry.unit_id, group_id=entry.group_id,
                 language=entry.language, mode=entry.mode, complete=entry.complete)
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
    session.execute(delete(PooledAnswerSet).where(PooledAnswerSet.id.in_([entry.id for entry in pooled])))
    count_responses(session, pooled[0].campaign_id, len(pooled))


def due_campaigns(session) -> list[int]:
    """Campaigns whose pool may be due: closed with sets waiting, or with an interim request standing."""
    closed = (
        select(PooledAnswerSet.campaign_id).join(Campaign, Campaign.id == PooledAnswerSet.campaign_id)
        .where(Campaign.status == "closed").distinct()
    )
    requested = select(ReleaseRequest.campaign_id)
    return sorted(set(session.scalars(closed)) | set(session.scalars(requested)))


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
