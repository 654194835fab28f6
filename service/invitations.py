"""Invitations on their way out: fresh one-time codes, the invitation text, outbox rows."""
import logging
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select

from flows.i18n import messages
from flows.render import for_phone

from .codes import new_code
from .models import Campaign
from .models import Invitation
from .models import OutboxMessage
from .surveys import survey_of

log = logging.getLogger(__name__)

# Many databases cap the parameters of one statement; 500 stays well under.
CHUNK = 500


def chunks(items: list, size: int = CHUNK):
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fresh_codes(session, vault, count: int) -> list[tuple[str, str]]:
    """`count` new (code, code_hash) pairs, none repeated and none already stored."""
    # 40 bits per code: collisions are rare but not negligible over many
    # campaigns, and code_hash is unique, so draw again rather than fail.
    chosen: dict[str, str] = {}
    while len(chosen) < count:
        batch = {}
        while len(batch) < count - len(chosen):
            code = new_code()
            # code_hash(vault, code) without normalise_code's Unicode folding: a drawn
            # code is already canonical once its hyphen is gone (tested).
            digest = vault.code_hash(code.replace("-", ""))
            if digest not in chosen:
                batch[digest] = code
        taken = set()
        # No autoflush: pending changes hold no new code hashes, and flushing
        # thousands of invitations here, once per chunk, would cost seconds.
        with session.no_autoflush:
            for part in chunks(list(batch)):
                taken.update(session.scalars(select(Invitation.code_hash).where(Invitation.code_hash.in_(part))))
        chosen.update((digest, code) for digest, code in batch.items() if digest not in taken)
    return [(code, digest) for digest, code in chosen.items()]


def survey_title(survey, *languages: str) -> str:
    """The survey's title in the first of `languages` it has, else its default."""
    for language in (*languages, survey.default_language):
        if survey.title.get(language):
            return survey.title[language]
    return survey.key


def invitation_text(organisation: str, title: str, code: str, language: str) -> str:
    """The SMS that invites one respondent; it carries their plain code."""
    m = messages(language)
    # Kept short and GSM-7 (no curly quotes, no dashes) so it fits two SMS parts;
    # for_phone keeps a Latin name or code the right way round in Arabic and Persian.
    return for_phone(m.gettext(
        "%(organisation)s invites you to a short survey: %(title)s. "
        "Reply to this message to start, or send the code %(code)s. "
        "Your answers are anonymous. Reply STOP to opt out.",
        organisation=organisation,
        title=title,
        code=code,
    ), language)


def telegram_invitation_text(organisation: str, title: str, code: str, link: str, language: str) -> str:
    """The SMS that invites a respondent who prefers Telegram: a deep link, and the code for SMS."""
    m = messages(language)
    return m.gettext(
        "%(organisation)s invites you to a short survey: %(title)s. "
        "Answer in Telegram: %(link)s or reply here with the code %(code)s. "
        "Your answers are anonymous. Reply STOP to opt out.",
        organisation=organisation,
        title=title,
        code=code,
        link=link,
    )


# What sending reads of an invitation: plain rows, no ORM objects to build and flush.
SEND_COLUMNS = (Invitation.id, Invitation.channel, Invitation.language, Invitation.address_enc)


def send_invitations(session, runtime, campaign: Campaign, invitations: list, now: datetime) -> list[int]:
    """Mark `invitations` invited; for those with a phone draw a fresh code and write an SMS outbox row.

    `invitations` are rows (or objects) with SEND_COLUMNS. Returns the outbox
    ids, queued for sending after commit. The plain code exists only in the
    outbox body, which the send worker erases once the provider has accepted
    the message. A bot cannot write first to a phone number, so respondents
    who prefer Telegram get an SMS with a deep link. Built for 100,000 at a
    time: a few statements per 500 invitations, no ORM objects.
    """
    from .reminders import first_reminder

    session.flush()
    by_phone = [invitation for invitation in invitations if invitation.channel in ("sms", "telegram") and invitation.address_enc]
    # Quiet hours hold the invitations too, and each one learns when its first reminder is due.
    first_due, not_before = first_reminder(session, campaign, now)
    texts = InvitationTexts(runtime, campaign)
    coded, rows = [], []
    for invitation, (code, digest) in zip(by_phone, fresh_codes(session, runtime.vault, len(by_phone))):
        coded.append({"invitation": invitation.id, "digest": digest})
        rows.append(
            {
                "channel": "sms",
                "address_enc": invitation.address_enc,
                "body": texts.body(invitation, code),
                "kind": "invitation",
                "campaign_id": campaign.id,
                "invitation_id": invitation.id,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
                "not_before": not_before,
            }
        )
    connection = session.connection()
    table = Invitation.__table__
    if coded:
        connection.execute(
            table.update()
            .where(table.c.id == bindparam("invitation"))
            .values(code_hash=bindparam("digest"), status="invited", invited_at=now, next_reminder_at=first_due),
            coded,
        )
    phoned = {invitation.id for invitation in by_phone}
    for part in chunks([invitation.id for invitation in invitations if invitation.id not in phoned]):
        connection.execute(table.update().where(table.c.id.in_(part)).values(status="invited", invited_at=now))
    _expire(session, {invitation.id for invitation in invitations})
    ids = insert_outbox_rows(session, rows)
    if ids:
        from workers.send import enqueue_send

        enqueue_send(session, ids)
    log.info("campaign %s: %d invitations issued, %d SMS queued", campaign.id, len(invitations), len(ids))
    return ids


def insert_outbox_rows(session, rows: list[dict]) -> list[int]:
    """Insert invitation outbox rows with one executemany; their ids, read back by invitation."""
    if not rows:
        return []
    connection = session.connection()
    # A plain executemany is the fastest insert on both databases (PostgreSQL's
    # per-row foreign key checks dominate either way); RETURNING would make
    # SQLAlchemy rewrite it into multi-row VALUES, slower here on PostgreSQL.
    connection.execute(insert(OutboxMessage.__table__), rows)
    outbox = OutboxMessage.__table__
    ids = []
    # An invitation is sent once ("created" -> "invited"): its one invitation row is the one just written.
    for part in chunks([row["invitation_id"] for row in rows]):
        ids.extend(
            connection.execute(
                select(outbox.c.id).where(outbox.c.invitation_id.in_(part), outbox.c.kind == "invitation")
            ).scalars()
        )
    ids.sort()
    return ids


class InvitationTexts:
    """The invitation SMS of one campaign, rendered once per language; each respondent's code set in."""

    def __init__(self, runtime, campaign: Campaign):
        self.config = runtime.config
        self.campaign = campaign
        self.organisation = campaign.organisation.name
        self.survey = survey_of(campaign.survey_version)
        self._around: dict[str, tuple[str, str] | None] = {}

    def body(self, invitation, code: str) -> str:
        language = invitation.language
        title = survey_title(self.survey, language, self.campaign.default_language)
        if invitation.channel == "telegram":
            from .telegram_links import deep_link

            link = deep_link(self.config, code)
            if link:
                return telegram_invitation_text(self.organisation, title, code, link, language)
        if language in self._around:
            around = self._around[language]
            return around[0] + code + around[1] if around else invitation_text(self.organisation, title, code, language)
        text = invitation_text(self.organisation, title, code, language)
        # Every code is one run of the same letters and digits, so the text around it
        # (translation, typography, direction marks) is the same for every code.
        self._around[language] = tuple(text.split(code)) if text.count(code) == 1 else None
        return text


def _expire(session, ids: set[int]):
    """Invitations of these ids loaded in the session were updated behind its back: reload them on next use."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Invitation) and instance.id in ids:
            session.expire(instance)
