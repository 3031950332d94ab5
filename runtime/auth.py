"""Bearer tokens: JWTs verified with PyJWT; the claims become ``$context.user``."""

from __future__ import annotations

import math
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence

from runtime.config import Config, ConfigError
from runtime.context import User
from runtime.errors import InvalidToken

RSA_KEYS = ("JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY")


def _import_pyjwt() -> None:
    """Import PyJWT, without cryptography when the process's tokens are HS256.

    PyJWT imports cryptography, and with it a second OpenSSL, for its RSA and EC algorithms:
    about 9 MB of resident memory in every worker. A process configured with JWT_SECRET
    (neither RSA key in its environment, the only place the configuration comes from) never
    uses them, so PyJWT is imported with cryptography held back (a ``None`` entry in
    ``sys.modules``, removed right after): it then offers its HMAC algorithms only. Whatever
    else the process imports later can still import cryptography. Where PyJWT or cryptography
    was imported already, or an RSA key is configured, PyJWT is imported as it is.
    """
    if "jwt" in sys.modules or "cryptography" in sys.modules or any(map(os.environ.get, RSA_KEYS)):
        return
    sys.modules["cryptography"] = None  # type: ignore[assignment]
    try:
        import jwt  # noqa: F401
    finally:
        del sys.modules["cryptography"]


_import_pyjwt()
import jwt as jwt  # noqa: E402  (imported above; other modules take it from here)

REQUIRED_CLAIMS = ("sub", "tid", "exp")


def check_algorithm(config: Config) -> None:
    """ConfigError when PyJWT, as this process imported it, cannot handle the configured
    algorithm: an RSA key passed in a configuration of its own, not in the environment."""
    from jwt.algorithms import has_crypto

    if config.jwt_algorithm != "HS256" and not has_crypto:
        raise ConfigError(
            f"{config.jwt_algorithm} tokens need cryptography, which PyJWT was imported "
            f"without: set {' or '.join(RSA_KEYS)} in the environment before the runtime "
            "is imported"
        )


def user_from_token(config: Config, token: str) -> tuple[str, User]:
    """The token's tenant and user; InvalidToken when it is not one we signed or has expired."""
    tenant, user, _ = verify_token(config, token)
    return tenant, user


CACHE_SIZE = 10_000  # verified tokens remembered per process (the least recently used go)
LEEWAY_S = 5
# (tenant, session id, exp, then the user's id, name, email, level, roles, scopes): a tuple
# rather than the User dict, so that ten thousand of them stay small and no request can change
# what the next one gets.
Verified = tuple[str, str, float, str, str, str, float, tuple[str, ...], tuple[str, ...]]
_verified: OrderedDict[tuple[str, str, str], Verified] = OrderedDict()


def verify_token(config: Config, token: str) -> tuple[str, User, str]:
    """The token's tenant, user and session id (its ``sid`` claim, "" without one);
    InvalidToken when it is not one we signed or has expired.

    A token verified once is remembered by its exact text (with the key and algorithm it
    was verified with), up to ``CACHE_SIZE`` of them: signature and claims checks are skipped
    on later requests, its expiry is still checked on every one.
    """
    key = (config.jwt_algorithm, config.jwt_key, token)
    hit = _verified.get(key)
    if hit is not None:
        if time.time() <= hit[2] + LEEWAY_S:
            _verified.move_to_end(key)
            return hit[0], _user(hit), hit[1]
        del _verified[key]
    tenant, user, sid, exp = _verify(config, token)
    entry: Verified = (
        tenant, sid, exp, user["id"], user["name"], user["email"], user["level"],
        tuple(user["roles"]), tuple(user["scopes"]),
    )  # fmt: skip
    _verified[key] = entry
    if len(_verified) > CACHE_SIZE:
        _verified.popitem(last=False)
    return tenant, _user(entry), sid


def _user(entry: Verified) -> User:
    return {
        "id": entry[3],
        "name": entry[4],
        "email": entry[5],
        "level": entry[6],
        "roles": list(entry[7]),
        "scopes": list(entry[8]),
    }


def _verify(config: Config, token: str) -> tuple[str, User, str, float]:
    """Verify with PyJWT: (tenant, user, session id, exp).

    The algorithm comes from the configuration, never from the token's header, so a token
    signed with ``none`` or with the public key as an HMAC secret is refused.
    """
    try:
        claims = jwt.decode(
            token,
            config.jwt_key,
            algorithms=[config.jwt_algorithm],
            options={"require": list(REQUIRED_CLAIMS)},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The token is invalid") from None
    tenant, sub, level = claims.get("tid"), claims.get("sub"), claims.get("level", 0)
    if not isinstance(tenant, str) or not isinstance(sub, str) or not tenant or not sub:
        raise InvalidToken("The token's sub and tid claims must be non-empty strings")
    if not _finite(level):
        raise InvalidToken("The token's level claim must be a number")
    if not _finite(claims.get("exp")):
        raise InvalidToken("The token's exp claim must be a number")
    user: User = {
        "id": sub,
        "name": _text(claims.get("name")),
        "email": _text(claims.get("email")),
        "level": float(level),
        "roles": _texts(claims.get("roles")),
        "scopes": _texts(claims.get("scopes")),
    }
    sid = claims.get("sid")
    return tenant, user, sid if isinstance(sid, str) else "", float(claims["exp"])


def _finite(value: object) -> bool:
    """A JSON number that is a usable double (not a boolean, NaN, infinite or 10**400)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def mint_token(
    config: Config,
    *,
    tenant: str,
    user: str,
    level: int,
    scopes: Sequence[str] = (),
    name: str | None = None,
    email: str | None = None,
    ttl_s: int = 24 * 3600,
) -> str:
    """A development token signed with the configured key."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": user,
        "tid": tenant,
        "name": name or user,
        "email": email or f"{user}@{tenant}.example",
        "level": level,
        "roles": [],
        "scopes": list(scopes),
        "iat": now,
        "exp": now + ttl_s,
    }
    if config.jwt_algorithm == "RS256":
        if not config.jwt_private_key:
            raise ValueError("minting RS256 tokens needs JWT_PRIVATE_KEY")
        return jwt.encode(claims, config.jwt_private_key, algorithm="RS256")
    return jwt.encode(claims, config.jwt_key, algorithm="HS256")
