"""Invitations on their way out: fresh one-time codes, the invitation text, outbox rows."""
import logging
from datetime import datetime


from flows.i18n import messages
from flows.render import for_phone

from ..infra.bulk_sql import BATCH
from ..infra.bulk_sql import chunks
from ..infra.bulk_sql import insert_rows
from ..infra.bulk_sql import is_postgresql
from ..infra.bulk_sql import matching
from ..infra.bulk_sql import new_ids
from ..infra.bulk_sql import paused_gc
from ..infra.bulk_sql import roomy_cache
from ..infra.bulk_sql import processed
from ..outbox.code_slots import CODE_SLOT
from ..outbox.code_slots import LINK_SLOT
from .codes import display
from .codes import new_codes
from ..models import Campaign
from ..models import Invitation
from ..models import OutboxMessage
from ..reminders.sending import first_reminder
from ..outbox.send_jobs import enqueue_send
from ..surveys import survey_of
from ..surveys import survey_title
from .telegram_links import start_link

log = logging.getLogger(__name__)


def fresh_codes(session, vault, count: int) -> list[tuple[str, str]]:
    """`count` new (code, code_hash) pairs, none repeated and none already stored."""
    # 40 bits per code: collisions are rare but not negligible over many
    # campaigns, and code_hash is unique, so draw again rather than fail.
    chosen: dict[str, str] = {}
    # On the connection, without autoflush: pending changes hold no new code
    # hashes, and flushing thousands of invitations here would cost seconds.
    connection = session.connection()
    while len(chosen) < count:
        batch = {}
        for code in new_codes(count - len(chosen)):
            # code_hash(vault, code) without normalise_code's Unicode folding: a drawn
            # code is already canonical (tested).
            digest = vault.code_hash(code)
            if digest not in chosen:
                batch[digest] = code
        taken = matching(connection, Invitation.__table__, "code_hash", list(batch))
        chosen.update((digest, code) for digest, code in batch.items() if digest not in taken)
    return [(display(code), digest) for digest, code in chosen.items()]


def invitation_text(organisation: str, title: str, code: str, language: str) -> str:
    """The SMS that invites one respondent, with their code (or its slot, as stored)."""
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
    ids, queued for sending after commit. The code is never in clear in the
    database (A7): the invitation keeps its hash, for lookups, and its
    encryption, for the send and the reminders; the outbox body holds a slot
    the send job fills (service/outbox/code_slots.py). A bot cannot write first to a
    phone number, so respondents who prefer Telegram get an SMS with a deep
    link. Built for 100,000 at a time: a few statements per 10,000
    invitations, no ORM objects, and on PostgreSQL the outbox rows stream in
    by COPY while they are written.
    """
    with paused_gc(), roomy_cache(session.connection()):
        return _send(session, runtime, campaign, invitations, now)


def _send(session, runtime, campaign: Campaign, invitations: list, now: datetime) -> list[int]:
    session.flush()
    by_phone = [invitation for invitation in invitations if invitation.channel in ("sms", "telegram") and invitation.address_enc]
    # Quiet hours hold the invitations too, and each one learns when its first reminder is due.
    first_due, not_before = first_reminder(session, campaign, now)
    pairs = fresh_codes(session, runtime.vault, len(by_phone))
    sealed = runtime.vault.encrypt_codes((invitation.id, code) for invitation, (code, _digest) in zip(by_phone, pairs))
    connection = session.connection()
    _mark_invited(connection, by_phone, [digest for _code, digest in pairs], sealed, invitations, now, first_due)
    _expire(session, {invitation.id for invitation in invitations})
    ids = new_ids(connection, OutboxMessage.__table__, len(by_phone))
    if ids:
        texts = InvitationTexts(runtime, campaign)
        # The ids are known before the rows exist: nothing to read back after the insert.
        rows = (
            (outbox_id, invitation.address_enc, texts.body(invitation), invitation.id)
            for outbox_id, invitation in zip(ids, by_phone)
        )
        insert_rows(
            connection, OutboxMessage.__table__, ["id", "address_enc", "body", "invitation_id"], rows,
            constants={"channel": "sms", "kind": "invitation", "campaign_id": campaign.id, "status": "pending", "attempts": 0,
                       "created_at": now, "updated_at": now, "not_before": not_before},
        )
        enqueue_send(session, ids)
    log.info("campaign %s: %d invitations issued, %d SMS queued", campaign.id, len(invitations), len(ids))
    return ids


def _mark_invited(connection, by_phone: list, digests: list[str], sealed: list[str], invitations: list, now: datetime, first_due):
    """Invitations with a phone get their code's hash and encryption, status invited and their first reminder; the others status invited."""
    table = Invitation.__table__
    times = processed(connection, table, {"invited_at": now, "next_reminder_at": first_due})
    if by_phone and is_postgresql(connection):
        # One statement for all: each row of an executemany UPDATE costs the server an
        # executor run, and a batch of thousands may be planned as a pass over the table.
        connection.exec_driver_sql(
            "UPDATE invitations SET code_hash = given.code_hash, code_enc = given.code_enc, status = 'invited',"
            " invited_at = %(invited_at)s, next_reminder_at = %(next_reminder_at)s"
            " FROM unnest(string_to_array(%(ids)s, ',')::integer[], string_to_array(%(digests)s, ','),"
            " string_to_array(%(sealed)s, ',')) AS given (id, code_hash, code_enc)"
            " WHERE invitations.id = given.id",
            # Joined texts, not lists: psycopg sends a list of 10,000 values at ~5 us each.
            # (Hex digests and urlsafe base64 hold no comma.)
            {**times, "ids": ",".join(str(invitation.id) for invitation in by_phone), "digests": ",".join(digests),
             "sealed": ",".join(sealed)},
        )
    elif by_phone:
        rows = [(digest, code_enc, times["invited_at"], times["next_reminder_at"], invitation.id)
                for invitation, digest, code_enc in zip(by_phone, digests, sealed)]
        for start in range(0, len(rows), BATCH):
            connection.exec_driver_sql(
                "UPDATE invitations SET code_hash = ?, code_enc = ?, status = 'invited', invited_at = ?, next_reminder_at = ?"
                " WHERE id = ?",
                rows[start : start + BATCH],
            )
    phoned = {invitation.id for invitation in by_phone}
    for part in chunks([invitation.id for invitation in invitations if invitation.id not in phoned]):
        connection.execute(table.update().where(table.c.id.in_(part)).values(status="invited", invited_at=now))


class InvitationTexts:
    """The invitation SMS of one campaign as stored: rendered once per channel and language, a slot for the code."""

    def __init__(self, runtime, campaign: Campaign):
        self.config = runtime.config
        self.campaign = campaign
        self.organisation = campaign.organisation.name
        self.survey = survey_of(campaign.survey_version)
        self._texts: dict[tuple[str, str], str] = {}

    def body(self, invitation) -> str:
        key = (invitation.channel, invitation.language)
        if key not in self._texts:
            self._texts[key] = self._text(*key)
        return self._texts[key]

    def _text(self, channel: str, language: str) -> str:
        title = survey_title(self.survey, language, self.campaign.default_language)
        if channel == "telegram":
            link = start_link(self.config, LINK_SLOT)
            if link:
                return telegram_invitation_text(self.organisation, title, CODE_SLOT, link, language)
        return invitation_text(self.organisation, title, CODE_SLOT, language)


def _expire(session, ids: set[int]):
    """Invitations of these ids loaded in the session were updated behind its back: reload them on next use."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Invitation) and instance.id in ids:
            session.expire(instance)
