"""Effects delivered after the commit through the outbox whose answer nobody reads: an HTTP
call (``httpRequest`` whose output no node reads) and ``delete_recursive``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from runtime import js
from runtime.effects.files import check_paths, delete_paths
from runtime.effects.http import check_destination

if TYPE_CHECKING:
    from runtime.config import Config
    from runtime.execution import Execution


async def defer_http(
    ex: Execution,
    method: str,
    url: object,
    headers: dict[str, object],
    query: dict[str, object],
    body: object,
    timeout_ms: float | None,
) -> None:
    """Queue the call; its destination is checked now, so a refused one is the request's
    400 and not a failure after the commit."""
    target = js.to_string(url)
    own = target.startswith("/")
    if own:
        base = ex.effects.config.self_url or ex.origin
        target = (base or "") + target
    else:
        await check_destination(ex.effects.config, target)

    def text(items: dict[str, object]) -> dict[str, str]:
        return {k: js.to_string(v) for k, v in items.items() if v not in (None, js.UNDEFINED)}

    payload: dict[str, object] = {
        "method": method,
        "url": target,
        "self": own,  # this server itself: not an outbound destination
        "headers": text(headers),
        "query": text(query),
        "body": None if body is js.UNDEFINED else body,
        "timeout": (timeout_ms or 0) / 1000 or None,
    }
    await ex.defer("http", payload, 3, ex.next_effect())


async def deliver_http(config: Config, payload: dict[str, object]) -> None:
    """Make a queued call; a network failure or a 5xx answer is retried."""
    url = str(payload["url"])
    if payload.get("self") is not True:
        await check_destination(config, url)  # again: the address may have changed since
    body = payload.get("body")
    headers = payload.get("headers")
    sent = dict(headers) if isinstance(headers, dict) else {}
    content: bytes | None = None
    if body is not None and payload["method"] not in ("GET", "HEAD"):
        content = body.encode() if isinstance(body, str) else js.to_json_text(body).encode()
        sent.setdefault("content-type", "application/json")
    timeout = payload.get("timeout")
    query = payload.get("query")
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        response = await client.request(
            str(payload["method"]),
            url,
            params=query if isinstance(query, dict) else None,
            headers=sent,
            content=content,
            timeout=float(timeout) if isinstance(timeout, int | float) else config.http_timeout_s,
        )
    if response.status_code >= 500:
        raise RuntimeError(f"the destination answered {response.status_code}")


async def defer_delete(ex: Execution, paths: object) -> None:
    """Queue deleting ``paths`` (checked now against the storage root) after the commit: the
    files go only once the rows that name them are gone."""
    checked = check_paths(ex, paths)
    await ex.defer("delete", {"paths": checked}, 3, ex.next_effect())


async def deliver_delete(config: Config, payload: dict[str, object]) -> None:
    paths = payload.get("paths")
    items = [str(p) for p in paths] if isinstance(paths, list) else []
    await asyncio.to_thread(delete_paths, config.storage_root, items)
