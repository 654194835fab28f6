"""Progress of a large campaign from a snapshot a worker keeps, not from a million rows per view.

`progress()` and the progress page's timeline group every invitation of the
campaign: about a second for 1,000,000 invitations. A snapshot holds those
counts per unit (funnel per unit and group, completions per reminder, daily
invited and completed, reminder days, delivery failures) in Redis with the
moment it was taken. Pages read it and cut it to the reader's units here,
on the server, exactly as they cut a live count (access.restrict_progress).

- A campaign below LIVE_BELOW invitations is counted live on every view:
  that costs less than the page's other work, and its figures are exact.
- The first view of a campaign with no snapshot counts and stores one.
- `workers/progress_snapshots.py` takes a new snapshot of every open campaign
  someone looked at in the last VIEWED_SECONDS, every 30 seconds; a view that
  finds one older than FRESH_SECONDS (no scheduler running) queues a refresh
  and shows the one it has, with its age.

No counter is touched by an inbound step: answering stays free of hot rows.
"""
import json
import logging
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from . import counts as progress_counts
from ..models import Campaign
from ..models import utcnow
from .rates import progress

log = logging.getLogger(__name__)

# A live count of this many invitations takes a few tens of milliseconds.
LIVE_BELOW = 20_000
# Older than this, a view queues a new snapshot (the scheduler normally takes one every 30 s).
FRESH_SECONDS = 60
# One refresh job per campaign in this long, however many views find the snapshot old.
REFRESH_LOCK_SECONDS = 60
# The scheduler keeps snapshots of campaigns someone looked at in this window.
VIEWED_SECONDS = 600
KEEP_SECONDS = 86400
REFRESH_JOB = "workers.progress_snapshots.refresh_progress"


@dataclass(frozen=True)
class Snapshot:
    """A campaign's counts per unit; `as_of` is when they were counted, None when counted for this view."""

    status: str
    progress: dict
    daily: dict
    reminders: dict
    failures: dict
    as_of: datetime | None = None


def take(session, campaign: Campaign) -> Snapshot:
    """Count everything the progress views show, for every unit of the campaign."""
    zone = _zone(campaign)
    return Snapshot(
        status=campaign.status,
        progress=progress(session, campaign),
        daily=progress_counts.daily_counts(session, campaign, zone),
        reminders=progress_counts.reminder_counts(session, campaign, zone),
        failures=progress_counts.failure_counts(session, campaign),
    )


def store(runtime, campaign_id: int, snapshot: Snapshot, at: datetime):
    """Keep `snapshot`, taken at `at`, for the views."""
    _redis_call(runtime, "set", _key(campaign_id), _encode(snapshot, at), ex=KEEP_SECONDS)


def refresh(session, runtime, campaign: Campaign) -> Snapshot:
    """Take and store a new snapshot of `campaign`."""
    at = utcnow()
    snapshot = take(session, campaign)
    store(runtime, campaign.id, snapshot, at)
    return Snapshot(**{**snapshot.__dict__, "as_of": at})


def worth_refreshing(runtime, campaign_id: int) -> bool:
    """True if someone looked at the campaign's progress lately and it is too large to count live."""
    if not _redis_call(runtime, "exists", _viewed_key(campaign_id)):
        return False
    stored = _redis_call(runtime, "get", _key(campaign_id))
    snapshot = _decode(stored) if stored is not None else None
    return snapshot is not None and snapshot.progress["total"] >= LIVE_BELOW


def current(session, campaign: Campaign, *, full: bool = True) -> Snapshot:
    """What the progress views show: live for a small campaign, else the latest snapshot.

    `full=False` when only the funnel is wanted (API, campaign list): a small
    campaign is then counted without the timeline.
    """
    runtime = session.info.get("runtime")
    stored = _read_and_mark_viewed(runtime, campaign.id)
    snapshot = _decode(stored) if stored is not None else None
    if snapshot is None or snapshot.status != campaign.status:
        # First view, or the campaign opened or closed since: count now.
        return _live(session, runtime, campaign, store_it=True)
    if snapshot.progress["total"] < LIVE_BELOW:
        return _live(session, runtime, campaign, store_it=False, full=full)
    if (utcnow() - snapshot.as_of).total_seconds() > FRESH_SECONDS:
        _queue_refresh(runtime, campaign.id)
    return snapshot


def _live(session, runtime, campaign, *, store_it: bool, full: bool = True) -> Snapshot:
    if store_it:
        return Snapshot(**{**refresh(session, runtime, campaign).__dict__, "as_of": None})
    if not full:
        return Snapshot(campaign.status, progress(session, campaign), {}, {}, {})
    return take(session, campaign)


def _queue_refresh(runtime, campaign_id: int):
    """One refresh job at a time per campaign, however many views find the snapshot old."""
    if _redis_call(runtime, "set", f"svar:progress-refreshing:{campaign_id}", b"1", nx=True, ex=REFRESH_LOCK_SECONDS):
        try:
            runtime.queue().enqueue(REFRESH_JOB, campaign_id)
        except Exception as exc:
            log.warning("progress refresh not queued: %s", type(exc).__name__)


def _read_and_mark_viewed(runtime, campaign_id: int):
    """The stored snapshot, and a mark that someone looks at it: one round trip."""
    if runtime is None:
        return None
    try:
        pipe = runtime.redis.pipeline(transaction=False)
        pipe.get(_key(campaign_id))
        pipe.set(_viewed_key(campaign_id), b"1", ex=VIEWED_SECONDS)
        stored, _marked = pipe.execute()
        return stored
    except Exception as exc:
        # Redis down: count live, as before snapshots existed.
        log.warning("progress snapshot unavailable: %s", type(exc).__name__)
        return None


def _redis_call(runtime, name: str, *args, **options):
    if runtime is None:
        return None
    try:
        return getattr(runtime.redis, name)(*args, **options)
    except Exception as exc:
        log.warning("progress snapshot store: %s failed: %s", name, type(exc).__name__)
        return None


def _zone(campaign: Campaign) -> str:
    return campaign.organisation.timezone or "Europe/Oslo"


def _key(campaign_id: int) -> str:
    return f"svar:progress:{campaign_id}"


def _viewed_key(campaign_id: int) -> str:
    return f"svar:progress-viewed:{campaign_id}"


def _encode(snapshot: Snapshot, at: datetime) -> bytes:
    return json.dumps({
        "as_of": at.isoformat(),
        "status": snapshot.status,
        "progress": snapshot.progress,
        "daily": {unit: {kind: _days_out(days) for kind, days in counts.items()} for unit, counts in snapshot.daily.items()},
        "reminders": {unit: _days_out(days) for unit, days in snapshot.reminders.items()},
        "failures": snapshot.failures,
    }, separators=(",", ":")).encode()


def _decode(stored: bytes) -> Snapshot | None:
    try:
        data = json.loads(stored)
        return Snapshot(
            status=data["status"],
            progress=data["progress"],
            daily={int(unit): {kind: _days_in(days) for kind, days in counts.items()} for unit, counts in data["daily"].items()},
            reminders={int(unit): _days_in(days) for unit, days in data["reminders"].items()},
            failures={int(unit): codes for unit, codes in data["failures"].items()},
            as_of=datetime.fromisoformat(data["as_of"]),
        )
    except (ValueError, KeyError, TypeError):
        # A snapshot of an older shape: count again.
        return None


def _days_out(days: dict) -> dict:
    return {day.isoformat(): count for day, count in days.items()}


def _days_in(days: dict) -> dict:
    return {date.fromisoformat(day): count for day, count in days.items()}
