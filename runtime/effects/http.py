"""``n8n-nodes-base.httpRequest``: one outbound HTTP call with httpx.

The answer is data: ``{status, headers, body}`` (the body decoded when it is JSON), whatever
the status. A relative URL calls this server itself (``SELF_URL``, or the address the request
came in on). Absolute URLs pass a destination check (an SSRF guard): with ``HTTP_ALLOW_HOSTS``
set only the hosts, ``host:port`` pairs and CIDR ranges listed; without it any public address,
never loopback, private, link-local or reserved ones. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlencode, urlsplit

import httpx

from runtime import js
from runtime.errors import BadGateway, GatewayTimeout, ValidationFailed

if TYPE_CHECKING:
    from runtime.config import Config
    from runtime.execution import Execution


class HttpResponse(TypedDict):
    status: float
    headers: dict[str, str]
    body: object


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _public(ip: Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _listed(allow: tuple[str, ...], host: str, port: int, ips: list[Address]) -> bool:
    for entry in allow:
        if "/" in entry:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ips and all(ip in net for ip in ips):
                return True
        elif entry.lower() in (host, f"{host}:{port}"):
            return True
    return False


async def _addresses(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise BadGateway(f"The host {host} could not be resolved", "UPSTREAM_UNRESOLVED") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def check_destination(config: Config, url: str) -> None:
    """Refuse a destination the configuration does not allow (400 ``URL_NOT_ALLOWED``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "An outbound URL must be http:// or https:// with a host", "URL_NOT_ALLOWED"
        )
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if config.http_allow and _listed(config.http_allow, host, port, []):
        return  # listed by name: no lookup needed
    if config.http_allow and not any("/" in entry for entry in config.http_allow):
        raise ValidationFailed(
            f"Outbound calls to {host}:{port} are not allowed (HTTP_ALLOW_HOSTS)",
            "URL_NOT_ALLOWED",
        )
    ips = await _addresses(host, port)
    if config.http_allow:
        if _listed(config.http_allow, host, port, ips):
            return
        raise ValidationFailed(
            f"Outbound calls to {host}:{port} are not allowed (HTTP_ALLOW_HOSTS)",
            "URL_NOT_ALLOWED",
        )
    if not all(_public(ip) for ip in ips):
        raise ValidationFailed(
            f"Outbound calls to {host} are refused: it is a loopback, private or reserved "
            "address (list it in HTTP_ALLOW_HOSTS to allow it)",
            "URL_NOT_ALLOWED",
        )


@dataclass(frozen=True)
class Outgoing:
    """A call ready to be made: its destination checked, its query, headers and body
    encoded. What the outbox stores for a call made after the commit."""

    method: str
    url: str
    own: bool  # this server itself (a relative URL): not an outbound destination
    headers: dict[str, str]
    content: str | None
    timeout_s: float

    def payload(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_payload(p: Mapping[str, object]) -> Outgoing:
        headers = p.get("headers")
        content, timeout = p.get("content"), p.get("timeout_s")
        return Outgoing(
            str(p["method"]),
            str(p["url"]),
            p.get("own") is True,
            {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
            content if isinstance(content, str) else None,
            float(timeout) if isinstance(timeout, int | float) else 10.0,
        )


def _present(items: Mapping[str, object]) -> dict[str, str]:
    return {
        k: js.to_string(v) for k, v in items.items() if v is not None and v is not js.UNDEFINED
    }


async def prepare(
    ex: Execution,
    method: str,
    url: object,
    headers: Mapping[str, object],
    query: Mapping[str, object],
    body: object,
    timeout_ms: float | None,
) -> Outgoing:
    """The node's call: a relative URL on this server, an absolute one past the destination
    check (400 ``URL_NOT_ALLOWED``), query parameters appended, the body as JSON (a string as
    text)."""
    config = ex.effects.config
    target = js.to_string(url)
    own = target.startswith("/")
    if own:
        base = config.self_url or ex.origin
        if base is None:
            raise ValidationFailed("A relative URL needs SELF_URL", "URL_NOT_ALLOWED")
        target = base + target
    else:
        await check_destination(config, target)
    params = _present(query)
    if params:
        target += ("&" if urlsplit(target).query else "?") + urlencode(params)
    sent = _present(headers)
    content: str | None = None
    if method not in ("GET", "HEAD") and body is not None and body is not js.UNDEFINED:
        if isinstance(body, str):
            content = body
            sent.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            content = js.to_json_text(body)
            sent.setdefault("content-type", "application/json")
    timeout = (timeout_ms / 1000) if timeout_ms else config.http_timeout_s
    return Outgoing(method, target, own, sent, content, timeout)


async def http_request(
    ex: Execution,
    method: str,
    url: object,
    headers: dict[str, object],
    query: dict[str, object],
    body: object,
    timeout_ms: float | None,
) -> HttpResponse:
    """Make the call and return its answer as data; 502/504 only when there is no answer."""
    call = await prepare(ex, method, url, headers, query, body, timeout_ms)
    limit = ex.effects.config.http_max_bytes
    try:
        async with ex.effects.http.stream(
            call.method,
            call.url,
            headers=call.headers,
            content=call.content.encode() if call.content is not None else None,
            timeout=call.timeout_s,
        ) as response:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise BadGateway(
                        f"The answer is larger than {limit} bytes", "UPSTREAM_TOO_LARGE"
                    )
    except httpx.TimeoutException:
        raise GatewayTimeout(
            f"No answer within {call.timeout_s:g} s", "UPSTREAM_TIMEOUT"
        ) from None
    except httpx.HTTPError as exc:
        raise BadGateway(
            f"The outbound call failed ({type(exc).__name__})", "UPSTREAM_FAILED"
        ) from None
    return {
        "status": float(response.status_code),
        "headers": {k.lower(): v for k, v in response.headers.items()},
        "body": _decode(response.headers.get("content-type", ""), bytes(data)),
    }


def _decode(content_type: str, data: bytes) -> object:
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            return js.from_json(json.loads(text))
        except ValueError:
            return text
    return text
