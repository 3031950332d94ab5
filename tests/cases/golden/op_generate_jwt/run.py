"""generate_jwt: signed with the runtime's key and algorithm, verifiable by its own auth;
the request's tenant, a session id (`sid`), the payload and a two-hour expiry."""

from __future__ import annotations

import time

import jwt

from runtime.auth import verify_token
from tests.golden_harness import Harness


async def check(h: Harness) -> None:
    status, body = await h.run("session", {})
    assert status == 200 and isinstance(body, dict), body
    token = str(body["token"])
    assert body["session"] == ""  # this request carried no token of its own
    config = h.effects.config
    claims = jwt.decode(token, config.jwt_key, algorithms=[config.jwt_algorithm])
    assert claims["sub"] == "u1" and claims["tid"] == "acme" and claims["role"] == "member"
    assert claims["email"] == "u1@example.com" and len(claims["sid"]) >= 16
    assert abs(claims["exp"] - time.time() - 7200) < 60
    tenant, user, sid = verify_token(config, token)
    assert (tenant, user["id"], sid) == ("acme", "u1", claims["sid"])
