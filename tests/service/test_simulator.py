"""The phone simulator: texts go through the real runner, replies come back through a worker."""
from rq import SimpleWorker

from service.infra.queue import SEND_QUEUE
from tests.factories import invite
from tests.factories import invite_many
from tests.factories import open_campaign

PHONE = "sim-test0001"


def deliver(runtime):
    """Run the send jobs the way `svar run`'s worker would."""
    SimpleWorker([runtime.queue(SEND_QUEUE)], connection=runtime.redis).work(burst=True)


def inbox(client, after=0):
    response = client.post("/simulator/inbox", json={"phone": PHONE, "after": after})
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_a_simulated_phone_starts_with_a_code_and_sees_buttons(client, runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        invite_many(session, runtime, campaign, 5)
        _invitation, code = invite(session, runtime, campaign)
    assert client.get("/simulator").status_code == 200
    assert client.post("/simulator/messages", json={"phone": PHONE, "text": code}).status_code == 202
    deliver(runtime)
    first = inbox(client)
    assert len(first) == 1 and first[0]["text"].startswith("Hei")
    assert [o["reply"] for o in first[0]["options"]][:6] == ["1", "2", "3", "4", "5", "6"]
    client.post("/simulator/messages", json={"phone": PHONE, "text": "5"})
    deliver(runtime)
    assert inbox(client, after=1)[0]["text"].startswith("2/")


def test_the_simulator_refuses_real_looking_numbers(client):
    response = client.post("/simulator/messages", json={"phone": "+4791234567", "text": "hei"})
    assert response.status_code == 400


def test_the_simulator_is_off_unless_configured(config, redis):
    from dataclasses import replace

    from service import create_app

    app = create_app(replace(config, simulator=False), redis=redis)
    assert app.test_client().get("/simulator").status_code == 404
