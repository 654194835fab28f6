"""Invitations on their way out: fresh one-time codes, the invitation text, outbox rows."""
import logging
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy import select

from flows.i18n import messages
from flows.render import for_phone

from .codes import code_hash
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
            digest = code_hash(vault, code)
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


def send_invitations(session, runtime, campaign: Campaign, invitations: list[Invitation], now: datetime) -> list[int]:
    """Mark `invitations` invited; for those with a phone draw a fresh code and write an SMS outbox row.

    Returns the outbox ids, queued for sending after commit. The plain code
    exists only in the outbox body, which the send worker erases once the
    provider has accepted the message. A bot cannot write first to a phone
    number, so respondents who prefer Telegram get an SMS with a deep link.
    """
    from .reminders import schedule_invitations
    from .telegram_links import deep_link

    survey = survey_of(campaign.survey_version)
    organisation = campaign.organisation.name
    by_phone = [invitation for invitation in invitations if invitation.channel in ("sms", "telegram") and invitation.address_enc]
    # Quiet hours hold the invitations too, and each one learns when its first reminder is due.
    not_before = schedule_invitations(session, campaign, by_phone, now)
    rows = []
    for invitation, (code, digest) in zip(by_phone, fresh_codes(session, runtime.vault, len(by_phone))):
        invitation.code_hash = digest
        title = survey_title(survey, invitation.language, campaign.default_language)
        link = deep_link(runtime.config, code) if invitation.channel == "telegram" else None
        if link:
            body = telegram_invitation_text(organisation, title, code, link, invitation.language)
        else:
            body = invitation_text(organisation, title, code, invitation.language)
        rows.append(
            {
                "channel": "sms",
                "address_enc": invitation.address_enc,
                "body": body,
                "kind": "invitation",
                "campaign_id": campaign.id,
                "invitation_id": invitation.id,
                "status": "pending",
                "created_at": now,
                "updated_at": now,
                "not_before": not_before,
            }
        )
    for invitation in invitations:
        invitation.status = "invited"
        invitation.invited_at = now
    session.flush()
    ids = []
    for part in chunks(rows):
        ids.extend(session.scalars(insert(OutboxMessage).returning(OutboxMessage.id), part))
    if ids:
        from workers.send import enqueue_send

        enqueue_send(session, ids)
    log.info("campaign %s: %d invitations issued, %d SMS queued", campaign.id, len(invitations), len(ids))
    return ids
