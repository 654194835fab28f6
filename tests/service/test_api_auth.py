"""Bearer tokens, roles and organisation scoping of the JSON API."""
from datetime import timedelta

from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from service.api import token_limits

from service.accounts.tokens import authenticate
from service.accounts.tokens import digest
from service.models import ApiToken
from service.models import User
from tests.service.api_data import add_user
from tests.service.api_data import draft
from tests.service.api_data import make_world


def test_a_missing_token_is_401_with_a_bearer_challenge(client, runtime):
    make_world(runtime)
    response = client.get("/api/v1/units")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="svar"'
    assert response.json == {"error": {"code": "unauthorized", "message": "a bearer token is required"}}


def test_a_wrong_or_revoked_token_is_401_invalid_token(client, runtime):
    world = make_world(runtime)
    for header in ("Bearer svar_nope", "Basic abc", f"Bearer {world.token}x", world.token):
        response = client.get("/api/v1/units", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get("/api/v1/units", headers=world.headers).status_code == 200
    with runtime.transaction() as session:
        session.scalar(select(ApiToken)).revoked = True
    assert client.get("/api/v1/units", headers=world.headers).status_code == 401


def test_a_deactivated_user_cannot_use_their_token(client, runtime):
    world = make_world(runtime)
    with runtime.transaction() as session:
        session.get(User, world.user_id).active = False
    assert client.get("/api/v1/units", headers=world.headers).status_code == 401


def test_only_the_digest_is_stored_and_last_use_is_written_once_a_minute(runtime):
    world = make_world(runtime)
    with runtime.transaction() as session:
        row = session.scalar(select(ApiToken))
        assert row.token_hash == digest(world.token) and world.token not in row.token_hash
        assert world.token.startswith("svar_") and len(world.token) > 40
        first = authenticate(session, f"Bearer {world.token}")
        used = row.last_used_at
        assert first.id == world.user_id and used is not None
        authenticate(session, f"bearer {world.token}", now=used + timedelta(seconds=30))
        assert row.last_used_at == used
        authenticate(session, f"Bearer {world.token}", now=used + timedelta(seconds=61))
        assert row.last_used_at == used + timedelta(seconds=61)


def test_coordinators_read_campaigns_and_progress_but_change_nothing(client, runtime):
    world = make_world(runtime)
    campaign_id = draft(runtime, world)
    headers = {"Authorization": f"Bearer {add_user(runtime, world, 'coordinator', world.unit_ids[:1])}"}
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).status_code == 200
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=headers).status_code == 200
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    for method, path in [
        ("post", f"/api/v1/campaigns/{campaign_id}/launch"),
        ("post", f"/api/v1/campaigns/{campaign_id}/close"),
        ("post", f"/api/v1/campaigns/{campaign_id}/codes"),
        ("post", "/api/v1/units"),
        ("get", "/api/v1/units"),
        ("get", "/api/v1/surveys"),
    ]:
        response = getattr(client, method)(path, headers=headers, json={})
        assert response.status_code == 403, path
        assert response.json["error"]["code"] == "forbidden"


def test_another_organisations_objects_are_not_found(client, runtime):
    world = make_world(runtime)
    campaign_id = draft(runtime, world)
    stranger = make_world(runtime, name="Annenby kommune")
    for method, path in [
        ("get", "/api/v1/campaigns/{}"),
        ("get", "/api/v1/campaigns/{}/progress"),
        ("post", "/api/v1/campaigns/{}/launch"),
        ("post", "/api/v1/campaigns/{}/close"),
        ("post", "/api/v1/campaigns/{}/respondents"),
        ("post", "/api/v1/campaigns/{}/codes"),
    ]:
        response = getattr(client, method)(path.format(campaign_id), headers=stranger.headers, json={})
        missing = getattr(client, method)(path.format(9999), headers=stranger.headers, json={})
        assert response.status_code == missing.status_code == 404
        assert response.json == missing.json
    assert client.get("/api/v1/campaigns", headers=stranger.headers).json == {"campaigns": []}
    units = client.get("/api/v1/units", headers=stranger.headers).json["units"]
    assert {unit["id"] for unit in units} == set(stranger.unit_ids)


def test_unknown_routes_and_methods_answer_json(client, runtime):
    world = make_world(runtime)
    response = client.get("/api/v1/nothing", headers=world.headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/units", headers=world.headers)
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    # Other areas keep their own error pages.
    assert not client.get("/not-the-api").is_json


def test_an_address_sending_wrong_tokens_is_blocked_for_a_while_then_let_back(client, runtime, caplog):
    world = make_world(runtime)
    for attempt in range(token_limits.LIMIT):
        response = client.get("/api/v1/units", headers={"Authorization": f"Bearer svar_guess{attempt}"})
        assert response.status_code == 401, attempt
    assert "wrong API token from 127.0.0.1 (20 in this window)" in caplog.text
    assert "svar_guess" not in caplog.text
    # Blocked: every further wrong token, until the window has passed.
    blocked = client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess-more"})
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "too_many_requests"
    assert 0 < int(blocked.headers["Retry-After"]) <= token_limits.WINDOW_SECONDS
    # Requests without a token are not counted and not blocked: they only learn a token is needed.
    assert client.get("/api/v1/units").status_code == 401
    runtime.redis.delete(token_limits.PREFIX + "127.0.0.1")
    assert client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess-again"}).status_code == 401


def test_a_valid_token_works_from_an_address_that_failed_many_times(client, runtime):
    world = make_world(runtime)
    guesser = {"REMOTE_ADDR": "203.0.113.9"}
    for attempt in range(3 * token_limits.LIMIT):
        client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess"}, environ_base=guesser)
    assert client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess"}, environ_base=guesser).status_code == 429
    # The same address (a shared NAT, a proxy) with the right token is served; other addresses too.
    assert client.get("/api/v1/units", headers=world.headers, environ_base=guesser).status_code == 200
    assert client.get("/api/v1/units", headers=world.headers).status_code == 200
    assert client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess"}).status_code == 401


def test_tokens_keep_working_when_redis_is_down(client, runtime, monkeypatch):
    world = make_world(runtime)

    def unavailable(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(runtime.redis, "pipeline", unavailable)
    assert client.get("/api/v1/units", headers=world.headers).status_code == 200
    assert client.get("/api/v1/units", headers={"Authorization": "Bearer svar_guess"}).status_code == 401
