"""Accounts (``/auth``): register, log in, who am I, and API keys; offers the ``users`` service."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from lumina_core.api.lists import Page
from lumina_core.auth import Forbidden, User, current_user
from lumina_core.auth.accounts import AccountStore
from lumina_core.auth.authenticator import Authenticator, is_loopback
from lumina_core.auth.tokens import TokenIssuer, signing_secret
from lumina_core.context import PluginContext
from lumina_core.hookspecs import hookimpl

log = logging.getLogger("lumina.auth")


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewKey(BaseModel):
    name: str = Field("default", min_length=1, max_length=100, description="What the key is for.")


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    settings = ctx.kernel.settings
    folder = settings.data_dir / "auth"
    accounts = AccountStore(folder)
    ctx.on_stop(accounts.close)
    tokens = TokenIssuer(signing_secret(settings.auth_secret, folder), timedelta(minutes=settings.access_token_minutes))
    anonymous = is_loopback(settings.host) and not settings.require_auth
    return {"users": Authenticator(accounts, tokens, allow_anonymous=anonymous)}


@hookimpl
def startup(ctx: PluginContext) -> None:
    log.info("auth: %s", ctx.kernel.services.get("users").describe_mode())


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    auth: Authenticator = ctx.kernel.services.get("users")
    router = APIRouter(prefix="/auth", tags=["auth"])

    @router.post("/register", status_code=201, summary="Create an account (the first one is an admin)")
    async def register(body: Credentials) -> dict[str, Any]:
        return _user_dict(await auth.accounts.register(body.username, body.password))

    @router.post("/login", summary="Exchange a username and password for an access token")
    async def login(body: Credentials) -> dict[str, Any]:
        user = await auth.accounts.verify_password(body.username, body.password)
        token = auth.tokens.issue(user)
        return {
            "access_token": token.token,
            "token_type": "bearer",
            "expires_in": token.expires_in,
            "expires_at": token.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "user": _user_dict(user),
        }

    @router.get("/me", summary="The account this request acts as")
    async def me(request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
        return {**_user_dict(user), "authenticated_by": request.state.auth_method}

    @router.post("/api-keys", status_code=201, summary="Create an API key (shown once) for programs")
    async def create_key(body: NewKey, user: User = Depends(current_user)) -> dict[str, Any]:
        _require_account(auth, user)
        record, key = auth.accounts.create_key(user, body.name)
        return {**record.to_dict(), "key": key}

    @router.get("/api-keys", summary="Your API keys (without the keys themselves)")
    async def list_keys(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of([k.to_dict() for k in auth.accounts.keys(user.id)])

    @router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke one of your API keys")
    async def revoke_key(key_id: str, user: User = Depends(current_user)) -> Response:
        auth.accounts.revoke_key(user.id, key_id)
        return Response(status_code=204)

    return router


def _require_account(auth: Authenticator, user: User) -> None:
    if auth.accounts.user(user.id) is None:
        raise Forbidden(
            "API keys belong to accounts, and this request acts as the anonymous local user: "
            "register (POST /auth/register), log in (POST /auth/login), then create the key"
        )


def _user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "role": user.role}
