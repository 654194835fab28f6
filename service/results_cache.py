"""Protected results computed once per change of the answer side, not once per page view.

`campaign_results` counts every answer and runs the suppression audit: seconds
for a large campaign. Its output changes only when the mixing pool writes a
batch of responses, so it is kept in Redis under the campaign's response
count: a pool flush changes the count and with it the key, so the next view
computes afresh. Protection is exactly as strong as without the cache: every
cached table is the protected table of a real state of the answer side, and
a reader sees no more states than the pool's batches already show.
"""
import json
import logging

from sqlalchemy import func
from sqlalchemy import select

from .models import Response
from .results import campaign_results

log = logging.getLogger(__name__)

# Unit renames and the like reach the page within this many seconds at the latest.
KEEP_SECONDS = 600


def response_count(session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Response).where(Response.campaign_id == campaign_id))


def cached_results(session, campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> dict:
    """campaign_results(...), from Redis when the campaign's responses have not changed since it was computed."""
    runtime = session.info.get("runtime")
    scope = "all" if unit_scope is None else ",".join(str(unit) for unit in sorted(unit_scope))
    key = (
        f"svar:results:{campaign.id}:{response_count(session, campaign.id)}:{campaign.status}:"
        f"{language}:{min_cell}:{min_comments}:{scope}"
    )
    stored = _get(runtime, key)
    if stored is not None:
        return json.loads(stored)
    results = campaign_results(session, campaign, language, min_cell=min_cell, min_comments=min_comments, unit_scope=unit_scope)
    _set(runtime, key, json.dumps(results))
    return results


def _get(runtime, key):
    if runtime is None:
        return None
    try:
        return runtime.redis.get(key)
    except Exception as exc:
        # Redis down: compute, as before the cache existed.
        log.warning("results cache unavailable: %s", type(exc).__name__)
        return None


def _set(runtime, key, value):
    if runtime is None:
        return
    try:
        runtime.redis.set(key, value, ex=KEEP_SECONDS)
    except Exception as exc:
        log.warning("results cache not written: %s", type(exc).__name__)
