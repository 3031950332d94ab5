"""The execution context an expression sees as ``$context``."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class User(TypedDict):
    id: str
    name: str
    level: float
    email: str
    roles: list[str]
    scopes: list[str]


class RequestInfo(TypedDict):
    method: str
    headers: dict[str, str]
    path: str


class Context(TypedDict):
    tenantId: str
    user: NotRequired[User]
    request: RequestInfo
    token: NotRequired[str]  # the bearer token of the request (never logged or recorded)
    sessionId: NotRequired[str]  # the token's `sid` claim ("" without one)


def context_from_json(value: object) -> Context:
    """Build a Context from JSON data (as the ``expr`` command receives it); ValueError if
    the data does not have the Context shape."""
    if not isinstance(value, dict):
        raise ValueError("the context must be an object")
    tenant = value.get("tenantId", "")
    if not isinstance(tenant, str):
        raise ValueError("context.tenantId must be a string")
    req = value.get("request") or {}
    if not isinstance(req, dict):
        raise ValueError("context.request must be an object")
    headers = req.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("context.request.headers must map names to strings")
    ctx: Context = {
        "tenantId": tenant,
        "request": {
            "method": str(req.get("method", "POST")),
            "headers": {str(k): v for k, v in headers.items()},
            "path": str(req.get("path", "/")),
        },
    }
    user = value.get("user")
    if user is not None:
        if not isinstance(user, dict):
            raise ValueError("context.user must be an object")
        level = user.get("level", 0)
        if isinstance(level, bool) or not isinstance(level, (int, float)):
            raise ValueError("context.user.level must be a number")
        roles, scopes = user.get("roles", []), user.get("scopes", [])
        for name, items in (("roles", roles), ("scopes", scopes)):
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                raise ValueError(f"context.user.{name} must be a list of strings")
        for key in ("id", "name", "email"):
            if not isinstance(user.get(key, ""), str):
                raise ValueError(f"context.user.{key} must be a string")
        ctx["user"] = {
            "id": user.get("id", ""),
            "name": user.get("name", ""),
            "level": float(level),
            "email": user.get("email", ""),
            "roles": list(roles),
            "scopes": list(scopes),
        }
    return ctx
