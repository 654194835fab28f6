"""Stored survey versions: GET /surveys and GET /surveys/<key>."""
import logging

from flask import current_app
from flask import request
from sqlalchemy import select

from ..models import SurveyVersion
from ..surveys import SurveyVersionConflict
from ..surveys import latest
from ..surveys import survey_of
from ..surveys import sync_bundled
from ..infra.url_ids import query_id
from . import bp
from .auth import api_call
from .errors import not_found

log = logging.getLogger(__name__)


def ensure_bundled(session):
    """Store the bundled survey files as versions, once per app."""
    state = current_app.extensions.setdefault("svar.api", {})
    if state.get("synced"):
        return
    try:
        with session.begin_nested():
            sync_bundled(session)
    except SurveyVersionConflict:
        # The stored versions still serve; `svar surveys check` explains the file.
        log.exception("a bundled survey file changed without a new version")
    state["synced"] = True


def survey_json(version: SurveyVersion) -> dict:
    survey = survey_of(version)
    return {
        "key": version.key,
        "version": version.version,
        "title": dict(survey.title),
        "default_language": survey.default_language,
        "languages": list(survey.languages),
        "question_count": len(survey.questions),
    }


@bp.get("/surveys")
@api_call()
def list_surveys(session, user):
    """Every stored survey version, newest last per key."""
    ensure_bundled(session)
    versions = session.scalars(select(SurveyVersion).order_by(SurveyVersion.key, SurveyVersion.version))
    return {"surveys": [survey_json(version) for version in versions]}


@bp.get("/surveys/<key>")
@api_call()
def get_survey(session, user, key):
    """One survey (latest version, or ?version=N) with its questions."""
    ensure_bundled(session)
    wanted = query_id(request.args, "version")
    if wanted is None:
        version = latest(session, key)
    else:
        version = session.scalar(select(SurveyVersion).where(SurveyVersion.key == key, SurveyVersion.version == wanted))
    if version is None:
        raise not_found("survey")
    survey = survey_of(version)
    versions = session.scalars(select(SurveyVersion.version).where(SurveyVersion.key == key).order_by(SurveyVersion.version))
    return {
        **survey_json(version),
        "versions": list(versions),
        "questions": [
            {
                "id": question.id,
                "type": question.type.value,
                "text": dict(question.text),
                "optional": question.optional,
                "background": question.background,
                "comment": question.comment,
            }
            for question in survey.questions
        ],
    }
