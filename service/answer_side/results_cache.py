"""Protected results computed once per pool flush, by a worker, not once per page view.

`campaign_results` counts every answer and runs the suppression audit: seconds
for a large campaign. Its output changes only when the mixing pool writes a
batch of responses, and the pool flush counts those in `response_counts` (one
primary-key read instead of a count(*) over every response). Two entries per
campaign live in Redis, each tagged with the response count it was computed at:

- the counted and protected figures (`results.Counted`, shown figures only,
  as JSON: see service/answer_side/counted_json.py), the same for every language and
  unit scope: the seconds-long part;
- per language, thresholds and unit scope, the encoded JSON document, which
  the API returns as it is.

A pool flush marks the campaign as warming and queues `warm`, which computes
both for the new count; meanwhile readers get the previous document. Protection
is exactly as strong as without the cache: every document is the protected
table of a real state of the answer side, and a reader sees no more states
than the pool's batches already show (fewer, while a worker is warming).
"""
import hashlib
import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import counted_json
from ..models import Campaign
from ..models import CampaignUnit
from ..models import RespondentGroup
from ..models import ResponseCount
from ..models import Unit
from .results import count_campaign
from .results import present

log = logging.getLogger(__name__)

# Keys name everything a table depends on (see `structure`), so entries stay right as long as they live.
KEEP_SECONDS = 86400
# A worker computes a 500,000-response table in well under this on a busy machine.
WARMING_SECONDS = 120


def response_count(session, campaign_id: int) -> int:
    """The campaign's responses as the pool flush counted them."""
    return session.scalar(select(ResponseCount.responses).where(ResponseCount.campaign_id == campaign_id)) or 0


