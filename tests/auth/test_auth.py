"""Accounts over real HTTP: register, log in, tokens that expire, API keys, roles and modes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from lumina_core.auth import User
from lumina_core.testing import Host, HostFactory


async def register_and_login(host: Host, name: str, password: str = "correct horse") -> dict[str, str]:
    assert (await host.client.post("/auth/register", json={"username": name, "password": password})).status_code == 201
    login = await host.client.post("/auth/login", json={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_register_login_and_me(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        first = await register_and_login(host, "ada")
        second = await register_and_login(host, "bob")
        me = (await host.client.get("/auth/me", headers=first)).json()
        assert (me["username"], me["role"], me["authenticated_by"]) == ("ada", "admin", "token")
        assert (await host.client.get("/auth/me", headers=second)).json()["role"] == "user"


async def test_login_answers_the_same_for_a_wrong_name_or_password(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        await register_and_login(host, "ada")
        for body in ({"username": "ada", "password": "wrong password"}, {"username": "nobody", "password": "x" * 9}):
            response = await host.client.post("/auth/login", json=body)
            assert response.status_code == 401
            assert response.json()["error"] == {"type": "unauthenticated", "message": "wrong username or password"}


async def test_bad_registrations_are_refused_clearly(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        await register_and_login(host, "ada")
        taken = await host.client.post("/auth/register", json={"username": "ADA", "password": "long enough"})
        assert (taken.status_code, taken.json()["error"]["field"]) == (409, "username")
        short = await host.client.post("/auth/register", json={"username": "cy", "password": "long enough"})
        assert short.status_code == 422 and "3 to 64 characters" in short.json()["error"]["message"]
        weak = await host.client.post("/auth/register", json={"username": "cyd", "password": "short"})
        assert weak.status_code == 422 and weak.json()["error"]["field"] == "password"
        wrong_type = await host.client.post("/auth/register", json={"username": 5, "password": ["x"]})
        assert wrong_type.status_code == 422


async def test_an_expired_or_forged_token_is_refused(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        await register_and_login(host, "ada")
        users = host.kernel.services.get("users")
        ada = await users.accounts.verify_password("ada", "correct horse")
        expired = users.tokens.issue(ada, lifetime=timedelta(seconds=-5)).token
        response = await host.client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
        assert response.status_code == 401
        assert "expired" in response.json()["error"]["message"]
        assert response.headers["www-authenticate"] == "Bearer"
        forged = users.tokens.issue(User(id=ada.id, name="ada")).token[:-4] + "AAAA"
        assert (await host.client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
        garbled = await host.client.get("/auth/me", headers={"Authorization": "Basic abc"})
        assert garbled.status_code == 401 and "Bearer" in garbled.json()["error"]["message"]


async def test_api_keys_authenticate_until_revoked(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        ada = await register_and_login(host, "ada")
        bob = await register_and_login(host, "bob")
        created = await host.client.post("/auth/api-keys", json={"name": "laptop"}, headers=ada)
        assert created.status_code == 201
        key = created.json()["key"]
        as_key = {"Authorization": f"Bearer {key}"}
        me = (await host.client.get("/auth/me", headers=as_key)).json()
        assert (me["username"], me["authenticated_by"]) == ("ada", "api_key")
        listed = (await host.client.get("/auth/api-keys", headers=ada)).json()["items"]
        assert [k["name"] for k in listed] == ["laptop"] and "key" not in listed[0]
        assert (await host.client.get("/auth/api-keys", headers=bob)).json()["items"] == []
        key_id = created.json()["id"]
        assert (await host.client.delete(f"/auth/api-keys/{key_id}", headers=bob)).status_code == 404
        assert (await host.client.delete(f"/auth/api-keys/{key_id}", headers=ada)).status_code == 204
        revoked = await host.client.get("/auth/me", headers=as_key)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


async def test_keys_are_stored_hashed(lumina_host: HostFactory, lumina_data_dir) -> None:
    async with lumina_host(plugins=[]) as host:
        ada = await register_and_login(host, "ada")
        key = (await host.client.post("/auth/api-keys", json={}, headers=ada)).json()["key"]
    stored = (lumina_data_dir / "auth" / "accounts.sqlite3").read_bytes()
    assert key.split("_", 2)[2].encode() not in stored
    assert b"correct horse" not in stored and b"$argon2" in stored


async def test_anonymous_local_user_cannot_create_keys(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        response = await host.client.post("/auth/api-keys", json={"name": "x"})
        assert response.status_code == 403 and "register" in response.json()["error"]["message"]


async def test_on_loopback_anonymous_requests_act_as_the_local_user(lumina_host: HostFactory, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="lumina.auth"):
        async with lumina_host(plugins=[]) as host:
            me = (await host.client.get("/auth/me")).json()
    assert (me["id"], me["authenticated_by"]) == ("local", "anonymous")
    assert "anonymous requests from loopback act as the local user" in caplog.text


@pytest.mark.parametrize("settings", [{"require_auth": True}, {"host": "0.0.0.0"}])
async def test_auth_is_required_when_asked_or_beyond_loopback(lumina_host: HostFactory, settings, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="lumina.auth"):
        async with lumina_host(plugins=[], **settings) as host:
            anonymous = await host.client.get("/auth/me")
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"] == "Bearer"
            assert (await host.client.get("/plugins")).status_code == 401
            ada = await register_and_login(host, "ada")
            assert (await host.client.get("/auth/me", headers=ada)).status_code == 200
    assert "every request must authenticate" in caplog.text


async def test_plugin_administration_needs_the_admin_role(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[], require_auth=True) as host:
        admin = await register_and_login(host, "ada")
        user = await register_and_login(host, "bob")
        refused = await host.client.post("/plugins/anything/disable", headers=user)
        assert refused.status_code == 403 and "admin role" in refused.json()["error"]["message"]
        assert (await host.client.get("/plugins", headers=user)).status_code == 200
        allowed = await host.client.post("/plugins/anything/disable", headers=admin)
        assert allowed.status_code == 404  # past the role check: there is no such plugin


async def test_accounts_and_tokens_survive_a_restart(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[]) as host:
        ada = await register_and_login(host, "ada")
    async with lumina_host(plugins=[]) as host:
        assert (await host.client.get("/auth/me", headers=ada)).json()["username"] == "ada"
