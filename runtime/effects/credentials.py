"""Password hashes, tokens and digests (``bcrypt_hash``, ``bcrypt_compare``, ``generate_jwt``,
``generate_random_token``, ``sha256``).

bcrypt runs in a worker thread (the library releases the GIL), so a log-in's hash never
blocks other requests. Their results are sensitive: the compiler refuses a log node that would
write one, and nothing here puts a value in an error message.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from typing import TYPE_CHECKING

import bcrypt

from runtime import js
from runtime.auth import jwt
from runtime.errors import ServiceUnavailable, ValidationFailed

if TYPE_CHECKING:
    from runtime.execution import Execution

MAX_PASSWORD_BYTES = 72  # bcrypt's limit: longer inputs are refused, not truncated
# A valid hash of cost 12 compared against when a user has none, so a missing account costs
# the same time as a wrong password.
_DUMMY = b"$2b$12$WcaYDhd68/svJdy8XQF2DetlOQjoybWNfNSRm.hZFfUAjzdRxMZei"


def _password(node: str, value: object) -> bytes:
    data = js.to_string(value).encode()
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(
            f"The password is longer than {MAX_PASSWORD_BYTES} bytes (node {node})",
            "PASSWORD_TOO_LONG",
        )
    return data


async def bcrypt_hash(node: str, value: object, rounds: int) -> str:
    password = _password(node, value)
    hashed = await asyncio.to_thread(bcrypt.hashpw, password, bcrypt.gensalt(rounds))
    return hashed.decode()


async def bcrypt_compare(node: str, value: object, hashed: object) -> bool:
    """Whether ``value`` matches the bcrypt hash ``hashed``; false for a missing or malformed
    hash (compared against a dummy hash all the same: the time does not tell which)."""
    password = _password(node, value)
    real = isinstance(hashed, str) and hashed.startswith(("$2a$", "$2b$", "$2y$"))
    target = hashed.encode() if real and isinstance(hashed, str) else _DUMMY
    try:
        same = await asyncio.to_thread(bcrypt.checkpw, password, target)
    except ValueError:  # a malformed hash
        return False
    return same and real


def generate_jwt(ex: Execution, payload: object, expires_in_s: int) -> str:
    """A token signed with the runtime's own key and algorithm: the payload's claims, the
    request's tenant (``tid``), ``sub`` from the payload's ``userId``, a fresh session id
    (``sid``, read back as ``$context.sessionId``), ``iat`` and ``exp``."""
    config = ex.effects.config
    claims: dict[str, object] = dict(payload) if isinstance(payload, dict) else {}
    claims = {k: v for k, v in claims.items() if v is not js.UNDEFINED}
    user = claims.get("sub", claims.get("userId"))
    if isinstance(user, str) and user:
        claims["sub"] = user
    now = int(time.time())
    claims.update(
        tid=ex.context["tenantId"], sid=secrets.token_urlsafe(16), iat=now, exp=now + expires_in_s
    )
    if config.jwt_algorithm == "RS256":
        if not config.jwt_private_key:
            raise ServiceUnavailable(
                "Signing tokens needs JWT_PRIVATE_KEY (RS256)", "SIGNING_KEY_MISSING"
            )
        return jwt.encode(claims, config.jwt_private_key, algorithm="RS256")
    return jwt.encode(claims, config.jwt_key, algorithm="HS256")


def random_token(length: int) -> str:
    """``length`` random bytes from ``secrets``, URL-safe base64 without padding (32 bytes
    give 43 characters)."""
    return secrets.token_urlsafe(length)


def sha256_hex(value: object) -> str:
    """The SHA-256 of the value's text (UTF-8), as 64 lowercase hex digits."""
    return hashlib.sha256(js.to_string(value).encode()).hexdigest()