def cached_results(session, campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> dict:
    """campaign_results(...), from Redis when the campaign's responses have not changed since it was computed."""
    return json.loads(cached_results_json(session, campaign, language, min_cell=min_cell, min_comments=min_comments,
                                          unit_scope=unit_scope))


def cached_results_json(session, campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> bytes:
    """The encoded JSON document of campaign_results(...), computed only when the responses changed."""
    return tagged_results(session, campaign, language, min_cell=min_cell, min_comments=min_comments, unit_scope=unit_scope)[1]


def tagged_results(session, campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> tuple[int, bytes]:
    """(the response count it was computed at, the encoded document)."""
    runtime = session.info.get("runtime")
    count = response_count(session, campaign.id)
    shape = structure(session, campaign)
    key = document_key(campaign, shape, language, min_cell, min_comments, unit_scope)
    found, body = _tagged(_get(runtime, key))
    if found == count:
        return found, body
    if body is not None and _get(runtime, _warming_key(campaign.id)) is not None:
        # A worker is computing the newer table: the previous real state meanwhile, not a second computation.
        return found, body
    return count, _store_document(session, runtime, campaign, count, shape, language, min_cell, min_comments, unit_scope)


def structure(session, campaign) -> str:
    """A digest of what the tables depend on besides responses: survey version, units (tree, names), groups."""
    units = session.execute(
        select(Unit.id, Unit.parent_id, Unit.name).where(Unit.organisation_id == campaign.organisation_id).order_by(Unit.id)
    ).all()
    groups = session.execute(
        select(RespondentGroup.id, RespondentGroup.name)
        .where(RespondentGroup.organisation_id == campaign.organisation_id)
        .order_by(RespondentGroup.id)
    ).all()
    own = session.scalars(
        select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id).order_by(CampaignUnit.unit_id)
    ).all()
    described = repr((campaign.survey_version_id, list(own), [tuple(row) for row in units], [tuple(row) for row in groups]))
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def document_key(campaign, shape: str, language: str, min_cell: int, min_comments: int, unit_scope) -> str:
    scope = "all" if unit_scope is None else ",".join(str(unit) for unit in sorted(unit_scope))
    return f"svar:results:{campaign.id}:{campaign.status}:{language}:{min_cell}:{min_comments}:{scope}:{shape}"


def document_tag(session, campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> int | None:
    """The response count of the document a reader would get now without computing, or None (reads its tag only)."""
    runtime = session.info.get("runtime")
    key = document_key(campaign, structure(session, campaign), language, min_cell, min_comments, unit_scope)
    if runtime is None:
        return None
    try:
        head = runtime.redis.getrange(key, 0, 20)
    except Exception as exc:
        log.warning("results cache unavailable: %s", type(exc).__name__)
        return None
    found, _rest = _tagged(head or None)
    if found is None or found != response_count(session, campaign.id) and _get(runtime, _warming_key(campaign.id)) is None:
        # The reader would compute (or wait for) a newer document.
        return None
    return found


def mark_warming(runtime, campaign_id: int):
    """Readers keep the previous document until `warm` has computed the new one (or a while has passed)."""
    _set(runtime, _warming_key(campaign_id), b"1", WARMING_SECONDS)


def warm(session, runtime, campaign, languages, *, min_cell: int, min_comments: int):
    """Compute the counted figures and the organisation-wide document per language for the current count."""
    count = response_count(session, campaign.id)
    shape = structure(session, campaign)
    for language in languages:
        found, _body = _tagged(_get(runtime, document_key(campaign, shape, language, min_cell, min_comments, None)))
        if found != count:
            _store_document(session, runtime, campaign, count, shape, language, min_cell, min_comments, None)
    # Warm: a coordinator's scoped document is computed for the new count on her next read, not held back
    # at the previous release (which left her reading figures of a state the administrator's no longer match).
    _unset(runtime, _warming_key(campaign.id))


def _store_document(session, runtime, campaign, count, shape, language, min_cell, min_comments, unit_scope) -> bytes:
    key = document_key(campaign, shape, language, min_cell, min_comments, unit_scope)
    counted = _counted(session, runtime, campaign, count, shape, min_cell, min_comments)
    results = present(counted, campaign, language, min_cell=min_cell, min_comments=min_comments, unit_scope=unit_scope)
    body = json.dumps(results, separators=(",", ":")).encode()
    _set(runtime, key, _tag(count, body))
    return body


def _counted(session, runtime, campaign, count: int, shape: str, min_cell: int, min_comments: int):
    """results.Counted for `count` responses: from Redis if a reader or worker computed it, else now."""
    key = f"svar:results-counted:{campaign.id}:{campaign.status}:{min_cell}:{min_comments}:{shape}"
    found, blob = _tagged(_get(runtime, key))
    if found == count:
        return counted_json.loads(blob)
    count, counted = _count_in_one_snapshot(session, campaign, min_cell, min_comments)
    _set(runtime, key, _tag(count, counted_json.dumps(counted)))
    return counted


def _count_in_one_snapshot(session, campaign, min_cell: int, min_comments: int):
    """(response count, count_campaign(...)) read from one state of the answer side.

    count_campaign runs several statements. Under PostgreSQL's READ COMMITTED
    a pool flush committing between them would mix two states in one table,
    whose cells then disagree with the equations suppression was checked
    against; REPEATABLE READ gives every statement the same snapshot. SQLite's
    read transaction already sees one snapshot.
    """
    if session.bind.dialect.name != "postgresql":
        return response_count(session, campaign.id), count_campaign(session, campaign, min_cell, min_comments)
    engine = session.bind.engine if hasattr(session.bind, "engine") else session.bind
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with Session(bind=connection) as snapshot:
            snapshot.info.update(session.info)
            counted = count_campaign(snapshot, snapshot.get(Campaign, campaign.id), min_cell, min_comments)
            return response_count(snapshot, campaign.id), counted


def _warming_key(campaign_id: int) -> str:
    return f"svar:results-warming:{campaign_id}"


def _tag(count: int, body: bytes) -> bytes:
    return b"%d\n" % count + body


def _tagged(stored) -> tuple[int | None, bytes | None]:
    if stored is None:
        return None, None
    count, _newline, body = stored.partition(b"\n")
    return int(count), body


def _get(runtime, key):
    if runtime is None:
        return None
    try:
        return runtime.redis.get(key)
    except Exception as exc:
        # Redis down: compute, as before the cache existed.
        log.warning("results cache unavailable: %s", type(exc).__name__)
        return None


def _unset(runtime, key):
    if runtime is None:
        return
    try:
        runtime.redis.delete(key)
    except Exception as exc:
        log.warning("results cache not written: %s", type(exc).__name__)


def _set(runtime, key, value, seconds: int = KEEP_SECONDS):
    if runtime is None:
        return
    try:
        runtime.redis.set(key, value, ex=seconds)
    except Exception as exc:
        log.warning("results cache not written: %s", type(exc).__name__)
