"""Numbers an attacker sends in a URL or a form get a 4xx with a sentence, never a stack trace."""
import pytest
from twilio.request_validator import RequestValidator

from service.infra.url_ids import LARGEST_ID
from service.infra.url_ids import parsed_id
from tests.service.admin_support import login
from tests.service.admin_support import make_org
from tests.service.admin_support import post
from tests.service.api_data import make_world

STATUS_URL = "https://svar.example.org/webhooks/twilio/status"
HOSTILE = [str(2**63), str(2**64), "9" * 400, "-1", "-9223372036854775809", "abc", "1e9", "²", "١٢", " 12x", str(LARGEST_ID + 1), "0"]


def signed_status(client, config, query: str):
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered", "AccountSid": config.twilio_account_sid, "To": "+4791234567"}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(f"{STATUS_URL}?{query}", form)
    return client.post(f"/webhooks/twilio/status?{query}", data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("ref", HOSTILE)
def test_a_status_callback_with_a_ref_that_is_no_id_gets_400(client, config, ref):
    response = signed_status(client, config, f"ref={ref}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_status_callback_with_a_real_ref_is_still_acknowledged(client, config):
    assert signed_status(client, config, "ref=12").status_code == 200


@pytest.mark.parametrize("before", HOSTILE)
def test_the_audit_log_refuses_a_before_that_is_no_id(client, runtime, before):
    org = make_org(runtime)
    login(client, org.admin)
    response = client.get(f"/admin/audit?before={before}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_audit_log_pages_with_a_good_before(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    assert client.get("/admin/audit?before=5").status_code == 200
    assert client.get("/admin/audit").status_code == 200


@pytest.mark.parametrize("parent", [str(2**63), "9" * 50, "²"])
def test_a_unit_with_a_hostile_parent_id_is_no_server_error(client, runtime, parent):
    org = make_org(runtime)
    login(client, org.admin)
    response = post(client, "/admin/organisation/units", {"name": "Ny enhet", "parent_id": parent}, page="/admin/organisation")
    assert response.status_code < 500


@pytest.mark.parametrize("name", ["\x00", "Ny\x00enhet", "Nord\x1b[31m"])
def test_a_unit_or_group_named_with_control_characters_is_refused_with_a_sentence(client, runtime, name):
    org = make_org(runtime)
    login(client, org.admin)
    for path, field in (("/admin/organisation/units", "name"), ("/admin/organisation/groups", "group_name")):
        response = post(client, path, {field: name}, page="/admin/organisation")
        assert response.status_code < 500 and "Control characters are not allowed." in response.get_data(as_text=True)


@pytest.mark.parametrize("raw, expected", [("1", 1), (str(LARGEST_ID), LARGEST_ID), (" 42 ", 42), *[(h, None) for h in HOSTILE], ("", None), (None, None)])
def test_parsed_id(raw, expected):
    assert parsed_id(raw) == expected


@pytest.mark.parametrize("version", HOSTILE)
def test_the_api_refuses_a_survey_version_that_is_no_number(client, runtime, version):
    world = make_world(runtime)
    response = client.get(f"/api/v1/surveys/introduction-programme?version={version}", headers=world.headers)
    assert response.status_code == 400
    assert "version" in response.get_json()["error"]["message"]
