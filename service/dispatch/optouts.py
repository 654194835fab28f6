"""Opt-outs, kept as keyed hashes for the whole organisation (A5)."""
from sqlalchemy import select
from sqlalchemy import update

from ..models import Campaign
from ..models import Invitation
from ..models import OptOut


def is_opted_out(session, organisation_id: int, address_hash: str) -> bool:
    return session.get(OptOut, (organisation_id, address_hash)) is not None


def opt_out(session, organisation_id: int, address_hash: str):
    """Record the opt-out and stop every open invitation to that address in the organisation."""
    if not is_opted_out(session, organisation_id, address_hash):
        session.add(OptOut(organisation_id=organisation_id, address_hash=address_hash))
    campaigns = select(Campaign.id).where(Campaign.organisation_id == organisation_id)
    session.execute(
        update(Invitation)
        .where(Invitation.address_hash == address_hash)
        .where(Invitation.campaign_id.in_(campaigns))
        .where(Invitation.status.notin_(("completed", "opted_out")))
        # No reminder will repeat the code to an address that said STOP (A7).
        .values(status="opted_out", code_enc=None)
    )
