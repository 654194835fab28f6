"""The caller's organisation: GET and PATCH /organisation (time zone, language, phone region)."""
from ..accounts.organisation import OrganisationError
from ..accounts.organisation import organisation_json
from ..accounts.organisation import update_organisation
from . import bp
from .auth import READERS
from .auth import api_call
from .auth import json_body
from .errors import invalid


@bp.get("/organisation")
@api_call(READERS)
def get_organisation(session, user):
    """The organisation's settings."""
    return organisation_json(user.organisation)


@bp.patch("/organisation")
@api_call()
def patch_organisation(session, user):
    """Change name, timezone (IANA), default_language or region (for phone numbers without +)."""
    body = json_body()
    try:
        update_organisation(user.organisation, body)
    except OrganisationError as error:
        raise invalid(str(error)) from None
    session.flush()
    return organisation_json(user.organisation)
