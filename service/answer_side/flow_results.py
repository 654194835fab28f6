"""The Flow Results package (FLOIP, spec 1.0.0-rc1) of a campaign, as a zip.

datapackage.json describes one resource, responses.json: row arrays of
[timestamp, row_id, contact_id, session_id, question_id, response,
response_metadata]. The rows are the protected rows of service/answer_side/exports.py:
every timestamp is the campaign's opening date (nothing finer exists on the
answer side), contact and session ids are random per response and export,
and unit, group and language travel in response_metadata. responses.csv
holds the same rows with a header, for spreadsheets.
"""
import csv
import hashlib
import io
import json
import uuid
import zipfile
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from flows.answers import allows_dont_know
from flows.model import DONT_KNOW
from flows.model import QuestionType

from .exports import ANY
from .exports import anonymous_rows
from .exports import exported_questions
from .exports import label
from ..models import Campaign
from ..models import utcnow
from .spreadsheet_cells import safe_row

SPEC_VERSION = "1.0.0-rc1"
PROFILE = "flow-results-package"
FIELDS = [
    {"name": "timestamp", "title": "Timestamp", "type": "datetime"},
    {"name": "row_id", "title": "Row ID", "type": "string"},
    {"name": "contact_id", "title": "Contact ID", "type": "string"},
    {"name": "session_id", "title": "Session ID", "type": "string"},
    {"name": "question_id", "title": "Question ID", "type": "string"},
    {"name": "response", "title": "Response", "type": "any"},
    {"name": "response_metadata", "title": "Response Metadata", "type": "object"},
]


def question_schema(question, language: str, default_language: str) -> dict:
    """One question in FLOIP terms: scales and choices are select_one, multi select_many."""
    label_text = question.text.get(language) or question.text.get(default_language) or question.id
    dont_know = [DONT_KNOW] if allows_dont_know(question) else []
    if question.type == QuestionType.SCALE:
        choices = [str(v) for v in range(question.scale.min, question.scale.max + 1)] + dont_know
        return {"type": "select_one", "label": label_text, "type_options": {"choices": choices}}
    if question.type == QuestionType.CHOICE:
        return {"type": "select_one", "label": label_text, "type_options": {"choices": [c.id for c in question.choices] + dont_know}}
    if question.type == QuestionType.YESNO:
        return {"type": "select_one", "label": label_text, "type_options": {"choices": ["yes", "no"] + dont_know}}
    if question.type == QuestionType.MULTI:
        return {"type": "select_many", "label": label_text, "type_options": {"choices": [c.id for c in question.choices] + dont_know}}
    if question.type == QuestionType.NUMBER:
        options = {"range": [question.min, question.max]} if question.min is not None and question.max is not None else {}
        return {"type": "numeric", "label": label_text, "type_options": options}
    return {"type": "open", "label": label_text, "type_options": {}}


def opening_timestamp(campaign: Campaign) -> str:
    """Midnight of the campaign's opening day in its organisation's time zone, RFC 3339."""
    zone = ZoneInfo(campaign.organisation.timezone or "UTC")
    opened = campaign.opens_at or campaign.launched_at or campaign.created_at or utcnow()
    midnight = datetime.combine(opened.astimezone(zone).date(), time(0), tzinfo=zone)
    return midnight.isoformat()


def package_id(campaign: Campaign) -> str:
    """A version 4 UUID that stays the same for a campaign across exports."""
    digest = hashlib.sha256(f"svar:flow-results:{campaign.organisation_id}:{campaign.id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def response_value(question, value):
    """The FLOIP response for a stored value; None for a question skipped."""
    # A background answer blanked for anonymity is left out like a skipped
    # one: "*" is not among the question's choices.
    if value is None or value == "" or value == [] or value == ANY:
        return None
    if value == DONT_KNOW:
        return value
    if question.type == QuestionType.SCALE:
        return str(int(value))
    if question.type == QuestionType.MULTI:
        return list(value) if isinstance(value, list) else [value]
    return value


def flow_results_zip(session, campaign: Campaign, language: str, min_cell: int) -> bytes:
    """The zip: datapackage.json, responses.json and responses.csv."""
    survey, protected, rows = anonymous_rows(session, campaign, min_cell)
    questions = exported_questions(survey)
    stamp = opening_timestamp(campaign)
    data = []
    for row in rows:
        contact = str(uuid.uuid4())
        session_id = str(uuid.uuid4())
        metadata = {"unit": label(protected, row.node), "group": label(protected, row.group), "language": row.language}
        for question in questions:
            response = response_value(question, row.answers.get(question.id))
            if response is not None:
                data.append([stamp, str(uuid.uuid4()), contact, session_id, question.id, response, metadata])
    name = f"svar-campaign-{campaign.id}"
    created = utcnow().replace(microsecond=0).isoformat()
    descriptor = {
        "profile": PROFILE,
        "name": name,
        "flow_results_specification_version": SPEC_VERSION,
        "created": created,
        "modified": created,
        "id": package_id(campaign),
        "title": campaign.name,
        "description": (
            "Anonymous answers. Units and groups of small cells are coarsened to an area or '*'; "
            "background answers that would single someone out are left out. responses.csv repeats responses.json."
        ),
        "resources": [
            {
                "profile": "data-resource",
                "name": f"{name}-responses",
                "path": "responses.json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "schema": {
                    "fields": FIELDS,
                    "questions": {q.id: question_schema(q, language, survey.default_language) for q in questions},
                },
            }
        ],
    }
    buffer = io.BytesIO()
    # Entries dated to the opening day too: a zip's file times are one more clock.
    day = datetime.fromisoformat(stamp).timetuple()[:3] + (0, 0, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, content in (
            ("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2)),
            ("responses.json", json.dumps(data, ensure_ascii=False)),
            ("responses.csv", _csv(data)),
        ):
            archive.writestr(zipfile.ZipInfo(filename, date_time=day), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _csv(data) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row([f["name"] for f in FIELDS]))
    for row in data:
        writer.writerow(safe_row(row[:5] + [json.dumps(row[5], ensure_ascii=False), json.dumps(row[6], ensure_ascii=False)]))
    return out.getvalue()
